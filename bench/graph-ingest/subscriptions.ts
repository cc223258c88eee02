import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { hashClientState } from '@app/graph';

/** A seeded Graph subscription with the clientState a notification must carry. */
export interface BenchSubscription {
  id: string;
  clientState: string;
  mailboxId: string;
  folderId: string;
}

/**
 * N Graph mailboxes (one INBOX folder each) and a live subscription per folder, inserted in bulk the way
 * the listener stores them (only the SHA-256 of the clientState). `graphBaseUrl` points the provider at
 * the Graph a later phase talks to (a fake one).
 */
export async function seedGraphSubscriptions(databaseUrl: string, count: number, graphBaseUrl = 'https://graph.microsoft.com/v1.0'): Promise<BenchSubscription[]> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const [{ id: providerId }] = (
      await pg.query(
        `INSERT INTO providers (name, type, secure, verify_certificate, load_emails, send_emails, login_format, auth_method, oauth_client_id, oauth_tenant, oauth_authority_host, graph_base_url, oauth_issuer)
         VALUES ('Bench Graph', 'microsoft-graph', true, true, true, false, 'email', 'oauth2', 'bench-client', 'organizations', 'https://login.microsoftonline.com', $1, 'microsoft') RETURNING id`,
        [graphBaseUrl],
      )
    ).rows;
    const seeded: BenchSubscription[] = [];
    for (let start = 0; start < count; start += 1000) {
      const emails = Array.from({ length: Math.min(1000, count - start) }, (_, i) => `g${start + i}@bench-graph.test`);
      const mailboxes = (await pg.query(`INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT e, $1, e, true FROM unnest($2::text[]) e RETURNING id`, [providerId, emails])).rows;
      const folders = (await pg.query(`INSERT INTO mailbox_folders (mailbox_id, path, position) SELECT unnest($1::uuid[]), 'INBOX', 0 RETURNING id, mailbox_id`, [mailboxes.map((m) => m.id)])).rows;
      const chunk = folders.map((folder) => ({ id: randomUUID(), clientState: randomBytes(32).toString('base64url'), mailboxId: folder.mailbox_id as string, folderId: folder.id as string }));
      await pg.query(
        `INSERT INTO graph_subscriptions (subscription_id, folder_id, mailbox_id, client_state_hash, resource, expires_at)
         SELECT s, f, m, h, 'me/mailFolders(''inbox'')/messages', now() + interval '3 days' FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::bytea[]) AS t(s, f, m, h)`,
        [chunk.map((s) => s.id), chunk.map((s) => s.folderId), chunk.map((s) => s.mailboxId), chunk.map((s) => hashClientState(s.clientState))],
      );
      seeded.push(...chunk);
    }
    return seeded;
  } finally {
    await pg.end();
  }
}
