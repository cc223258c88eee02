/**
 * Microsoft Graph webhook ingest: how many notifications per second the API's receiver accepts, and how fast.
 *
 *   npm run bench:graph-ingest -- [--seconds=10] [--batch=20] [--concurrency=32] [--subscriptions=1000]
 *                                 [--warmup=2] [--log-level=info] [--cpu-prof[=dir]] [--strict]
 *
 * Creates a database, starts the built API as its own process (logging at `--log-level`, `info` = every
 * request, as in production), seeds the subscriptions, then runs the phases below and prints their
 * figures. `--cpu-prof` writes a V8 CPU profile of the API when it stops (open it in Chrome DevTools);
 * `--strict` exits 2 when an accepted notification did not reach the queue.
 * Needs Postgres (DATABASE_URL) and Redis (REDIS_URL); the npm script builds first.
 */
import { join } from 'node:path';
import { flagArg, numberArg, stringArg } from './args';
import { startBenchEnvironment } from './environment';
import { ingestPhase } from './ingest-phase';
import { BenchPhase } from './phase';

async function main(): Promise<void> {
  const profileArg = process.argv.find((arg) => arg === '--cpu-prof' || arg.startsWith('--cpu-prof='));
  const cpuProfileDir = profileArg ? (profileArg.includes('=') ? profileArg.split('=')[1] : join(process.cwd(), 'cpu-profiles')) : undefined;
  const env = await startBenchEnvironment({ logLevel: stringArg('log-level', 'info'), cpuProfileDir });
  const phases: BenchPhase[] = [
    ingestPhase({
      seconds: numberArg('seconds', 10),
      warmupSeconds: numberArg('warmup', 2),
      batch: Math.max(1, numberArg('batch', 20)),
      concurrency: Math.max(1, numberArg('concurrency', 32)),
      subscriptions: Math.max(1, numberArg('subscriptions', 1000)),
    }),
  ];
  let failed = false;
  try {
    for (const phase of phases) {
      console.log(`\n--- ${phase.name}`);
      const report = await phase.run(env);
      for (const line of report.lines) console.log(`  ${line}`);
      console.log(`  ${JSON.stringify(report.figures)}`);
      if (report.figures.allQueued === false) failed = true;
    }
  } finally {
    await env.stop();
    if (cpuProfileDir) console.log(`\nCPU profile of the API written to ${cpuProfileDir}`);
  }
  if (flagArg('strict') && failed) process.exit(2);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
