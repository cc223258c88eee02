import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { OutboundPolicy } from '@app/outbound';
import { GraphApiError } from './graph-api.error';
import { GraphMailboxClient } from './graph-mailbox.client';

/** A local "Graph" answering every request; counts what reached it. */
describe('GraphMailboxClient under the outbound policy', () => {
  let server: Server;
  let base: string;
  let reached = 0;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      reached += 1;
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ id: 'inbox-id', displayName: 'Inbox' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const clientFor = (outbound: OutboundPolicy, baseUrl = base) => {
    const sleeps: number[] = [];
    const client = new GraphMailboxClient({ baseUrl, user: 'ana@contoso.com', accessToken: async () => 'token', outbound, sleep: async (ms) => void sleeps.push(ms) });
    return { client, sleeps };
  };

  it('refuses a Graph address on loopback at once (no retries), with the code and the way to allow it; nothing reaches the server', async () => {
    for (const url of [base, base.replace('127.0.0.1', 'localhost')]) {
      const { client, sleeps } = clientFor(new OutboundPolicy({ enforce: true, allowedNetworks: [] }), url);
      const error = await client.resolveFolder('INBOX').catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(GraphApiError);
      expect(error).toMatchObject({ kind: 'network', code: 'OUTBOUND_ADDRESS_REFUSED' });
      expect((error as Error).message).toMatch(/Refused to connect to (127\.0\.0\.1|localhost \(127\.0\.0\.1\)): loopback addresses .*OUTBOUND_ALLOWED_NETWORKS/);
      expect(sleeps).toEqual([]);
      await client.close();
    }
    expect(reached).toBe(0);
  });

  it('plain http needs the allow list; listed, the request goes through', async () => {
    const { client } = clientFor(new OutboundPolicy({ enforce: true, allowedNetworks: [{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }] }));
    await expect(client.resolveFolder('INBOX')).resolves.toMatchObject({ id: 'inbox-id' });
    await client.close();
    const open = clientFor(OutboundPolicy.allowAll());
    await expect(open.client.resolveFolder('INBOX')).resolves.toMatchObject({ id: 'inbox-id' });
    await open.client.close();
  });
});
