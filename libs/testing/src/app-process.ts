import { ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export interface AppProcess {
  child: ChildProcess;
  output(): string;
  /**
   * Resolves with the output once it matches `pattern`. pino writes stdout asynchronously, so a log line can
   * reach us after the HTTP answer it belongs to: assertions on logs wait for their line.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Resolves with the exit code (signal deaths count as 128+) once the output is complete: Node reports
   * the exit before the last stdout chunks are read, so this also waits for the pipes to close (at most
   * 2 s, in case a grandchild still holds them).
   */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Runs a built entry point (`dist/...`) as a real process, capturing its output for assertions. */
export function startAppProcess(entry: string, env: NodeJS.ProcessEnv): AppProcess {
  const script = join(ROOT, entry);
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    child.emit('output');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let closed = false;
  const pipesClosed = new Promise<void>((resolve) =>
    child.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      const exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
      const timer = setTimeout(() => resolve(exitCode), 2_000);
      void pipesClosed.then(() => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    }),
  );
  return {
    child,
    output: () => output,
    waitForOutput(pattern: RegExp, timeoutMs = 10_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          finish();
          resolve(output);
        };
        const fail = (why: string) => {
          finish();
          reject(new Error(`output did not match ${pattern} (${why}):\n${output}`));
        };
        const onClose = () => fail('the process exited');
        const timer = setTimeout(() => fail(`after ${timeoutMs} ms`), timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          child.off('output', check);
          child.off('close', onClose);
        };
        child.on('output', check);
        child.once('close', onClose);
        check();
        if (closed && !pattern.test(output)) fail('the process had exited');
      });
    },
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `url` until it answers 200 or the process exits or the time runs out. */
export async function waitForHttpOk(url: string, app: AppProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | undefined;
  void app.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`process exited with ${exitCode} before ${url} was ready:\n${app.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${app.output()}`);
}

export const ENTRY_POINTS = {
  api: 'dist/apps/api/src/main.js',
  listener: 'dist/apps/listener/src/main.js',
  supervisor: 'dist/apps/supervisor/src/main.js',
  migrate: 'dist/libs/persistence/src/migrate.cli.js',
  reencrypt: 'dist/libs/persistence/src/secrets-reencrypt.cli.js',
};
