import { Global, Logger, Module } from '@nestjs/common';
import { join } from 'node:path';
import { APP_CONFIG, AppConfig } from '@app/config';
import { readOrCreateDevSecret } from './dev-key-file';
import { KeyRing } from './key-ring';
import { SecretBox } from './secret-box';

export function keyRingFromConfig(config: AppConfig, logger = new Logger('Crypto')): KeyRing {
  let current = config.encryption.key;
  if (!current) {
    const path = join(config.dataDir, 'dev-encryption.key');
    const dev = readOrCreateDevSecret(path);
    logger.warn(`ENCRYPTION_KEY is not set: using the development key in ${path} (set ENCRYPTION_KEY in production)`);
    current = dev.value;
  }
  return KeyRing.fromBase64(current, config.encryption.oldKeys);
}

@Global()
@Module({
  providers: [{ provide: SecretBox, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new SecretBox(keyRingFromConfig(config)) }],
  exports: [SecretBox],
})
export class CryptoModule {}
