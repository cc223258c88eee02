import type { Socket } from 'node:net';
import { buildMessage, type DovecotServer } from '@app/testing';
import { percentile } from '../imap-idle/proc-stats';
import { openIdleSessions, type RawUser } from '../imap-idle/raw-idle-floor';
import { inHibernateBlindWindow } from './blind-window';

/*
 * Dovecot's own floor for the drain's mail latency. During a drain the draining replica's sessions still
 * listen (hibernated at Dovecot) while the takers log the same mailboxes in elsewhere. This measures,
 * with minimal clients and no listener at all, how long a hibernated IDLE session takes to hear of a new
 * message (APPEND acknowledged → `* n EXISTS` on its socket): with the server quiet, while other users
 * log in at full speed, and while they log in at the takers' hand-over pace.
 */

export interface PushLatency {
  /** Messages whose push arrived. */
  pushed: number;
  p50: number;
  p99: number;
  max: number;
  /** Acknowledged in the hibernation blind window (blind-window.ts): left out of p50/p99. */
  inWindow: number;
  /** Outside the window and never pushed within the wait. */
  missed: number;
}

export type LoginsPushLatency = PushLatency & { logins: number; loginS: number };

export interface PushFloor {
  quiet: PushLatency;
  /** While the loggers log in at full speed. */
  duringLogins: LoginsPushLatency;
  /** While the same loggers log in again at `pacedLoginsPerSecond`. */
  duringPacedLogins: LoginsPushLatency;
}

interface Pending {
  uid: number;
  at: number;
  inWindow: boolean;
}

/** One hibernated IDLE session per held user; each `* n EXISTS` answers every pending message with uid ≤ n (no expunges here). */
class Listening {
  private readonly pending = new Map<number, Pending[]>();
  private readonly lastPush: number[];
  readonly latencies: number[] = [];
  inWindow = 0;

  constructor(sockets: Socket[], openedAt: number) {
    this.lastPush = sockets.map(() => openedAt);
    sockets.forEach((socket, i) => {
      let buffered = '';
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\r\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const exists = /^\* (\d+) EXISTS/.exec(line);
          if (exists) this.pushed(i, Number(exists[1]), Date.now());
        }
      });
    });
  }

  expect(i: number, uid: number, at: number): void {
    const sinceIdle = at - this.lastPush[i];
    const entry = { uid, at, inWindow: inHibernateBlindWindow(sinceIdle) };
    this.pending.set(i, [...(this.pending.get(i) ?? []), entry]);
  }

  private pushed(i: number, count: number, now: number): void {
    // The un-hibernated session idles again; Dovecot hibernates it imap_hibernate_timeout later.
    this.lastPush[i] = now;
    const waiting = this.pending.get(i) ?? [];
    for (const p of waiting.filter((w) => w.uid <= count)) {
      if (p.inWindow) this.inWindow++;
      else this.latencies.push(now - p.at);
    }
    this.pending.set(
      i,
      waiting.filter((w) => w.uid > count),
    );
  }

  get waiting(): number {
    return [...this.pending.values()].reduce((sum, list) => sum + list.length, 0);
  }

  /** The figures since the last call, then a fresh start. */
  take(): PushLatency {
    const lat = [...this.latencies].sort((a, b) => a - b);
    const stuck = [...this.pending.values()].flat();
    const result = {
      pushed: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: Math.max(0, ...lat),
      inWindow: this.inWindow + stuck.filter((p) => p.inWindow).length,
      missed: stuck.filter((p) => !p.inWindow).length,
    };
    this.latencies.length = 0;
    this.inWindow = 0;
    this.pending.clear();
    return result;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Minimal IDLE sessions of `held`, hibernated, with mail delivered to them at a steady rate during whatever work is measured. */
export class PushProbe {
  private constructor(
    private readonly dovecot: DovecotServer,
    private readonly held: RawUser[],
    private readonly sockets: Socket[],
    private readonly listening: Listening,
    private readonly ratePerSecond: number,
  ) {}

  static async open(dovecot: DovecotServer, held: RawUser[], options: { ratePerSecond: number; hibernateTimeoutMs?: number }): Promise<PushProbe> {
    const { sockets } = await openIdleSessions(dovecot.port, held);
    const probe = new PushProbe(dovecot, held, sockets, new Listening(sockets, Date.now()), options.ratePerSecond);
    await sleep((options.hibernateTimeoutMs ?? 5_000) + 2_000);
    return probe;
  }

  /** Mail to random held sessions until `work` settles, then up to 30 s for the pushes: their latency. */
  async during(work: Promise<unknown>): Promise<PushLatency> {
    const inFlight = new Set<Promise<void>>();
    let done = false;
    void work.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const i = Math.floor(Math.random() * this.held.length);
      const p: Promise<void> = this.dovecot
        .deliver(this.held[i].username, buildMessage({ subject: 'push floor' }))
        .then(({ uid }) => this.listening.expect(i, uid, Date.now()))
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      await sleep(1000 / this.ratePerSecond);
    }
    await Promise.all([...inFlight]);
    await work;
    const deadline = Date.now() + 30_000;
    while (this.listening.waiting > 0 && Date.now() < deadline) await sleep(50);
    return this.listening.take();
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

export async function rawPushFloor(
  dovecot: DovecotServer,
  held: RawUser[],
  loggers: RawUser[],
  options: { ratePerSecond: number; quietSeconds: number; pacedLoginsPerSecond: number; hibernateTimeoutMs?: number },
): Promise<PushFloor> {
  const probe = await PushProbe.open(dovecot, held, options);
  try {
    const quiet = await probe.during(sleep(options.quietSeconds * 1000));
    const duringLogins = await pushesDuringLogins(probe, dovecot, loggers);
    const duringPacedLogins = await pushesDuringLogins(probe, dovecot, loggers, options.pacedLoginsPerSecond);
    return { quiet, duringLogins, duringPacedLogins };
  } finally {
    probe.close();
  }
}

async function pushesDuringLogins(probe: PushProbe, dovecot: DovecotServer, loggers: RawUser[], perSecond?: number): Promise<LoginsPushLatency> {
  let sockets: Socket[] = [];
  try {
    const logins = openIdleSessions(dovecot.port, loggers, 100, perSecond).then((opened) => {
      sockets = opened.sockets;
      return opened.seconds;
    });
    const latency = await probe.during(logins);
    return { ...latency, logins: sockets.length, loginS: await logins };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}
