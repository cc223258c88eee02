import { DataSource } from 'typeorm';
import { loadConfigOrExit } from '@app/config';
import { keyRingFromConfig, SecretBox } from '@app/crypto';
import { dataSourceOptions } from './data-source.options';
import { reencryptSecrets } from './secrets-reencryption';
import { errorMessage } from '@app/failures';

/** `npm run secrets:reencrypt`: after rotating ENCRYPTION_KEY, re-seal all secrets with the new key. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (!config.database.url) {
    process.stderr.write('DATABASE_URL: is required for `npm run secrets:reencrypt`\n');
    process.exit(78);
  }
  const dataSource = await new DataSource(dataSourceOptions(config.database.url, 1, 'mail-listener-reencrypt')).initialize();
  try {
    const report = await reencryptSecrets(dataSource, new SecretBox(keyRingFromConfig(config)));
    process.stdout.write(`Examined ${report.examined} secrets, re-encrypted ${report.reencrypted} with the current key.\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Re-encryption failed: ${errorMessage(error)}\n`);
  process.exit(1);
});
