/**
 * The listener's heap policy (LISTENER_HEAP_COMPACTION) in a real Node process: long-lived objects born
 * among promoted garbage, as the sessions of a start wave are, then one full GC. The built
 * applyHeapCompaction is what the listener's main calls.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BUILT = join(__dirname, '..', 'dist', 'libs', 'lifecycle', 'src', 'heap-compaction.js');

const SCRIPT = `
const v8 = require('node:v8');
require(${JSON.stringify(BUILT)}).applyHeapCompaction(process.argv[1]);
const kept = [];
let garbage = [];
for (let i = 0; i < 2000000; i++) {
  const item = { n: i, text: 'session-' + i, list: [i, i + 1, i + 2] };
  if (i % 8 === 0) kept.push(item); else garbage.push(item);
  // Garbage lives long enough to be promoted to the old space, then dies.
  if (garbage.length > 300000) garbage = [];
}
garbage = null;
globalThis.gc();
const old = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space');
process.stdout.write(JSON.stringify({ kept: kept.length, committed: old.space_size, used: old.space_used_size }));
`;

function oldSpaceAfterFullGc(mode: string): { kept: number; committed: number; used: number } {
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', SCRIPT, mode], { encoding: 'utf8' }));
}

describe('LISTENER_HEAP_COMPACTION', () => {
  it('every-gc: one full GC leaves the old space about as large as what lives in it', () => {
    const heap = oldSpaceAfterFullGc('every-gc');
    expect(heap.kept).toBe(250_000);
    expect(heap.committed / heap.used).toBeLessThan(1.5);
  });

  it('v8-default: the same heap keeps its partly filled pages (the fragmentation every-gc removes)', () => {
    const heap = oldSpaceAfterFullGc('v8-default');
    expect(heap.committed / heap.used).toBeGreaterThan(2);
  });
});

/**
 * LISTENER_HEAP_GROWTH_PERCENT, set by applyHeapGrowth as the listener's main does (at run time, not on
 * the command line): long-lived objects pile up as sessions do while a replica takes others' mailboxes.
 */
const GROWTH_SCRIPT = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
require(${JSON.stringify(join(__dirname, '..', 'dist', 'libs', 'lifecycle', 'src', 'heap-compaction.js'))}).applyHeapGrowth(Number(process.argv[1]));
let fullGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
}).observe({ entryTypes: ['gc'] });
const kept = [];
let garbage = [];
for (let i = 0; i < 3000000; i++) {
  const item = { n: i, text: 'session-' + i, list: [i, i + 1, i + 2] };
  if (i % 4 === 0) kept.push(item); else garbage.push(item);
  if (garbage.length > 100000) garbage = [];
}
// GC entries are delivered on a later turn.
setTimeout(() => process.stdout.write(JSON.stringify({ kept: kept.length, fullGcs })), 50);
`;

function fullGcsWhileGrowing(percent: number): number {
  const { kept, fullGcs } = JSON.parse(execFileSync(process.execPath, ['-e', GROWTH_SCRIPT, String(percent)], { encoding: 'utf8' }));
  expect(kept).toBe(750_000);
  return fullGcs;
}

describe('LISTENER_HEAP_GROWTH_PERCENT', () => {
  it('sets how far the heap grows between full GCs: 100 runs far fewer of them than a tight 5 (as V8 picks after shrinking an idle heap)', () => {
    const tight = fullGcsWhileGrowing(5);
    const doubling = fullGcsWhileGrowing(100);
    expect(doubling).toBeGreaterThan(0);
    expect(tight).toBeGreaterThan(doubling + 3);
  });
});
