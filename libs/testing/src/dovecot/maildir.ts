import { randomBytes } from 'node:crypto';
import { readdir, unlink, writeFile } from 'node:fs/promises';
import { encodeMailboxName } from './imap-wire';

/** The Maildir++ directory of a folder (`mail_location = maildir:~/Maildir`, hierarchy separator `/` stored as `.`). */
export function maildirOf(home: string, folder: string): string {
  if (folder.toUpperCase() === 'INBOX') return `${home}/Maildir`;
  return `${home}/Maildir/.${encodeMailboxName(folder).replace(/\//g, '.')}`;
}

/**
 * Makes Dovecot look at the user's mailboxes now, as mail arriving would, without changing any message:
 * creates and removes a dot-file (ignored by Maildir) in each `new/`. IDLE sessions — also hibernated
 * ones, whose inotify descriptor imap-hibernate holds — wake up and sync; a hibernated session gets
 * its own imap process back. With `folder`, only that mailbox is poked; otherwise every mailbox.
 */
export async function pokeMailboxes(home: string, folder?: string): Promise<void> {
  const dirs: string[] = [];
  if (folder !== undefined) {
    dirs.push(maildirOf(home, folder));
  } else {
    dirs.push(`${home}/Maildir`);
    const entries = await readdir(`${home}/Maildir`, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name.startsWith('.') && entry.name !== '.' && entry.name !== '..') dirs.push(`${home}/Maildir/${entry.name}`);
    }
  }
  await Promise.all(
    dirs.map(async (dir) => {
      const file = `${dir}/new/.harness-poke-${randomBytes(6).toString('hex')}`;
      try {
        await writeFile(file, '');
        await unlink(file);
      } catch {
        // mailbox not created on disk yet: nobody can be watching it
      }
    }),
  );
}
