/**
 * The listener's heap policy (LISTENER_HEAP_COMPACTION, LISTENER_HEAP_GROWTH_PERCENT) in a real Node process: long-lived objects born
 * among promoted garbage, as the sessions of a start wave are, then one full GC. The built
 * applyHeapCompaction is what the listener's main calls.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A built file of libs/lifecycle: what the listener runs. */
const built = (file: string): string => join(__dirname, '..', 'dist', 'libs', 'lifecycle', 'src', file);

/**
 * Script lines that make `items` objects and keep one in `keepEvery` (the sessions); the rest is garbage that
 * lives long enough to be promoted to the old space, then dies (`garbageHeld` at a time).
 */
function pileUp(items: number, keepEvery: number, garbageHeld: number): string {
  return `
const kept = [];
let garbage = [];
for (let i = 0; i < ${items}; i++) {
  const item = { n: i, text: 'session-' + i, list: [i, i + 1, i + 2] };
  if (i % ${keepEvery} === 0) kept.push(item); else garbage.push(item);
  if (garbage.length > ${garbageHeld}) garbage = [];
}`;
}

const SCRIPT = `
const v8 = require('node:v8');
require(${JSON.stringify(built('heap-compaction.js'))}).applyHeapCompaction(process.argv[1]);
${pileUp(2_000_000, 8, 300_000)}
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
 * LISTENER_HEAP_GROWTH_PERCENT, set by HeapGrowthOnceSettled as the listener's supervisor does (at run
 * time, once its connect gate has been quiet): long-lived objects then pile up as sessions do while a
 * replica takes others' mailboxes.
 */
const GROWTH_SCRIPT = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
const { HeapGrowthOnceSettled, SETTLED_QUIET_MS } = require(${JSON.stringify(built('heap-growth-once-settled.js'))});
let now = 0;
const growth = new HeapGrowthOnceSettled(Number(process.argv[1]), undefined, () => now);
growth.observe(0);
now += SETTLED_QUIET_MS;
growth.observe(0);
if (!growth.active) throw new Error('not set after a quiet spell');
let fullGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
}).observe({ entryTypes: ['gc'] });
${pileUp(3_000_000, 4, 100_000)}
// GC entries are delivered on a later turn.
setTimeout(() => process.stdout.write(JSON.stringify({ kept: kept.length, fullGcs })), 50);
`;

function fullGcsWhileGrowing(percent: number): number {
  const { kept, fullGcs } = JSON.parse(execFileSync(process.execPath, ['-e', GROWTH_SCRIPT, String(percent)], { encoding: 'utf8' }));
  expect(kept).toBe(750_000);
  return fullGcs;
}

describe('LISTENER_HEAP_GROWTH_PERCENT', () => {
  it('set at run time, it decides how far the heap grows between full GCs: 100 runs far fewer than a tight 5 (what V8 picks after shrinking an idle heap)', () => {
    const tight = fullGcsWhileGrowing(5);
    const doubling = fullGcsWhileGrowing(100);
    expect(doubling).toBeGreaterThan(0);
    expect(tight).toBeGreaterThan(doubling + 3);
  });
});
