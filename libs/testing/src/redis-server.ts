import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { freePort } from './free-port';

/**
 * A private `redis-server` on a free loopback port, for tests that take Redis away (stop it, start it
 * again on the same port) or make it refuse commands. It keeps nothing on disk, and dies with the test
 * process. Never point such a test at the shared Redis.
 */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly dataDir?: string,
  ) {}

  /**
   * `appendOnlyDir`: keep an append-only file there, fsynced on every write, so a stop (SIGKILL) and
   * resume loses nothing, as a production Redis with `appendfsync always` (default: nothing on disk).
   */
  static async start(options: { appendOnlyDir?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.appendOnlyDir);
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on its port and waits until it answers PING. */
  async resume(): Promise<void> {
    if (this.child) return;
    const persistence = this.dataDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dataDir] : ['--appendonly', 'no'];
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      for (const deadline = Date.now() + 10_000; ; ) {
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (error) {
          probe.disconnect();
          if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    } finally {
      probe.disconnect();
    }
  }

  /** Stops it (SIGKILL: clients see the connection drop, as in a crash) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs one command against it (ACL changes and the like). */
  async command(...args: string[]): Promise<unknown> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 0 });
    try {
      return await client.call(args[0], ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }
}
