import type { ImapFlow } from 'imapflow';
import { examineFolder } from './examine-folder';

/** imapflow's own normalizePath, which keys its folder cache: the key examineFolder seeds must be the same. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { normalizePath } = require('imapflow/lib/tools.js') as { normalizePath(client: unknown, path: string): string };

describe('examineFolder', () => {
  function clientWith(namespace: { prefix: string; delimiter: string } | undefined) {
    const folders = new Map<string, { path: string; delimiter?: string; listed: boolean }>();
    const opened: string[] = [];
    const client = { folders, namespace, mailboxOpen: async (path: string) => opened.push(path) };
    return { client, folders, opened };
  }

  it.each([
    ['INBOX', undefined],
    ['inbox', { prefix: 'INBOX.', delimiter: '.' }],
    ['Sent', { prefix: 'INBOX.', delimiter: '.' }],
    ['INBOX.Sent', { prefix: 'INBOX.', delimiter: '.' }],
    ['Archive/2026', { prefix: '', delimiter: '/' }],
  ])('seeds %s (namespace %j) under the key imapflow looks it up by', async (folder, namespace) => {
    const { client, folders, opened } = clientWith(namespace);
    await examineFolder(client as unknown as ImapFlow, folder);
    const key = normalizePath(client, folder);
    expect([...folders.keys()]).toEqual([key]);
    expect(folders.get(key)).toEqual({ path: key, delimiter: namespace?.delimiter, listed: true });
    expect(opened).toEqual([folder]);
  });

  it('leaves an entry imapflow already has (from a LIST) alone', async () => {
    const { client, folders } = clientWith({ prefix: '', delimiter: '/' });
    const listed = { path: 'Sent', delimiter: '/', listed: true, specialUse: '\\Sent' };
    folders.set('Sent', listed);
    await examineFolder(client as unknown as ImapFlow, 'Sent');
    expect(folders.get('Sent')).toBe(listed);
  });
});
