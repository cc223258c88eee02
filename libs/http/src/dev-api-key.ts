import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { readOrCreateDevSecret } from '@app/crypto';

export function devApiKeyPath(config: AppConfig): string {
  return join(config.dataDir, 'dev-api-key');
}

/**
 * API keys in force. Without API_KEYS outside production, a random key is kept in DATA_DIR/dev-api-key
 * (the log names the file, never the key) so a fresh `npm start` is usable and still authenticated.
 */
export function effectiveApiKeys(config: AppConfig, logger = new Logger('ApiKeys')): string[] {
  if (config.api.keys.length > 0) return config.api.keys;
  const path = devApiKeyPath(config);
  const { value } = readOrCreateDevSecret(path, () => randomBytes(24).toString('base64url'));
  logger.warn(`API_KEYS is not set: using the development API key stored in ${path}`);
  return [value];
}
