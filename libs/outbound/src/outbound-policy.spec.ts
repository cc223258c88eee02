import type { LookupAddress } from 'node:dns';
import { loadConfig } from '@app/config';
import { OutboundAddressRefusedError, outboundRefusalOf } from './outbound-address-refused.error';
import { OutboundPolicy, OutboundResolver } from './outbound-policy';

const production = (allowed = '', resolver?: OutboundResolver) => {
  const config = loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), API_KEYS: 'k'.repeat(16), OUTBOUND_ALLOWED_NETWORKS: allowed });
  return resolver ? new OutboundPolicy({ enforce: true, allowedNetworks: config.outbound.allowedNetworks, resolver }) : OutboundPolicy.fromConfig(config);
};

/** Runs the policy's lookup the way a socket does and returns what it answered. */
function lookUp(policy: OutboundPolicy, host: string, options: { all?: boolean; plaintext?: boolean } = {}): Promise<{ error: Error | null; address: unknown; family?: number }> {
  const lookup = options.plaintext ? policy.plaintextLookup : policy.lookup;
  return new Promise((resolve) => lookup(host, { all: options.all ?? false }, (error, address, family) => resolve({ error, address, family })));
}

const answers =
  (...addresses: string[]): OutboundResolver =>
  (_host, _options, callback) =>
    callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('OutboundPolicy', () => {
  const policy = production();

  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.127.255.255', 'shared (carrier-grade NAT)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['169.254.0.1', 'link-local (cloud metadata)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local (cloud metadata)'],
    ['febf:ffff::1', 'link-local (cloud metadata)'],
    ['fe80::1%eth0', 'link-local (cloud metadata)'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['::ffff:0:7f00:1', 'reserved'],
    ['64:ff9b:1::a00:1', 'private'],
    // IPv4-mapped IPv6, in every spelling, is judged as the IPv4 address it maps.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::FFFF:A9FE:A9FE', 'link-local (cloud metadata)'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:100.64.0.1', 'shared (carrier-grade NAT)'],
    // NAT64 (64:ff9b::/96) is judged by the IPv4 address the gateway connects to.
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata)'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'not an IP address'],
  ])('refuses %s in production (%s)', (address, reason) => {
    expect(policy.refusalOf(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '20.190.160.1', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700:4700::1111', '2603:1026::1', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets the public address %s through',
    (address) => {
      expect(policy.refusalOf(address)).toBeNull();
    },
  );

  it('allows everything in development (NODE_ENV other than production)', async () => {
    for (const env of ['development', 'test'] as const) {
      const open = OutboundPolicy.fromConfig(loadConfig({ NODE_ENV: env }));
      expect(open.enforced).toBe(false);
      expect(open.refusalOf('127.0.0.1')).toBeNull();
      expect(open.refusalOf('169.254.169.254', { plaintext: true })).toBeNull();
      expect(() => open.checkHost('::ffff:127.0.0.1')).not.toThrow();
      expect(open.urlProblem('http://localhost:8080')).toBeNull();
    }
    const open = new OutboundPolicy({ enforce: false, allowedNetworks: [], resolver: answers('127.0.0.1') });
    expect(await lookUp(open, 'anything.test')).toEqual({ error: null, address: '127.0.0.1', family: 4 });
  });

  it('lets OUTBOUND_ALLOWED_NETWORKS open internal networks, IPv4-mapped spellings included, and nothing more', () => {
    const opened = production('10.0.0.0/8,127.0.0.1/32,fd00:1234::/32');
    expect(opened.refusalOf('10.9.9.9')).toBeNull();
    expect(opened.refusalOf('::ffff:10.9.9.9')).toBeNull();
    expect(opened.refusalOf('::ffff:a09:909')).toBeNull();
    expect(opened.refusalOf('127.0.0.1')).toBeNull();
    expect(opened.refusalOf('127.0.0.2')).toBe('loopback');
    expect(opened.refusalOf('fd00:1234::25')).toBeNull();
    expect(opened.refusalOf('fd00:1235::25')).toBe('private');
    expect(opened.refusalOf('169.254.169.254')).toBe('link-local (cloud metadata)');
    expect(opened.refusalOf('192.168.0.1')).toBe('private');
  });

  it('refuses plain http unless the allow list names the address', () => {
    const opened = production('10.0.0.0/8');
    expect(opened.refusalOf('8.8.8.8', { plaintext: true })).toBe('plain http');
    expect(opened.refusalOf('127.0.0.1', { plaintext: true })).toBe('loopback');
    expect(opened.refusalOf('10.1.1.1', { plaintext: true })).toBeNull();
  });

  it('checks IP literals before connecting, with a typed error naming the host, the address and how to allow it', () => {
    const refusal = (() => {
      try {
        policy.checkHost('[::ffff:127.0.0.1]');
      } catch (error) {
        return error;
      }
      throw new Error('expected a refusal');
    })();
    expect(refusal).toBeInstanceOf(OutboundAddressRefusedError);
    expect(refusal).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', host: '[::ffff:127.0.0.1]', address: '::ffff:127.0.0.1', reason: 'loopback' });
    expect((refusal as Error).message).toBe(
      'Refused to connect to [::ffff:127.0.0.1] (::ffff:127.0.0.1): loopback addresses are not reached in production; if this server is meant to be reached, add its network to OUTBOUND_ALLOWED_NETWORKS (e.g. ::ffff:127.0.0.1/128)',
    );
    expect(() => policy.checkHost('169.254.169.254')).toThrow(
      'Refused to connect to 169.254.169.254: link-local (cloud metadata) addresses are not reached in production; if this server is meant to be reached, add its network to OUTBOUND_ALLOWED_NETWORKS (e.g. 169.254.169.254/32)',
    );
    expect(() => policy.checkHost('8.8.8.8', { plaintext: true })).toThrow(/Refused plain http to 8.8.8.8: .*OUTBOUND_ALLOWED_NETWORKS lists the address \(e.g. 8.8.8.8\/32\)/);
    // Names are judged by the lookup, on what they resolve to.
    expect(() => policy.checkHost('localhost')).not.toThrow();
    expect(() => policy.checkHost('8.8.8.8')).not.toThrow();
  });

  it('judges host names at lookup time, on every answer: refused when no address is permitted, else only the permitted ones', async () => {
    const rebinding = production('', answers('127.0.0.1'));
    const refused = await lookUp(rebinding, 'rebind.attacker.test');
    expect(refused.error).toBeInstanceOf(OutboundAddressRefusedError);
    expect(refused.error?.message).toMatch(/^Refused to connect to rebind.attacker.test \(127.0.0.1\): loopback addresses/);

    const mixed = production('', answers('::1', '93.184.216.34', '10.0.0.1', '2606:2800:220:1::1'));
    expect(await lookUp(mixed, 'mixed.test')).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect((await lookUp(mixed, 'mixed.test', { all: true })).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);

    const plain = production('10.0.0.0/8', answers('93.184.216.34', '10.0.0.7'));
    expect(await lookUp(plain, 'intranet.test', { plaintext: true })).toEqual({ error: null, address: '10.0.0.7', family: 4 });
  });

  it('judges each lookup on its own answer, so a name that turns internal after a first check is refused', async () => {
    let answer = '93.184.216.34';
    const flipping = production('', (_host, _options, callback) => callback(null, [{ address: answer, family: 4 }]));
    expect((await lookUp(flipping, 'flip.test')).address).toBe('93.184.216.34');
    answer = '169.254.169.254';
    expect((await lookUp(flipping, 'flip.test')).error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', reason: 'link-local (cloud metadata)' });
  });

  it('passes resolver failures through unchanged and resolves localhost with the system resolver', async () => {
    const failing = production('', (_host, _options, callback) => callback(Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' }), []));
    expect((await lookUp(failing, 'nope.test')).error).toMatchObject({ code: 'ENOTFOUND' });
    expect((await lookUp(policy, 'localhost')).error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', reason: 'loopback' });
    expect((await lookUp(production('127.0.0.0/8,::1/128'), 'localhost')).error).toBeNull();
  });

  it.each(['127.1', '2130706433', '0x7f.0.0.1', '0177.0.0.1'])('the legacy IPv4 spelling %s is no IP literal to a socket, and its lookup is refused', async (host) => {
    expect(() => policy.checkHost(host)).not.toThrow();
    expect((await lookUp(policy, host)).error).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', address: '127.0.0.1', reason: 'loopback' });
  });

  it('finds the refusal inside wrapping errors (fetch, msal)', () => {
    const refusal = new OutboundAddressRefusedError('h', '10.0.0.1', 'private');
    expect(outboundRefusalOf(new TypeError('fetch failed', { cause: refusal }))).toBe(refusal);
    expect(outboundRefusalOf(Object.assign(new Error('network_error'), { cause: { cause: refusal } }))).toBe(refusal);
    expect(outboundRefusalOf(new Error('ECONNREFUSED'))).toBeNull();
  });

  it('requires https for identity and Graph endpoints in production, plain http only to an allow-listed IP', () => {
    expect(policy.urlProblem('https://login.microsoftonline.com')).toBeNull();
    expect(policy.urlProblem('https://127.0.0.1:8443')).toBeNull(); // refused when connecting, not here
    expect(policy.urlProblem('http://login.example.com')).toMatch(/^must be https in production/);
    expect(policy.urlProblem('http://127.0.0.1:8080')).toMatch(/^must be https in production/);
    const opened = production('127.0.0.0/8,fd00::/8');
    expect(opened.urlProblem('http://127.0.0.1:8080/v1.0')).toBeNull();
    expect(opened.urlProblem('http://[fd00::5]:8080')).toBeNull();
    expect(opened.urlProblem('http://localhost:8080')).toMatch(/^must be https/);
    expect(opened.urlProblem('http://2130706433:8080')).toBeNull(); // the URL parser spells it 127.0.0.1
  });
});
