import { ChildProcess, spawn } from 'node:child_process';

export interface ManagedChild {
  name: string;
  process: ChildProcess;
  exited: Promise<number>;
}

/** Starts one app as a child process sharing our stdout/stderr; `exited` resolves with its exit code. */
export function startChild(name: string, script: string, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): ManagedChild {
  const child = spawn(process.execPath, [...nodeFlags, script], { env, stdio: 'inherit' });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { name, process: child, exited };
}

export async function stopChild(child: ManagedChild, graceMs: number): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
