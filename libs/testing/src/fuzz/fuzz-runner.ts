import { Pool } from 'undici';
import { POLLUTION_MARK } from './body-mutations';
import { FuzzCase } from './fuzz-case';
import { FuzzAnswer, FuzzFailure, judge, OracleOptions } from './fuzz-oracle';

export interface FuzzRunOptions extends OracleOptions {
  /** Lanes (operations) in flight at once; one keep-alive connection each. */
  concurrency: number;
  /** Per request; a hang is a failure, not a stuck test. */
  timeoutMs: number;
  /** Sees every request and its answer (the test writes them to FUZZ_LOG when asked). */
  onAnswer?: (fuzzCase: FuzzCase, answer: FuzzAnswer) => void;
}

export interface FuzzRun {
  requests: number;
  milliseconds: number;
  failures: FuzzFailure[];
}

/** Answers are read up to this size: enough for any error message, bounded for an echo of 1 MiB. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

async function send(pool: Pool, fuzzCase: FuzzCase, timeoutMs: number): Promise<FuzzAnswer> {
  try {
    const res = await pool.request({
      method: fuzzCase.method as 'GET',
      path: fuzzCase.url,
      headers: fuzzCase.headers,
      body: fuzzCase.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      if (size < MAX_ANSWER_BYTES) chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  } catch (error) {
    return { status: 0, headers: {}, text: '', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/**
 * Whether a request polluted Object.prototype. The API runs in this process (the test's harness), so
 * pollution by a body or query would show here; the mark is removed again so later requests are judged
 * on their own.
 */
function pollutedPrototype(): boolean {
  const prototype = Object.prototype as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(prototype, POLLUTION_MARK)) return false;
  delete prototype[POLLUTION_MARK];
  return true;
}

/** Runs every lane (its requests in order), `concurrency` lanes at a time, and judges every answer. */
export async function runFuzz(baseUrl: string, lanes: FuzzCase[][], options: FuzzRunOptions): Promise<FuzzRun> {
  const pool = new Pool(baseUrl, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const failures: FuzzFailure[] = [];
  const started = Date.now();
  let requests = 0;
  // Longest lanes first, so the last lane to finish is a short one.
  const queue = [...lanes].sort((a, b) => b.length - a.length);
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const lane = queue[next++];
      for (const fuzzCase of lane) {
        const answer = await send(pool, fuzzCase, options.timeoutMs);
        requests++;
        options.onAnswer?.(fuzzCase, answer);
        failures.push(...judge(fuzzCase, answer, options));
        if (pollutedPrototype()) failures.push({ kind: 'prototype polluted', fuzzCase, status: answer.status, message: `Object.prototype.${POLLUTION_MARK} was set` });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, lanes.length) }, worker));
  } finally {
    await pool.close();
  }
  return { requests, milliseconds: Date.now() - started, failures };
}
