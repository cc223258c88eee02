import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { closeOnSignals } from '@app/lifecycle';
import { createApiApp } from './api.app';
import { errorMessage } from '@app/failures';

async function main(): Promise<void> {
  process.title = 'mail-listener-api';
  const config = loadConfigOrExit();
  const app = await createApiApp(config);
  closeOnSignals(app);
  await app.listen(config.api.port, config.api.host);
}

main().catch((error: unknown) => {
  process.stderr.write(`API failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
