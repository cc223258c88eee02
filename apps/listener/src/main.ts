import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { applyHeapCompaction, closeOnSignals } from '@app/lifecycle';
import { createListenerApp } from './listener.app';

async function main(): Promise<void> {
  process.title = 'mail-listener-listener';
  const config = loadConfigOrExit();
  applyHeapCompaction(config.listener.heapCompaction);
  const app = await createListenerApp(config);
  closeOnSignals(app);
  await app.listen(config.listener.port, config.api.host);
}

main().catch((error: unknown) => {
  process.stderr.write(`Listener failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
