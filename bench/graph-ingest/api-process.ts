import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRY_POINTS } from '@app/testing';

/** The repository root, from dist-bench/bench/graph-ingest. */
const ROOT = join(__dirname, '..', '..', '..');

export interface BenchProcess {
  child: ChildProcess;
  pid: number;
  /** Where its stdout and stderr go (a file: the bench must not spend its CPU reading request logs). */
  logFile: string;
  exited: Promise<number>;
  tail(chars?: number): string;
  stop(): Promise<number>;
}

/** Runs a built app (`ENTRY_POINTS` name) as its own process, its output going to `logFile`. */
export function startBenchProcess(app: keyof typeof ENTRY_POINTS, env: NodeJS.ProcessEnv, logFile: string, nodeArgs: string[] = []): BenchProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, ENTRY_POINTS[app])], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    child,
    pid: child.pid!,
    logFile,
    exited,
    tail: (chars = 4000) => readFileSync(logFile, 'utf8').slice(-chars),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `url` until it answers 200; fails early if the process exits. */
export async function waitUntilReady(url: string, app: BenchProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | undefined;
  void app.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`process exited with ${exitCode} before ${url} was ready:\n${app.tail()}`);
    if (await fetch(url).then((response) => response.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${app.tail()}`);
}
