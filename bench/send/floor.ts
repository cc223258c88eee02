/**
 * The physical floor of sending: nodemailer's SMTPConnection straight to the same Postfix, the same
 * composed messages (read back from the outbox), the same logins and the same concurrency, with no queue,
 * no database, no API. Two modes: `reuse` (a logged-in session per mailbox kept and RSET between
 * messages, as many as the slots need) and `fresh` (connect, STARTTLS, login, send, QUIT per message).
 * Its SMTPConnection encodes DATA as the worker's does (stuffData, libs/sending smtp/data-stuffing.ts):
 * this process loads @app/testing, which loads @app/sending, which replaces nodemailer's DataStream
 * `_transform` when it loads. So the floor is the worker's SMTP client without queue and database.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface FloorMessage {
  login: string;
  password: string;
  from: string;
  to: string[];
  raw: Buffer;
}

export interface FloorFigure {
  mode: 'reuse' | 'fresh';
  messages: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  connections: number;
  /** This process's CPU (user + system) per message while it sent: what the worker's listenerCpuMsPerMessage compares with. */
  cpuMsPerMessage: number;
}

interface Session {
  connection: SMTPConnection;
}

function call<T>(connection: SMTPConnection, run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    connection.once('error', onError);
    run((error, value) => {
      connection.off('error', onError);
      if (error) reject(error);
      else resolve(value as T);
    });
  });
}

async function open(host: string, port: number, message: FloorMessage): Promise<Session> {
  const connection = new SMTPConnection({ host, port, requireTLS: true, tls: { rejectUnauthorized: false }, logger: false });
  connection.on('error', () => undefined);
  await call<void>(connection, (done) => connection.connect(() => done(null)));
  await call<boolean>(connection, (done) => connection.login({ user: message.login, credentials: { user: message.login, pass: message.password } }, done));
  return { connection };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

export async function measureFloor(host: string, port: number, messages: FloorMessage[], slots: number, mode: 'reuse' | 'fresh'): Promise<FloorFigure> {
  const idle = new Map<string, Session[]>();
  let next = 0;
  let connections = 0;
  const latencies: number[] = [];
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const slot = async () => {
    while (next < messages.length) {
      const message = messages[next++];
      const at = Date.now();
      let session = mode === 'reuse' ? idle.get(message.login)?.pop() : undefined;
      if (session) await call<void>(session.connection, (done) => session!.connection.reset((error) => done(error ?? null)));
      else {
        session = await open(host, port, message);
        connections += 1;
      }
      await call(session.connection, (done) => session!.connection.send({ from: message.from, to: message.to }, message.raw, (error, info) => done(error, info)));
      latencies.push(Date.now() - at);
      if (mode === 'reuse') {
        const list = idle.get(message.login) ?? [];
        list.push(session);
        idle.set(message.login, list);
      } else {
        session.connection.quit();
      }
    }
  };
  await Promise.all(Array.from({ length: slots }, slot));
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  for (const list of idle.values()) for (const session of list) session.connection.quit();
  latencies.sort((a, b) => a - b);
  return { mode, messages: messages.length, perSecond: Math.round(messages.length / seconds), latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }, connections, cpuMsPerMessage: Number(((cpu.user + cpu.system) / 1000 / messages.length).toFixed(2)) };
}
