import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { applyHeapCompaction, closeOnSignals } from '@app/lifecycle';
import { createListenerApp } from './listener.app';
import { errorMessage } from '@app/failures';

/** What a close may take after the drain: stopping the runners left, releasing their leases, closing sessions and pools. */
const CLOSE_AFTER_DRAIN_MS = 10_000;

async function main(): Promise<void> {
  process.title = 'mail-listener-listener';
  const config = loadConfigOrExit();
  applyHeapCompaction(config.listener.heapCompaction);
  const app = await createListenerApp(config);
  // The drain (CLUSTER_DRAIN_TIMEOUT_MS) runs inside the close; the rest (releasing, closing pools) needs a few seconds more.
  closeOnSignals(app, config.cluster.drainTimeoutMs + CLOSE_AFTER_DRAIN_MS);
  await app.listen(config.listener.port, config.api.host);
}

main().catch((error: unknown) => {
  process.stderr.write(`Listener failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
