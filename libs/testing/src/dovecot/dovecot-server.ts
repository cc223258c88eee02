import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port';
import { generateLoopbackCertificate } from '../fake-entra/tls';
import { dovecotPaths, renderDovecotConfig, renderOauth2Config, type DovecotPaths, type OAuth2Mechanism } from './config';
import { parseWho, runDoveadm, type DovecotConnection } from './doveadm';
import {
  DovecotMail,
  type DeliverOptions,
  type DeliveredBatch,
  type DeliveredMessage,
  type MailboxStatus,
  type MessageInput,
} from './mail';
import { pokeMailboxes } from './maildir';
import { DovecotProcess, tail, type DovecotProcessInfo } from './process';
import { DovecotUsers, type DovecotUser, type DovecotUserInput, type UidMode } from './users';
import { assertSupportedVersion, detectDovecotVersion, dovecotBinaries, type DovecotBinaries, type DovecotVersion } from './version';

export interface DovecotServerOptions {
  users?: DovecotUserInput[];
  /**
   * Enables XOAUTH2 and OAUTHBEARER: a `passdb { driver = oauth2 }` POSTs `token=…` to this URL and
   * accepts the login when the answer has `active: true` and `username` equal to the login name.
   */
  oauth2IntrospectionUrl?: string;
  /** Which bearer mechanisms to offer (default both; `['xoauth2']` looks like Exchange Online). */
  oauth2Mechanisms?: OAuth2Mechanism[];
  /** Trust anchor (PEM) for an https introspection URL with a self-signed certificate (e.g. FakeEntraId.caPem). */
  oauth2IntrospectionCaPem?: string;
  /**
   * Also serve implicit TLS (imaps) on `tlsPort` with a generated self-signed certificate (`caPem`,
   * SAN 127.0.0.1/::1/localhost). Default false. Dovecot cannot have imaps without `ssl = yes`, so the
   * plain port then advertises STARTTLS too (imapflow upgrades by itself unless `doSTARTTLS: false`).
   */
  tls?: boolean;
  /** Hibernate IDLE sessions after 5 s (imap-hibernate): thousands of idle sessions in a handful of processes. Default false. */
  hibernate?: boolean;
  /**
   * `service imap { service_count }`: connections one imap process serves before it exits (Dovecot's
   * default 1 forks a process per login). Above 1 a process is reused after its session hibernates, but
   * only for users of the same uid — use with `uidMode: 'shared'` (and a raised fs.inotify.max_user_instances).
   */
  imapServiceCount?: number;
  /** mailbox_idle_check_interval: the poll fallback when inotify is unavailable. Default 1. */
  idleCheckIntervalSeconds?: number;
  /** Unix uid per mail user (default `per-user`, see UidMode). */
  uidMode?: UidMode;
  /** auth_debug + mail_debug into the log. */
  debug?: boolean;
  /**
   * Also serve an MTA: LMTP delivery (`lmtpSocketPath`) and SASL for its smtpd (`authSocketPath`), as
   * PostfixServer uses them. Needs Debian's dovecot-lmtpd. Default false.
   */
  mtaSockets?: boolean;
  /**
   * Folders flagged with a special use (RFC 6154 SPECIAL-USE) once a user has them (not created), e.g.
   * `{ 'Gesendete Elemente': '\\Sent' }`: a Sent folder with a localized name.
   */
  specialUseFolders?: Record<string, string>;
  /** Start-up budget (greeting received). Default 10 s. */
  startTimeoutMs?: number;
  /**
   * Runs Dovecot — its master and every process it forks — on these CPUs only (a `taskset -c` list, e.g.
   * `"0"`): a benchmark gives the mail server cores of its own, as it has in production, so that its floor
   * and the listener's figure are not the two sharing one machine's cores. Default: all.
   */
  cpus?: string;
}

interface SystemAccounts {
  dovecotUid: number;
  dovecotGid: number;
}

const HOST = '127.0.0.1';
const MASTER_USER = 'harness-master';

/** Servers not destroyed yet: their processes are killed and temp dirs removed when Node exits. */
const undestroyed = new Set<DovecotServer>();
let exitHookInstalled = false;

function cleanUpAtExit(server: DovecotServer): void {
  undestroyed.add(server);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const leftover of undestroyed) leftover.destroySync();
  });
}

/**
 * A private, real Dovecot (IMAP) for one test suite: own config, data, sockets and log in a temp dir,
 * loopback only, on free ports, run in the foreground as a child process of the test (needs root:
 * Dovecot drops to dovenull/dovecot/mail uids). Dovecot 2.3 only (see version.ts).
 *
 * - Mail is put in over IMAP, as a client would (APPEND, MULTIAPPEND for batches, UIDs from APPENDUID),
 *   logged in as the user through a private master user; those short sessions count in `connectionsOf`
 *   while they last.
 * - Each mail user gets its own uid (inotify limits are per uid; see UidMode).
 * - Failed logins answer after Dovecot's usual ≤ 0.5 s, but without the per-IP penalty that would make
 *   every later login from 127.0.0.1 wait 2–15 s (see config.ts).
 * - New mail reaches a plain IDLE session ~0.5 s after delivery (Dovecot waits 500 ms after an inotify
 *   event before it looks, hard-coded); a hibernated session hears of it within ~30 ms.
 *
 *   const dovecot = await DovecotServer.start({ users: [{ username: 'ana@contoso.com', password: 'pw' }] });
 *   const { uid } = await dovecot.deliver('ana@contoso.com', buildMessage({ subject: 'Hi' }));
 *   await dovecot.destroy();
 */
export class DovecotServer {
  readonly host = HOST;
  readonly version: DovecotVersion;
  /** The instance's temp directory (config, data, log). */
  readonly dir: string;
  readonly configPath: string;
  /** Dovecot's own log (log_path). Error messages of `start` include its tail. */
  readonly logPath: string;
  /** PEM of the self-signed certificate served on `tlsPort` (it is its own CA); undefined without `tls`. */
  readonly caPem?: string;
  /** Same PEM as `caPem` (the server certificate itself). */
  readonly certificatePem?: string;
  readonly oauth2IntrospectionUrl?: string;

  private process: DovecotProcess | undefined;
  private destroyed = false;
  private readonly cpus?: string;
  private readonly mail: DovecotMail;

  private constructor(
    private readonly paths: DovecotPaths,
    private readonly binaries: DovecotBinaries,
    private readonly users: DovecotUsers,
    private readonly masterPassword: string,
    private readonly startTimeoutMs: number,
    private readonly ports: { port: number; tlsPort?: number },
    private readonly renderConfig: (ports: { port: number; tlsPort?: number }) => string,
    version: DovecotVersion,
    options: DovecotServerOptions,
    tlsPem?: string,
  ) {
    this.version = version;
    this.dir = paths.root;
    this.configPath = paths.configFile;
    this.logPath = paths.logFile;
    this.caPem = tlsPem;
    this.certificatePem = tlsPem;
    this.oauth2IntrospectionUrl = options.oauth2IntrospectionUrl;
    this.cpus = options.cpus;
    this.mail = new DovecotMail(() => {
      if (!this.running) throw new Error('Dovecot is not running (stopped or destroyed)');
      return { host: HOST, port: this.port, masterUser: MASTER_USER, masterPassword: this.masterPassword };
    });
  }

  /** Plain IMAP port (loopback). */
  get port(): number {
    return this.ports.port;
  }

  /** Implicit TLS (imaps) port when started with `tls: true`. */
  get tlsPort(): number | undefined {
    return this.ports.tlsPort;
  }

  /** LMTP socket (with `mtaSockets`): an MTA delivers here into the users' mailboxes. */
  get lmtpSocketPath(): string {
    return join(this.paths.baseDir, 'lmtp');
  }

  /** Dovecot SASL socket (with `mtaSockets`) for an MTA's smtpd: PLAIN/LOGIN and, with oauth2, XOAUTH2/OAUTHBEARER. */
  get authSocketPath(): string {
    return join(this.paths.baseDir, 'auth-smtp');
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** PID of the wrapper shell that owns the master (also the process group of every Dovecot process). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  static async start(options: DovecotServerOptions = {}): Promise<DovecotServer> {
    if (process.getuid?.() !== 0) {
      throw new Error('DovecotServer needs root: Dovecot switches to dovenull/dovecot/per-user uids (run the tests as root or in the CI container)');
    }
    const binaries = dovecotBinaries();
    const version = detectDovecotVersion(binaries.dovecot);
    assertSupportedVersion(version);
    const accounts = systemAccounts();

    const root = await mkdtemp(join(tmpdir(), 'dovecot-test-'));
    await chmod(root, 0o755); // mail uids must reach base_dir sockets and their homes
    const paths = dovecotPaths(root);
    try {
      await mkdir(paths.mailRoot, { mode: 0o755 });
      await mkdir(join(root, 'tls'), { mode: 0o700 });

      const masterPassword = randomBytes(18).toString('base64url');
      // auth runs as the dovecot user: its files are root:dovecot 0640
      const authReadable = async (file: string, body: string): Promise<void> => {
        await writeFile(file, body, { mode: 0o640 });
        await chown(file, 0, accounts.dovecotGid);
      };
      await authReadable(paths.masterUsersFile, `${MASTER_USER}:${sha256Scheme(masterPassword)}\n`);

      const users = new DovecotUsers(paths.usersDir, paths.mailRoot, accounts.dovecotGid, accounts.dovecotUid, options.uidMode ?? 'per-user');
      await users.init();
      await users.add(options.users ?? []);

      let tlsPem: string | undefined;
      if (options.tls) {
        const material = await generateLoopbackCertificate();
        await writeFile(paths.tlsCertFile, material.cert, { mode: 0o600 });
        await writeFile(paths.tlsKeyFile, material.key, { mode: 0o600 });
        tlsPem = material.cert;
      }
      let oauth2: { introspectionUrl: string; caFile?: string; mechanisms: OAuth2Mechanism[] } | undefined;
      if (options.oauth2IntrospectionUrl) {
        const mechanisms = options.oauth2Mechanisms ?? ['xoauth2', 'oauthbearer'];
        if (mechanisms.length === 0) throw new Error('oauth2Mechanisms must name at least one mechanism');
        oauth2 = { introspectionUrl: options.oauth2IntrospectionUrl, mechanisms };
        if (options.oauth2IntrospectionCaPem) {
          await writeFile(paths.oauth2CaFile, options.oauth2IntrospectionCaPem, { mode: 0o644 });
          oauth2.caFile = paths.oauth2CaFile;
        }
        await authReadable(paths.oauth2File, renderOauth2Config(oauth2.introspectionUrl, oauth2.caFile));
      }

      const instanceName = `dovecot-test-${root.slice(-6)}`;
      const renderConfig = (ports: { port: number; tlsPort?: number }): string =>
        renderDovecotConfig({
          version,
          paths,
          instanceName,
          host: HOST,
          port: ports.port,
          tlsPort: ports.tlsPort,
          oauth2,
          hibernate: options.hibernate ?? false,
          imapServiceCount: options.imapServiceCount ?? 1,
          idleCheckIntervalSeconds: options.idleCheckIntervalSeconds ?? 1,
          internalUid: accounts.dovecotUid,
          debug: options.debug ?? false,
          mtaSockets: options.mtaSockets ?? false,
          specialUseFolders: options.specialUseFolders,
        });

      // Free ports are picked by binding port 0; another process may grab one before Dovecot binds it: retry.
      for (let attempt = 1; ; attempt++) {
        const ports = { port: await freePort(), tlsPort: options.tls ? await freePort() : undefined };
        const server = new DovecotServer(
          paths,
          binaries,
          users,
          masterPassword,
          options.startTimeoutMs ?? 10_000,
          ports,
          renderConfig,
          version,
          options,
          tlsPem,
        );
        try {
          await server.launch();
          cleanUpAtExit(server);
          return server;
        } catch (error) {
          const portTaken = /Address already in use/i.test(tail(paths.logFile, 20) + tail(paths.masterOutputFile, 20));
          if (!portTaken || attempt >= 3) throw error;
        }
      }
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  // ---------------------------------------------------------------- users

  /**
   * Adds a user (or sets a new password for an existing one), also while running: a new user can log in
   * at once; a changed password takes effect within a second (this call waits for that).
   * Dovecot lowercases login names (auth_username_format = %Lu), so does the harness.
   */
  async addUser(username: string, password: string): Promise<DovecotUser> {
    const [user] = await this.users.add([{ username, password }]);
    return user;
  }

  async addUsers(users: DovecotUserInput[]): Promise<DovecotUser[]> {
    return this.users.add(users);
  }

  user(username: string): DovecotUser {
    return this.users.get(username);
  }

  /** Makes the user's logins fail as "temporarily unavailable" (its auth lookup fails), or work again. */
  setAuthUnavailable(username: string, unavailable: boolean): Promise<void> {
    return this.users.setLookupsFailing(username, unavailable);
  }

  // ---------------------------------------------------------------- mail

  /** APPENDs one message as the user (via the harness master login) and returns its UID from APPENDUID. */
  async deliver(username: string, raw: string | Buffer, options: DeliverOptions = {}): Promise<DeliveredMessage> {
    const { uids, uidValidity } = await this.mail.append(this.users.get(username).username, options.folder ?? 'INBOX', [raw], options);
    return { uid: uids[0], uidValidity };
  }

  /** Bulk delivery: MULTIAPPEND (LITERAL+) over one connection; UIDs in order. 200 messages take well under a second. */
  async deliverMany(username: string, messages: MessageInput[], options: DeliverOptions = {}): Promise<DeliveredBatch> {
    return this.mail.append(this.users.get(username).username, options.folder ?? 'INBOX', messages, options);
  }

  async createFolder(username: string, name: string): Promise<void> {
    await this.mail.createFolder(this.users.get(username).username, name);
  }

  async status(username: string, folder = 'INBOX'): Promise<MailboxStatus> {
    return this.mail.status(this.users.get(username).username, folder);
  }

  async uidValidity(username: string, folder = 'INBOX'): Promise<number> {
    return (await this.status(username, folder)).uidValidity;
  }

  async messageCount(username: string, folder = 'INBOX'): Promise<number> {
    return (await this.status(username, folder)).messages;
  }

  /**
   * Gives the folder a new UIDVALIDITY (`doveadm mailbox update --uid-validity`), as a server does after
   * rebuilding a mailbox; the messages stay. Dovecot does not push anything for this by itself: a session
   * that has the folder selected only notices at its next sync and then drops the connection
   * (`* BYE IMAP session state is inconsistent, please relogin.`). Unless `notifySessions` is false the
   * harness pokes the folder so that this happens at once, also to IDLE-ing clients.
   * Returns the new value.
   */
  async changeUidValidity(
    username: string,
    folder = 'INBOX',
    options: { uidValidity?: number; notifySessions?: boolean } = {},
  ): Promise<number> {
    const user = this.users.get(username);
    const current = await this.uidValidity(username, folder);
    const next = options.uidValidity ?? Math.max(current + 1, Math.floor(Date.now() / 1000));
    if (next === current) throw new Error(`UIDVALIDITY of ${folder} is already ${current}`);
    await this.doveadm(['mailbox', 'update', '-u', user.username, '--uid-validity', String(next), folder]);
    const after = await this.uidValidity(username, folder);
    if (after !== next) throw new Error(`doveadm mailbox update left UIDVALIDITY at ${after} (wanted ${next})`);
    if (options.notifySessions !== false) await pokeMailboxes(user.home, folder);
    return next;
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Server-side disconnect of every session of the user (`doveadm kick`); resolves when anvil lists none
   * of the sessions kicked (a listener may have connected again already: its new session has a new pid;
   * waiting for none at all raced such reconnects under load). Hibernated sessions live in the shared
   * imap-hibernate process, which `doveadm kick` refuses to kill (it would drop every other user too):
   * those are woken first (see pokeMailboxes), which gives them their own imap process again, and then kicked.
   */
  async kickUser(username: string, timeoutMs = 15_000): Promise<void> {
    const user = this.users.get(username);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let sessions = await this.connectionsOf(username);
      if (sessions.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`kickUser(${username}): ${sessions.length} session(s) still connected after ${timeoutMs} ms (pids ${sessions.map((s) => s.pid).join(', ')})`);
      }
      const shared = new Set(this.processes().filter((p) => /\/imap-hibernate\b/.test(p.title)).map((p) => p.pid));
      if (sessions.some((session) => shared.has(session.pid))) {
        await pokeMailboxes(user.home);
        const wokenBy = Math.min(deadline, Date.now() + 2_000);
        while (sessions.some((session) => shared.has(session.pid)) && Date.now() < wokenBy) {
          await delay(10);
          sessions = await this.connectionsOf(username);
        }
      }
      try {
        await this.doveadm(['kick', user.username]);
      } catch (error) {
        // doveadm kick exits non-zero with nothing on stderr when it finds no session to kick: the session
        // went away by itself between `who` and `kick` (CI sim under load). Look again; fail only at the deadline.
        if (Date.now() > deadline) throw error;
      }
      const kicked = new Set(sessions.filter((session) => !shared.has(session.pid)).map((session) => session.pid));
      const goneBy = Math.min(deadline, Date.now() + 1_000);
      while (Date.now() < goneBy) {
        const now = await this.connectionsOf(username);
        if (now.length === 0) return;
        if (kicked.size > 0 && now.every((session) => !kicked.has(session.pid) && !shared.has(session.pid))) return;
        await delay(10);
      }
    }
  }

  /** Live sessions of the user as anvil sees them (`doveadm who -1`). */
  async connectionsOf(username: string): Promise<DovecotConnection[]> {
    const name = username.toLowerCase();
    const output = await this.doveadm(['-f', 'tab', 'who', '-1', name]);
    return parseWho(output).filter((connection) => connection.username === name);
  }

  /** Live sessions per user as anvil sees them (`doveadm who -1`), the harness's own short APPEND sessions included. */
  async sessionsByUser(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const { username } of parseWho(await this.doveadm(['-f', 'tab', 'who', '-1']))) counts.set(username, (counts.get(username) ?? 0) + 1);
    return counts;
  }

  /** Every Dovecot process of this instance with its title and RSS (from /proc). */
  processes(): DovecotProcessInfo[] {
    return this.process?.processes() ?? [];
  }

  /** Runs `doveadm -c <this config> …`. */
  doveadm(args: string[]): Promise<string> {
    return runDoveadm(this.binaries.doveadm, this.paths.configFile, args);
  }

  logTail(lines = 40): string {
    return tail(this.paths.logFile, lines);
  }

  async log(): Promise<string> {
    return readFile(this.paths.logFile, 'utf8').catch(() => '');
  }

  /**
   * The line Dovecot logged when the user's first session ended, if it has: which process ended it
   * (`imap-hibernate(user)` without waking it, `imap(user)` once awake) and why.
   */
  async sessionEndOf(username: string): Promise<string | undefined> {
    return (await this.log()).split('\n').find((line) => line.includes(`(${username})`) && line.includes('Disconnected'));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops the master and every child (clients are disconnected) and waits until the port is closed. Data stays. */
  async stop(): Promise<void> {
    const current = this.process;
    this.process = undefined;
    await current?.stop();
  }

  /** Starts again on the same ports with the same data (after `stop`, or stops first). */
  async restart(): Promise<void> {
    if (this.destroyed) throw new Error('DovecotServer was destroyed');
    await this.stop();
    await this.removeStaleSockets();
    await this.launch();
  }

  /**
   * After thousands of sessions, imap processes may die with their client sockets still in flight to
   * imap-hibernate (passed as SCM_RIGHTS, never received). The kernel then keeps imap-hibernate's
   * listening socket alive with no process behind it, a connect to it does not get ECONNREFUSED, and the
   * new master refuses to start ("Socket already exists"). Nothing of ours runs at this point, so the
   * socket files can go.
   */
  private async removeStaleSockets(): Promise<void> {
    const entries = await readdir(this.paths.baseDir, { withFileTypes: true }).catch(() => []);
    await Promise.all(entries.filter((entry) => entry.isSocket()).map((entry) => unlink(join(this.paths.baseDir, entry.name)).catch(() => undefined)));
  }

  /** Stops and deletes the temp dir. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    undestroyed.delete(this);
    try {
      await this.stop();
    } finally {
      await rm(this.paths.root, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /** Last resort at process exit (synchronous): SIGKILL every process, delete the temp dir. */
  destroySync(): void {
    this.destroyed = true;
    undestroyed.delete(this);
    this.process?.killNow();
    try {
      rmSync(this.paths.root, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a dying process may still write into it; nothing more to do at exit
    }
  }

  private async launch(): Promise<void> {
    await writeFile(this.paths.configFile, this.renderConfig(this.ports), { mode: 0o644 });
    this.process = await DovecotProcess.start({
      dovecotBinary: this.binaries.dovecot,
      configFile: this.paths.configFile,
      masterOutputFile: this.paths.masterOutputFile,
      logFile: this.paths.logFile,
      host: HOST,
      port: this.ports.port,
      readyTimeoutMs: this.startTimeoutMs,
      cpus: this.cpus,
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sha256Scheme(password: string): string {
  return `{SHA256.HEX}${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

function systemAccounts(): SystemAccounts {
  const lookup = (database: 'passwd' | 'group', name: string): string[] => {
    try {
      return execFileSync('getent', [database, name], { encoding: 'utf8' }).trim().split(':');
    } catch {
      throw new Error(`System ${database === 'passwd' ? 'user' : 'group'} "${name}" is missing (it comes with the dovecot-core package)`);
    }
  };
  const dovecot = lookup('passwd', 'dovecot');
  lookup('passwd', 'dovenull');
  const group = lookup('group', 'dovecot');
  return { dovecotUid: Number(dovecot[2]), dovecotGid: Number(group[2]) };
}
