/**
 * Summarises a .cpuprofile: self time by function and by package/file, top entries.
 *   node dist-bench/bench/webhooks/profile-summary.js FILE [--top=40]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const d = url.indexOf('/dist/');
  return d >= 0 ? url.slice(d + 6) : url;
}

const fn = new Map<string, number>();
const pkg = new Map<string, number>();
// Inclusive time of our own (first-party) frames: the deepest one of ours on each sample's stack.
const ours = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anon)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  pkg.set(where(n.callFrame.url), (pkg.get(where(n.callFrame.url)) ?? 0) + t);
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!.callFrame;
    if (c.url.includes('/dist/') && !c.url.includes('node_modules')) {
      const k = `${c.functionName || '(anon)'} ${where(c.url)}:${c.lineNumber + 1}`;
      ours.set(k, (ours.get(k) ?? 0) + t);
      break;
    }
  }
}
// Inclusive time per function (each function counted once per sample, however deep it recurses).
const inclusive = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!.callFrame;
    const k = `${c.functionName || '(anon)'} ${where(c.url)}:${c.lineNumber + 1}`;
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
}
// Share by area: the first rule (in this order) that any frame of a sample's stack matches. Async
// continuations start from the socket that answered, so the package owning a frame decides as well.
const AREAS: [string, (frame: Node['callFrame']) => boolean][] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['start-up (module loading)', (f) => f.functionName === 'Module._load'],
  ['fan-out (webhook-fanout jobs, adds to the endpoint queues)', (f) => /webhook-fanout\.worker|flow-producer/.test(f.url) || f.functionName === 'addFlow'],
  ['delivery log and other Postgres', (f) => /delivery-log|webhooks\.repository|node_modules\/(pg|pg-protocol|pg-pool|typeorm)\//.test(f.url)],
  ['HTTP POST (undici)', (f) => /webhook-sender|node_modules\/undici\//.test(f.url)],
  ['signing, metrics, the rest of an attempt', (f) => /webhook-delivery\.processor|webhook-signature|webhook\.metrics|prom-client/.test(f.url)],
  ['BullMQ and Redis (job fetch, lock, complete)', (f) => /node_modules\/(bullmq|ioredis|msgpackr|redis-parser)\//.test(f.url)],
];
const areas = new Map<string, number>();
for (const [id, t] of self) {
  let area = 'other (Node internals, Nest, the listener)';
  const frames: Node['callFrame'][] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) frames.push(byId.get(cur)!.callFrame);
  for (const [name, match] of AREAS) {
    if (frames.some(match)) {
      area = name;
      break;
    }
  }
  areas.set(area, (areas.get(area) ?? 0) + t);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n== ${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`total sampled ${(total / 1e6).toFixed(1)} s`);
show('share by area', areas);
show('self time by package/file', pkg);
show('self time by function', fn);
show('inclusive time by function', inclusive);
show('time attributed to the deepest first-party frame', ours);
