/**
 * Microsoft Graph: how many notifications per second the API's receiver accepts, and how fast (ingest);
 * then Graph notification → `mail.received` end to end through the API and the listener (e2e).
 *
 *   npm run bench:graph-ingest -- [--phases=ingest,e2e] [--log-level=info] [--cpu-prof[=dir]] [--strict]
 *       ingest: [--seconds=10] [--batch=20] [--concurrency=32] [--subscriptions=1000] [--warmup=2]
 *       e2e:    [--mailboxes=50] [--messages=300] [--e2e-warmup=20] [--graph-delay=20] [--gap=20]
 *
 * Creates a database, starts the built API as its own process (logging at `--log-level`, `info` = every
 * request, as in production), then runs the phases and prints their figures. ingest seeds subscriptions
 * and POSTs notification batches as fast as the API answers. e2e starts a fake Entra ID and fake Graph
 * in this process (every Graph answer held `--graph-delay` ms: Graph's own response time), the built
 * listener with PUBLIC_BASE_URL = the API, subscribes `--mailboxes` app-only mailboxes, and delivers
 * `--messages` messages one at a time, each timed until its `mail.received` job is in Redis.
 * `--cpu-prof` writes V8 CPU profiles of the API (and the listener) when they stop (open them in Chrome
 * DevTools); `--strict` exits 2 when an accepted notification did not reach the queue or a message was
 * not published exactly once.
 * Needs Postgres (DATABASE_URL) and Redis (REDIS_URL); the npm script builds first.
 */
import { join } from 'node:path';
import { flagArg, numberArg, stringArg } from './args';
import { endToEndPhase } from './e2e-phase';
import { startBenchEnvironment } from './environment';
import { BenchGraphFakes, startGraphFakes } from './graph-fakes';
import { ingestPhase } from './ingest-phase';
import { BenchPhase } from './phase';

async function main(): Promise<void> {
  const profileArg = process.argv.find((arg) => arg === '--cpu-prof' || arg.startsWith('--cpu-prof='));
  const cpuProfileDir = profileArg ? (profileArg.includes('=') ? profileArg.split('=')[1] : join(process.cwd(), 'cpu-profiles')) : undefined;
  const wanted = new Set(stringArg('phases', 'ingest,e2e').split(',').map((name) => name.trim()));
  // The fakes first: the apps need the fake Entra ID's CA from their start. They listen on 127.0.0.1 over plain
  // http, which production's outbound policy refuses unless allow-listed.
  const fakes: BenchGraphFakes | undefined = wanted.has('e2e') ? await startGraphFakes() : undefined;
  const env = await startBenchEnvironment({ logLevel: stringArg('log-level', 'info'), cpuProfileDir, extraEnv: fakes ? { OAUTH_CA_FILE: fakes.caFile, OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32' } : {} });
  const phases: BenchPhase[] = [];
  if (wanted.has('ingest')) {
    phases.push(
      ingestPhase({
        seconds: numberArg('seconds', 10),
        warmupSeconds: numberArg('warmup', 2),
        batch: Math.max(1, numberArg('batch', 20)),
        concurrency: Math.max(1, numberArg('concurrency', 32)),
        subscriptions: Math.max(1, numberArg('subscriptions', 1000)),
      }),
    );
  }
  if (fakes) {
    phases.push(
      endToEndPhase(fakes, {
        mailboxes: Math.max(1, numberArg('mailboxes', 50)),
        messages: Math.max(1, numberArg('messages', 300)),
        warmup: numberArg('e2e-warmup', 20),
        graphDelayMs: numberArg('graph-delay', 20),
        gapMs: numberArg('gap', 20),
      }),
    );
  }
  let failed = false;
  try {
    for (const phase of phases) {
      console.log(`\n--- ${phase.name}`);
      const report = await phase.run(env);
      for (const line of report.lines) console.log(`  ${line}`);
      console.log(`  ${JSON.stringify(report.figures)}`);
      if (report.figures.allQueued === false || report.figures.everyMessageOnce === false) failed = true;
    }
  } finally {
    await env.stop();
    await fakes?.stop();
    if (cpuProfileDir) console.log(`\nCPU profiles written to ${cpuProfileDir}`);
  }
  if (flagArg('strict') && failed) process.exit(2);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
