/**
 * Preloaded into the delivering process (`BENCH_LISTENER_CPU_PROFILE=DIR`, passed as NODE_OPTIONS=--require:
 * Node 20 refuses --cpu-prof in NODE_OPTIONS): profiles it with the inspector from start to SIGTERM and
 * writes DIR/listener-<pid>.cpuprofile (open in Chrome DevTools, or summarise with bench/webhooks/profile-summary).
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
  process.prependOnceListener('SIGTERM', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `listener-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
