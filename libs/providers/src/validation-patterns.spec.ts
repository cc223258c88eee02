import { isIP } from 'node:net';
import { DOMAIN_PATTERN, HOST_PATTERN, TENANT_PATTERN } from './validation-patterns';

describe('HOST_PATTERN', () => {
  it.each(['localhost', 'mail.contoso.com', 'OUTLOOK.office365.com', 'xn--bcher-kva.example', 'a-b.c', '127.0.0.1', '255.255.255.255', '::1', '::', '2001:db8::25', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '1::', '1:2:3:4:5:6:7::', '::ffff:192.0.2.1', '1::2:192.0.2.1', '1:2:3:4:5:6:1.2.3.4'])(
    'accepts %j',
    (host) => expect(HOST_PATTERN.test(host)).toBe(true),
  );

  it.each([':::::', '::::', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '1.2.3.999', '256.1.1.1', '01.2.3.4', '1.2.3', '999', '-mail.contoso.com', 'mail-.contoso.com', 'mail..contoso.com', '.contoso.com', 'mail.contoso.com.', 'mail_contoso.com', 'fe80::1%eth0', '[::1]', 'exa mple.com', 'mail.contoso.com:993', 'imaps://mail.contoso.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}com`, ''])(
    'refuses %j',
    (host) => expect(HOST_PATTERN.test(host)).toBe(false),
  );

  it('agrees with Node on every IP-looking string made of a few groups', () => {
    const parts = ['', '0', '1', 'ffff', 'fffff', '1.2.3.4', '300.1.1.1'];
    const disagreements: string[] = [];
    for (const a of parts) for (const b of parts) for (const c of parts) for (const sep of [':', '::']) {
      for (const candidate of [`${a}${sep}${b}${sep}${c}`, `${a}:${b}${sep}${c}`, `::${a}:${b}`, `${a}::`]) {
        if (!candidate.includes(':')) continue;
        if (HOST_PATTERN.test(candidate) !== (isIP(candidate) === 6)) disagreements.push(candidate);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('has no flags, so the OpenAPI document can carry it as it is', () => {
    for (const pattern of [HOST_PATTERN, DOMAIN_PATTERN, TENANT_PATTERN]) expect(pattern.flags).toBe('');
  });
});

describe('DOMAIN_PATTERN and TENANT_PATTERN', () => {
  it('domains have two labels or more and a letter in the last', () => {
    expect(['contoso.com', 'Fabrikam.NET', 'eu.contoso.co.uk'].every((d) => DOMAIN_PATTERN.test(d))).toBe(true);
    expect(['contoso', 'not a domain', '1.2.3.4', 'contoso..com'].some((d) => DOMAIN_PATTERN.test(d))).toBe(false);
  });

  it('tenants are an alias, a GUID or a domain', () => {
    expect(['common', 'organizations', 'consumers', '72F988BF-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com'].every((t) => TENANT_PATTERN.test(t))).toBe(true);
    expect(['not a tenant', 'contoso', ''].some((t) => TENANT_PATTERN.test(t))).toBe(false);
  });
});
