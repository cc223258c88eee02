import { createServer, Server } from 'node:http';
import { AddressInfo, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { fetchThrough, outboundAgent } from './outbound-http';
import { OutboundPolicy } from './outbound-policy';

const enforced = (...allowed: Array<[string, number, 'ipv4' | 'ipv6']>) =>
  new OutboundPolicy({ enforce: true, allowedNetworks: allowed.map(([address, prefix, family]) => ({ address, prefix, family })) });

/** Resolves with the error a socket reported, or null once it connected. */
function outcome(socket: ReturnType<typeof netConnect>): Promise<(Error & { code?: string }) | null> {
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error) => resolve(error));
  });
}

describe('outbound policy on real sockets', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('a socket given the lookup cannot reach a name that resolves to loopback (as imapflow passes it through tls options)', async () => {
    const policy = enforced();
    for (const autoSelectFamily of [true, false]) {
      const refused = await outcome(netConnect({ host: 'localhost', port, lookup: policy.lookup, autoSelectFamily }));
      expect(refused).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', host: 'localhost', reason: 'loopback' });
    }
    const tls = await outcome(tlsConnect({ host: 'localhost', port, servername: 'localhost', lookup: policy.lookup }));
    expect(tls).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED' });
    expect(await outcome(netConnect({ host: 'localhost', port, lookup: enforced(['127.0.0.0', 8, 'ipv4']).lookup }))).toBeNull();
  });

  it('the agent refuses loopback literals and names, plain http to an address not listed, and connects once the network is listed', async () => {
    const agent = outboundAgent(enforced());
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `https://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      await expect(request(url, { dispatcher: agent })).rejects.toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED' });
    }
    await agent.close();

    const opened = outboundAgent(enforced(['127.0.0.0', 8, 'ipv4']));
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
      const response = await request(url, { dispatcher: opened });
      expect(await response.body.text()).toBe('ok');
    }
    const fetched = await fetchThrough(opened)(`http://localhost:${port}/`);
    expect(await fetched.text()).toBe('ok');
    await opened.close();
  });

  it('fetch through the agent carries the refusal as its cause', async () => {
    const agent = outboundAgent(enforced());
    const failure = await fetchThrough(agent)(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as { cause?: unknown }).cause).toMatchObject({ code: 'OUTBOUND_ADDRESS_REFUSED', address: '127.0.0.1' });
    await agent.close();
  });

  it('does nothing outside production', async () => {
    const agent = outboundAgent(OutboundPolicy.allowAll());
    const response = await request(`http://localhost:${port}/`, { dispatcher: agent });
    expect(await response.body.text()).toBe('ok');
    await agent.close();
  });
});
