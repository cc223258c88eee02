import { createHash, randomInt } from 'node:crypto';
import { chmod, chown, mkdir, rename, utimes, writeFile } from 'node:fs/promises';

export interface DovecotUserInput {
  username: string;
  password: string;
}

export interface DovecotUser {
  /** As Dovecot sees it: lower case (auth_username_format = %Lu lowercases every login name). */
  username: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * How mail users map to Unix uids.
 * - `per-user` (default): each user gets its own uid from a private range (no /etc/passwd entry needed).
 *   Linux counts inotify instances per uid (fs.inotify.max_user_instances, 128 by default) and Dovecot
 *   holds one per IDLE session (also while hibernated), so with one shared uid the 129th idle session
 *   silently falls back to polling. Separate uids avoid that without touching system settings.
 * - `shared`: every user runs as the `dovecot` user (mail_uid = dovecot).
 */
export type UidMode = 'per-user' | 'shared';

const FORBIDDEN = /[:\n\r\0*/\\%\s]/;

/**
 * One passwd-file per user (`users/<name>`: `name:{SHA256.HEX}…:uid:gid::home::`), shared by passdb and
 * userdb through `args = …/users/%u`. Why not one file: Dovecot 2.3 stats a passwd-file at most once per
 * second, so a user appended to a shared file could stay unknown for up to a second; a new user's own
 * file is opened on the first lookup. (A changed password is still subject to that second: `add` waits it out.)
 */
export class DovecotUsers {
  private readonly users = new Map<string, DovecotUser & { passwordHash: string; stamp: number }>();
  private readonly uidBase: number;
  private nextIndex = 0;

  constructor(
    private readonly usersDir: string,
    private readonly mailRoot: string,
    private readonly mailGid: number,
    private readonly internalUid: number,
    private readonly mode: UidMode,
  ) {
    // A random block of 10,000 uids per instance above 2,000,000 (far from real accounts); parallel
    // suites rarely share a block, and sharing would only mean sharing inotify limits.
    this.uidBase = 2_000_000 + randomInt(0, 20_000) * 10_000;
  }

  async init(): Promise<void> {
    await mkdir(this.usersDir, { mode: 0o750 });
    await chown(this.usersDir, 0, this.mailGid);
  }

  has(username: string): boolean {
    return this.users.has(username.toLowerCase());
  }

  get(username: string): DovecotUser {
    const user = this.users.get(username.toLowerCase());
    if (!user) throw new Error(`Dovecot test user "${username}" does not exist (add it with addUser)`);
    return { username: user.username, uid: user.uid, gid: user.gid, home: user.home };
  }

  list(): DovecotUser[] {
    return [...this.users.keys()].map((username) => this.get(username));
  }

  /** Adds users (or changes the password of existing ones); usable for the very next login. */
  async add(inputs: DovecotUserInput[]): Promise<DovecotUser[]> {
    const added: DovecotUser[] = [];
    let changedAt = 0;
    for (const input of inputs) {
      const username = input.username.toLowerCase();
      if (!username || FORBIDDEN.test(username) || username.startsWith('.')) {
        throw new Error(`Unusable Dovecot test username "${input.username}" (no : * / \\ % whitespace, not starting with a dot)`);
      }
      const passwordHash = `{SHA256.HEX}${createHash('sha256').update(input.password, 'utf8').digest('hex')}`;
      let user = this.users.get(username);
      if (user) {
        if (user.passwordHash === passwordHash) {
          added.push(this.get(username));
          continue;
        }
        user.passwordHash = passwordHash;
        changedAt = Date.now();
      } else {
        const index = this.nextIndex++;
        const uid = this.mode === 'per-user' ? this.uidBase + index : this.internalUid;
        const home = `${this.mailRoot}/u${String(index).padStart(5, '0')}`;
        await mkdir(home, { recursive: true });
        await chown(home, uid, this.mailGid);
        await chmod(home, 0o700);
        user = { username, uid, gid: this.mailGid, home, passwordHash, stamp: 0 };
        this.users.set(username, user);
      }
      await this.write(user);
      added.push(this.get(username));
    }
    if (changedAt) {
      // the auth process may have read the old file during this second: let the second pass
      await new Promise((resolve) => setTimeout(resolve, 1_000 - (changedAt % 1_000) + 20));
    }
    return added;
  }

  /**
   * While `failing`, the auth process cannot read the user's passwd-file, so Dovecot answers its logins
   * `NO [UNAVAILABLE] Temporary authentication failure`: a server whose authentication backend is down.
   */
  async setLookupsFailing(username: string, failing: boolean): Promise<void> {
    await chmod(`${this.usersDir}/${this.get(username).username}`, failing ? 0 : 0o640);
  }

  /** Atomic (temp + rename), readable by the auth process (root:dovecot 0640); mtime always moves forward. */
  private async write(user: DovecotUser & { passwordHash: string; stamp: number }): Promise<void> {
    const file = `${this.usersDir}/${user.username}`;
    const temp = `${this.usersDir}/.${user.username}.tmp`;
    await writeFile(temp, `${user.username}:${user.passwordHash}:${user.uid}:${user.gid}::${user.home}::\n`, { mode: 0o640 });
    await chown(temp, 0, this.mailGid);
    user.stamp = Math.max(Math.floor(Date.now() / 1000), user.stamp + 1);
    await utimes(temp, user.stamp, user.stamp);
    await rename(temp, file);
  }
}
