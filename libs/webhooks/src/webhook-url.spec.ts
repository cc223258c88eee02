import type { LookupAddress } from 'node:dns';
import { OutboundPolicy, OutboundResolver } from '@app/outbound';
import { webhookUrlProblem } from './webhook-url';

const answers =
  (...addresses: string[]): OutboundResolver =>
  (_host, _options, callback) =>
    callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
const production = (resolver: OutboundResolver, allowed: Array<[string, number]> = []) =>
  new OutboundPolicy({ enforce: true, allowedNetworks: allowed.map(([address, prefix]) => ({ address, prefix, family: 'ipv4' as const })), resolver });

describe('webhookUrlProblem (registration checks, production policy)', () => {
  it('accepts an https URL whose host resolves to a public address', async () => {
    expect(await webhookUrlProblem('https://crm.example.com/hooks', production(answers('93.184.216.34')))).toBeNull();
  });

  it('refuses a name that resolves to an internal address unless OUTBOUND_ALLOWED_NETWORKS lists it, naming the class and the fix', async () => {
    const problem = await webhookUrlProblem('https://crm.internal/hooks', production(answers('10.1.2.3')));
    expect(problem).toBe(
      'Refused to connect to crm.internal (10.1.2.3): private addresses are not reached in production; if this server is meant to be reached, add its network to OUTBOUND_ALLOWED_NETWORKS (e.g. 10.1.2.3/32)',
    );
    expect(await webhookUrlProblem('https://crm.internal/hooks', production(answers('10.1.2.3'), [['10.0.0.0', 8]]))).toBeNull();
  });

  it('refuses internal IP literals (cloud metadata, loopback) before any lookup', async () => {
    expect(await webhookUrlProblem('https://169.254.169.254/latest', production(answers()))).toMatch(/link-local \(cloud metadata\) addresses are not reached in production/);
    expect(await webhookUrlProblem('https://[::ffff:127.0.0.1]/x', production(answers()))).toMatch(/loopback addresses/);
  });

  it('needs https in production unless the address is allow-listed', async () => {
    expect(await webhookUrlProblem('http://crm.example.com/hooks', production(answers('93.184.216.34')))).toMatch(/^must be https in production/);
    expect(await webhookUrlProblem('http://crm.internal/hooks', production(answers('10.1.2.3'), [['10.0.0.0', 8]]))).toBeNull();
  });

  it('names the other reasons: not http(s), credentials, unresolvable', async () => {
    const open = OutboundPolicy.allowAll();
    expect(await webhookUrlProblem('ftp://crm.example.com/x', open)).toBe('must be an http(s) URL (not ftp)');
    expect(await webhookUrlProblem('https://a:b@crm.example.com/x', open)).toMatch(/^must not carry credentials/);
    const failing: OutboundResolver = (_h, _o, callback) => callback(Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' }), []);
    expect(await webhookUrlProblem('https://nope.test/x', production(failing))).toBe('host nope.test does not resolve (ENOTFOUND)');
  });
});
