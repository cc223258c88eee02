import { hostname } from 'node:os';
import type { TransportSingleOptions } from 'pino';

/**
 * Human-readable lines (pino-pretty) for someone watching a terminal in development — `npm start` as a
 * newcomer runs it; JSON lines everywhere else (production, tests, anything piped into a log collector).
 */
export function wantsPrettyLogs(env: string, stdoutIsTTY: boolean | undefined): boolean {
  return env === 'development' && stdoutIsTTY === true;
}

/**
 * pino's transport for pretty lines, or undefined for JSON. pino-pretty is a development dependency: where
 * it is not installed (an image built without them), the lines stay JSON rather than the process failing.
 */
export function prettyTransport(env: string, stdoutIsTTY: boolean | undefined): TransportSingleOptions | undefined {
  if (!wantsPrettyLogs(env, stdoutIsTTY)) return undefined;
  try {
    require.resolve('pino-pretty');
  } catch {
    return undefined;
  }
  return { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } };
}

/** Fields on every line of a process: pino's usual pid and hostname, and the listener replica's id. */
export function baseLogFields(replicaId?: string): Record<string, unknown> {
  return { pid: process.pid, hostname: hostname(), ...(replicaId ? { replicaId } : {}) };
}
