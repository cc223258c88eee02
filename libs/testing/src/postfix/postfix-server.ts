import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateLoopbackCertificate } from '../fake-entra/tls';
import { freePort } from '../free-port';
import { postfixPaths, renderMainCf, renderMasterCf, type PostfixPaths } from './config';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const POSTFIX = '/usr/sbin/postfix';
const MASTER = '/usr/lib/postfix/sbin/master';

/** What PostfixServer needs of the Dovecot it delivers into (DovecotServer started with `mtaSockets: true`). */
export interface PostfixDovecot {
  lmtpSocketPath: string;
  authSocketPath: string;
}

export interface PostfixServerOptions {
  dovecot: PostfixDovecot;
  /** Mail domains delivered into Dovecot (recipients elsewhere are refused at RCPT). */
  domains: string[];
  /** Start-up budget (greeting received). Default 15 s. */
  startTimeoutMs?: number;
  /**
   * What happens to accepted mail: `lmtp` (default) delivers it into Dovecot; `discard` throws it away after
   * queueing it (benchmarks: submission measured without the delivery competing for the CPU).
   */
  delivery?: 'lmtp' | 'discard';
  /** default_process_limit: smtpd processes (so concurrent SMTP sessions) at most. Postfix's default 100. */
  processLimit?: number;
}

/**
 * `/bin/sh` wrapper around the Postfix master in the foreground (`master -d`): stops it (SIGTERM, which
 * stops its children) as soon as its stdin reaches EOF — when we close the pipe, but also when the Node
 * process dies in any way, so no master outlives its test run (same pattern as the Dovecot harness).
 */
const WRAPPER = `
exec 3<&0
"$1" -d -c "$2" </dev/null 3<&- &
master_pid=$!
( read -r _ <&3 || true; kill -TERM "$master_pid" 2>/dev/null ) &
watcher=$!
exec 3<&- </dev/null
wait "$master_pid"
status=$?
kill "$watcher" 2>/dev/null
exit $status
`;

const live = new Set<PostfixServer>();
let exitHookInstalled = false;

/**
 * A private, real Postfix (Debian `postfix`) for one test suite: the classic submission stack. Clients
 * authenticate through Dovecot SASL (password, or XOAUTH2 introspected at the fake identity server when
 * Dovecot has oauth2), and accepted mail is delivered over LMTP into that Dovecot, so a sent message
 * lands in the recipient's mailbox and is read back over IMAP.
 *
 * Runs as root (the master then drops to the `postfix` user as usual) from a temp dir: own main.cf and
 * master.cf (`-c`), own queue, loopback only on free ports, no chroot, no DNS, never relays elsewhere.
 * `port` offers STARTTLS (optional, so plain-text clients work too), `tlsPort` is implicit TLS; the
 * certificate is self-signed for 127.0.0.1 (`caPem`).
 *
 *   const dovecot = await DovecotServer.start({ users, oauth2IntrospectionUrl, mtaSockets: true });
 *   const postfix = await PostfixServer.start({ dovecot, domains: ['contoso.com'] });
 *   …
 *   await postfix.destroy();
 */
export class PostfixServer {
  readonly host = HOST;
  readonly caPem: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private destroyed = false;

  private constructor(
    private readonly paths: PostfixPaths,
    readonly port: number,
    readonly tlsPort: number,
    caPem: string,
  ) {
    this.caPem = caPem;
  }

  get dir(): string {
    return this.paths.root;
  }

  static async start(options: PostfixServerOptions): Promise<PostfixServer> {
    if (process.getuid?.() !== 0) throw new Error('PostfixServer needs root (its master switches to the postfix user)');
    if (!existsSync(MASTER)) throw new Error("Postfix is not installed: apt-get install postfix (see scripts/ensure-test-deps.sh)");
    const root = await mkdtemp(join(tmpdir(), 'postfix-test-'));
    await chmod(root, 0o755);
    const paths = postfixPaths(root);
    try {
      await mkdir(paths.configDir, { mode: 0o755 });
      await mkdir(paths.queueDir, { mode: 0o755 });
      const tls = await generateLoopbackCertificate();
      await writeFile(paths.tlsCertFile, tls.cert, { mode: 0o644 });
      await writeFile(paths.tlsKeyFile, tls.key, { mode: 0o600 });
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const tlsPort = await freePort();
        const input = {
          paths,
          host: HOST,
          port,
          tlsPort,
          domains: options.domains,
          delivery: options.delivery ?? 'lmtp',
          processLimit: options.processLimit,
          dovecotLmtpSocket: options.dovecot.lmtpSocketPath,
          dovecotAuthSocket: options.dovecot.authSocketPath,
        };
        await writeFile(join(paths.configDir, 'main.cf'), renderMainCf(input), { mode: 0o644 });
        await writeFile(join(paths.configDir, 'master.cf'), renderMasterCf(input), { mode: 0o644 });
        // Creates the queue directories with Postfix's own owners and modes (post-install create-missing).
        await run(POSTFIX, ['-c', paths.configDir, 'check'], { timeout: 30_000 });
        const server = new PostfixServer(paths, port, tlsPort, tls.cert);
        try {
          await server.launch(options.startTimeoutMs ?? 15_000);
          return server;
        } catch (error) {
          await server.stop();
          const taken = /address already in use/i.test(server.logTail(40));
          if (!taken || attempt >= 3) throw error;
        }
      }
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  private async launch(timeoutMs: number): Promise<void> {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const server of live) server.destroySync();
      });
    }
    const out = openSync(this.paths.masterOutputFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', WRAPPER, 'postfix-harness', MASTER, this.paths.configDir], { detached: true, stdio: ['pipe', out, out] });
    } finally {
      closeSync(out);
    }
    this.child = child;
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no attempt';
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      try {
        const greeting = await readGreeting(this.port);
        if (greeting.startsWith('220')) return;
        lastError = `greeting ${greeting}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Postfix did not greet on ${HOST}:${this.port} (${lastError})\n${this.logTail(20)}\n${tailOf(this.paths.masterOutputFile, 20)}`);
  }

  /** Postfix's own log (maillog_file): deliveries (`status=sent`), SASL failures. */
  logTail(lines = 40): string {
    return tailOf(this.paths.logFile, lines);
  }

  /** Stops the master and every child; the queue stays. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    live.delete(this);
    if (!child) return;
    child.stdin?.end();
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }, 10_000);
    await this.exited;
    clearTimeout(timer);
    // Daemons left in the group (they exit by themselves once the master is gone, do not wait for that).
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // group empty
      }
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.stop();
    await rm(this.paths.root, { recursive: true, force: true });
  }

  /** Synchronous last resort when Node exits. */
  destroySync(): void {
    const pid = this.child?.pid;
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(this.paths.root, { recursive: true, force: true });
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

function readGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no greeting within 2 s'));
    }, 2_000);
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      socket.end('QUIT\r\n');
      resolve(chunk.toString('utf8').trim());
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
