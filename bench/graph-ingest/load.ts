import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadOptions {
  origin: string;
  path: string;
  bodies: Buffer[];
  concurrency: number;
  durationMs: number;
}

export interface LoadResult {
  /** Per status code, how many requests got it (0: network error). */
  byStatus: Map<number, number>;
  /** Number of the body each request with that status sent, for counting what was accepted. */
  bodiesByStatus: Map<number, number[]>;
  latenciesMs: number[];
  elapsedMs: number;
}

/**
 * POSTs the bodies in turn as fast as the server answers: `concurrency` keep-alive connections, one
 * request in flight on each (as Graph does), for `durationMs`.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const result: LoadResult = { byStatus: new Map(), bodiesByStatus: new Map(), latenciesMs: [], elapsedMs: 0 };
  const record = (status: number, body: number, ms: number) => {
    result.byStatus.set(status, (result.byStatus.get(status) ?? 0) + 1);
    let list = result.bodiesByStatus.get(status);
    if (!list) result.bodiesByStatus.set(status, (list = []));
    list.push(body);
    result.latenciesMs.push(ms);
  };
  const started = performance.now();
  const deadline = started + options.durationMs;
  let next = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const index = next++ % options.bodies.length;
      const t0 = performance.now();
      try {
        const response = await pool.request({ path: options.path, method: 'POST', headers: { 'content-type': 'application/json' }, body: options.bodies[index] });
        await response.body.dump();
        record(response.statusCode, index, performance.now() - t0);
      } catch {
        record(0, index, performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  result.elapsedMs = performance.now() - started;
  await pool.close();
  return result;
}
