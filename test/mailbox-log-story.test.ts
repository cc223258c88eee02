import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { appProcessEnv, AppProcess, buildMessage, ENTRY_POINTS, freePort, ListenerWorld, startAppProcess, waitForHttpOk } from '@app/testing';

interface LogLine {
  level: number;
  msg: string;
  replicaId?: string;
  mailboxId?: string;
  from?: string;
  to?: string;
  reason?: string;
  [field: string]: unknown;
}

/** Every line of a process's output as JSON; a line that is not JSON fails the test, naming it. */
function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

/**
 * An operator follows one mailbox through a listener's logs (real listener process, Dovecot, Postgres,
 * Redis): every line about it carries its id and the replica's, and each connection state change is one
 * line with its reason.
 */
// One Dovecot, database, API and Redis prefix for both parts; each test runs its own listener process.
const world = new ListenerWorld();
beforeAll(() => world.start({ listener: false }), 60_000);
afterAll(() => world.stop(), 60_000);

describe('a mailbox’s story in the listener’s logs', () => {
  const replicaId = 'story-replica-1';
  let listener: AppProcess | undefined;

  afterAll(() => listener?.stop('SIGKILL'), 30_000);

  it('tells connect, a dropped connection, a rejected password, its fix and the release, one filter away', async () => {
    const mailbox = await world.mailbox('story@contoso.com');
    const other = await world.mailbox('bystander@contoso.com');
    const port = await freePort();
    listener = startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, port), LOG_LEVEL: 'info', LISTENER_ID: replicaId });
    await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);
    await world.waitForState(mailbox.id, 'connected', 30_000);
    await world.waitForState(other.id, 'connected', 30_000);

    await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'story 1' }));
    await world.waitForReceived(mailbox.id, 1);
    // The server drops the session: the listener reconnects by itself.
    await world.dovecot.kickUser(mailbox.email);
    await listener.waitForOutput(new RegExp(`"mailboxId":"${mailbox.id}".*"msg":"Connection lost`), 30_000);
    await world.waitForState(mailbox.id, 'connected', 30_000);
    // A wrong password, then the right one again.
    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ password: 'wrong-password' }).expect(200);
    await world.waitForState(mailbox.id, 'auth_error', 30_000);
    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ password: `pw-${mailbox.email}` }).expect(200);
    await world.waitForState(mailbox.id, 'connected', 30_000);
    expect(await listener.stop('SIGTERM')).toBe(0);

    const lines = jsonLines(listener.output());
    // Every line names the replica that wrote it.
    expect(lines.filter((line) => line.replicaId !== replicaId)).toEqual([]);
    // Every line that mentions the mailbox carries its id as a field (none only in its text).
    expect(lines.filter((line) => JSON.stringify(line).includes(mailbox.id) && line.mailboxId !== mailbox.id)).toEqual([]);

    const story = lines.filter((line) => line.mailboxId === mailbox.id);
    const changes = story.filter((line) => line.msg.startsWith('Connection state ')).map((line) => `${line.from} → ${line.to} (${line.reason})`);
    // One line per state change, in order, each with why.
    expect(changes).toEqual([
      'pending → connecting (start)',
      'connecting → connected (listening)',
      // Dropped by the server: backoff, with the network error's code.
      expect.stringMatching(/^connected → backoff \([A-Z_]+\)$/),
      'backoff → connecting (retry)',
      'connecting → connected (listening)',
      // The password changed through the API: the listener starts the mailbox again with it.
      'connected → connecting (start)',
      'connecting → auth_error (AUTHENTICATIONFAILED)',
      'auth_error → connecting (start)',
      'connecting → connected (listening)',
      // SIGTERM: handed back.
      'connected → pending (release)',
    ]);
    expect(story.find((line) => line.to === 'auth_error')).toMatchObject({ level: 40, reasonMessage: expect.any(String) });
    expect(story.some((line) => line.msg.startsWith('Connection lost'))).toBe(true);
    // The bystander's lines are not in this mailbox's story, and it has its own.
    expect(story.some((line) => JSON.stringify(line).includes(other.id))).toBe(false);
    expect(lines.filter((line) => line.mailboxId === other.id && line.msg.startsWith('Connection state ')).length).toBeGreaterThanOrEqual(2);
  }, 150_000);
});

const hasScript = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;

describe('log format', () => {
  /**
   * The listener in development until it is ready, its stdout a pipe or a terminal: `script` runs it on a
   * pseudo-terminal and copies what it writes (colours included) to its own stdout.
   */
  async function runListener(onTerminal: boolean): Promise<string> {
    const port = await freePort();
    const env = { ...appProcessEnv(world.config, port), NODE_ENV: 'development', LOG_LEVEL: 'info', LISTENER_ID: 'format-replica' };
    const entry = join(__dirname, '..', ENTRY_POINTS.listener);
    const child = onTerminal
      ? spawn('script', ['-qfec', `exec "${process.execPath}" "${entry}"`, '/dev/null'], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`listener not ready:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      // script passes SIGTERM on to the listener, which drains and exits.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await closed;
      clearTimeout(timer);
    }
    return output;
  }

  (hasScript ? it : it.skip)(`in development on a terminal the lines are pino-pretty; piped they are JSON${hasScript ? '' : ' (skipped: no `script` to make a terminal)'}`, async () => {
    const pretty = await runListener(true);
    expect(pretty).toMatch(/^\S*\[\d\d:\d\d:\d\d\.\d{3}\]\S* \S*INFO\S* \(mail-listener-listener\)/m);
    expect(pretty).not.toMatch(/^\{"level"/m);
    const piped = await runListener(false);
    const lines = jsonLines(piped);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.replicaId === 'format-replica')).toBe(true);
  }, 120_000);
});
