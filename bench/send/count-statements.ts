/**
 * Preloaded into the listener (`--require`, as bench/webhooks/cpu-profile): counts the statements its pg
 * clients send (every Client.query, BEGIN and COMMIT included, by first word) and writes them as JSON to
 * BENCH_STATEMENTS_FILE at SIGTERM. Counts everything the process sends, its background work too (leases,
 * the event outbox relay, sweeps): the bench divides by the messages sent.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_STATEMENTS_FILE;
if (file) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const counts: Record<string, number> = {};
  /** By statement (its first 120 characters, whitespace folded), to FILE.texts.json: where they come from. */
  const texts: Record<string, number> = {};
  const query = Client.prototype.query;
  Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : config?.text;
    if (text) {
      const word = text.trim().split(/\s+/)[0].toUpperCase();
      counts[word] = (counts[word] ?? 0) + 1;
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 120);
      texts[key] = (texts[key] ?? 0) + 1;
    }
    return query.apply(this, args);
  };
  process.prependOnceListener('SIGTERM', () => {
    writeFileSync(file, JSON.stringify(counts));
    writeFileSync(`${file}.texts.json`, JSON.stringify(Object.fromEntries(Object.entries(texts).sort((a, b) => b[1] - a[1])), null, 1));
  });
}
