/**
 * Preloaded into the delivering process (`--require`, as cpu-profile.ts): counts the commands its ioredis
 * clients send (every command, those of a pipeline or MULTI too; a BullMQ script by its name instead of
 * EVALSHA) and writes them as JSON to BENCH_REDIS_COMMANDS_FILE at SIGTERM. Counts everything the process sends, its
 * background work too (stalled checks, lock renewals, the endpoint reconcile): the bench divides by the
 * requests made.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_REDIS_COMMANDS_FILE;
if (file) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ioredis = require('ioredis') as { default: { prototype: Record<string, unknown> } };
  const proto = ioredis.default.prototype as {
    sendCommand: (command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown;
    defineCommand: (name: string, definition: { lua: string }) => unknown;
  };
  const scripts = new Map<string, string>();
  const counts: Record<string, number> = {};
  let commands = 0;
  const defineCommand = proto.defineCommand;
  proto.defineCommand = function (this: unknown, name: string, definition: { lua: string }) {
    scripts.set(createHash('sha1').update(definition.lua).digest('hex'), name);
    return defineCommand.call(this, name, definition);
  };
  const sendCommand = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command: { name: string; args: unknown[] }, ...rest: unknown[]) {
    const name = command.name === 'evalsha' || command.name === 'eval' ? `script:${scripts.get(String(command.args[0])) ?? (command.name === 'eval' ? 'eval' : 'unknown')}` : command.name;
    counts[name] = (counts[name] ?? 0) + 1;
    commands += 1;
    return sendCommand.call(this, command, ...rest);
  };
  process.prependOnceListener('SIGTERM', () => {
    writeFileSync(file, JSON.stringify({ commands, byCommand: Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1])) }));
  });
}
