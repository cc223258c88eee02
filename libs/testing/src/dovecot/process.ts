import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { withTimeout } from '@app/async';
import { onCpus } from '../on-cpus';
import { ImapWire } from './imap-wire';

/**
 * An imap process holding a session (`dovecot/imap [alice 127.0.0.1 IDLE]`, or `dovecot/imap` before its
 * title is set). With hibernation none is left once every session has gone to imap-hibernate.
 */
export function isImapSessionProcess(process: Pick<DovecotProcessInfo, 'title'>): boolean {
  return /\/imap \[/.test(process.title) || /\/imap$/.test(process.title);
}

export interface DovecotProcessInfo {
  pid: number;
  /** Process title, e.g. `dovecot/imap-hibernate [0 connections]` or `dovecot/imap [alice 127.0.0.1 IDLE]`. */
  title: string;
  /** Resident set size in KiB (shared pages counted in every process). */
  rssKb: number;
  /** Proportional set size in KiB (shared pages divided among their users: sums to the real footprint); 0 if unreadable. */
  pssKb: number;
}

/**
 * `/bin/sh` wrapper around `dovecot -F`: raises the fd limit (default_client_limit needs more than 1024),
 * and stops Dovecot (SIGTERM) as soon as its stdin reaches EOF — which happens when we close the pipe
 * (stop) but also when the Node process dies in any way, so no master outlives its test run.
 */
const WRAPPER = `
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
exec 3<&0
"$1" -F -c "$2" </dev/null 3<&- &
dovecot_pid=$!
( read -r _ <&3 || true; kill -TERM "$dovecot_pid" 2>/dev/null ) &
watcher=$!
exec 3<&- </dev/null
wait "$dovecot_pid"
status=$?
kill "$watcher" 2>/dev/null
exit $status
`;

const live = new Set<DovecotProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const instance of live) instance.killNow();
  });
}

export interface StartProcessInput {
  dovecotBinary: string;
  configFile: string;
  masterOutputFile: string;
  logFile: string;
  host: string;
  port: number;
  readyTimeoutMs: number;
  /** CPUs the master and its children run on (`taskset -c` list); all when absent. */
  cpus?: string;
}

/** One running Dovecot master (and its children, which share the wrapper's process group). */
export class DovecotProcess {
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly input: StartProcessInput,
  ) {
    this.exited = new Promise((resolve) => {
      const done = (code: number | null): void => {
        if (this.exitCode !== undefined) return;
        this.exitCode = code;
        live.delete(this);
        resolve(code);
      };
      child.once('exit', (code, signal) => done(code ?? (signal ? 128 : null)));
      child.once('error', () => done(-1)); // could not spawn /bin/sh
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Spawns the master and resolves once a real IMAP greeting arrives on `port`. */
  static async start(input: StartProcessInput): Promise<DovecotProcess> {
    installExitHook();
    const out = openSync(input.masterOutputFile, 'a');
    let child: ChildProcess;
    try {
      const [file, ...args] = onCpus(['/bin/sh', '-c', WRAPPER, 'dovecot-harness', input.dovecotBinary, input.configFile], input.cpus);
      child = spawn(file, args, {
        detached: true, // own process group: stop() can sweep every Dovecot child
        stdio: ['pipe', out, out],
      });
    } finally {
      closeSync(out);
    }
    const instance = new DovecotProcess(child, input);
    live.add(instance);
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    try {
      await instance.waitForGreeting();
    } catch (error) {
      await instance.stop();
      throw error;
    }
    return instance;
  }

  /** Dovecot processes of this instance (members of our process group; the wrapper shells excluded). */
  processes(): DovecotProcessInfo[] {
    return this.groupMembers().filter((member) => !member.title.startsWith('/bin/sh'));
  }

  private groupMembers(): DovecotProcessInfo[] {
    const pgid = this.pid;
    if (pgid <= 0) return [];
    const result: DovecotProcessInfo[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === pgid) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue; // field 5: pgrp; zombies wait for init, they hold nothing
        const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
        const rssPages = Number(fields[21]); // field 24: rss
        result.push({ pid, title, rssKb: (rssPages * 4096) / 1024, pssKb: pss(pid) });
      } catch {
        // exited while we looked
      }
    }
    return result;
  }

  /**
   * Graceful stop: SIGTERM to the master and every child at once (sessions get `* BYE` and are closed;
   * signalling only the master works too but it then waits ~1 s for its children), SIGKILL to the group
   * after `timeoutMs`; then sweep leftovers and wait until the port is closed.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.running) {
      for (const member of this.processes()) {
        try {
          process.kill(member.pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      this.child.stdin?.end(); // and the wrapper's watcher TERMs the master should it not be listed yet
      // withTimeout's timer is ref'd: the child and its pipe are unref'd, so this keeps Node alive until the master is gone
      const timedOut = await withTimeout(this.exited, timeoutMs).then(
        () => false,
        () => true,
      );
      if (timedOut) this.signalGroup('SIGKILL');
      await this.exited;
    }
    // Children that outlived the master (they exit on their own when the master's pipe closes, but do not wait for that).
    await this.sweep();
    await waitPortClosed(this.input.host, this.input.port, 5_000);
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // group already empty
    }
  }

  private async sweep(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const left = this.groupMembers();
      if (left.length === 0) return;
      for (const proc of left) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(20);
    }
  }

  private async waitForGreeting(): Promise<void> {
    const deadline = Date.now() + this.input.readyTimeoutMs;
    let lastError = 'no attempt';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`Dovecot exited with status ${this.exitCode} during start-up.\n${this.diagnostics()}`);
      }
      try {
        const wire = await ImapWire.open({ host: this.input.host, port: this.input.port, timeoutMs: 2_000 });
        const greeting = wire.greeting;
        wire.close();
        if (greeting.startsWith('* OK')) return;
        lastError = `unexpected greeting: ${greeting}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      await sleep(10);
    }
    throw new Error(
      `Dovecot did not greet on ${this.input.host}:${this.input.port} within ${this.input.readyTimeoutMs} ms (${lastError}).\n${this.diagnostics()}`,
    );
  }

  diagnostics(lines = 40): string {
    return [
      `--- ${this.input.masterOutputFile} (tail) ---`,
      tail(this.input.masterOutputFile, lines),
      `--- ${this.input.logFile} (tail) ---`,
      tail(this.input.logFile, lines),
    ].join('\n');
  }
}

function pss(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '(empty)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitPortClosed(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    await sleep(20);
  }
  throw new Error(`${host}:${port} is still accepting connections ${timeoutMs} ms after Dovecot stopped`);
}
