import { z } from 'zod';

const port = (fallback: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => value === undefined || hasProtocol(value, protocols), {
      message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    });

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/**
 * The environment as the service reads it. Every variable is documented in the README's configuration
 * table; a value that fails here stops the process with one line per problem (see loadConfig).
 */
export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200').default(10),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']).transform((value) => value ?? 'redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _').default('bull'),
  API_HOST: z.string().trim().min(1).default('0.0.0.0'),
  API_PORT: port(3000),
  LISTENER_PORT: port(3001),
  API_KEYS: commaList.refine((keys) => keys.every((key) => key.length >= 16), {
    message: 'every key must be at least 16 characters long',
  }),
  ENCRYPTION_KEY: z.string().trim().optional(),
  ENCRYPTION_OLD_KEYS: commaList,
  PUBLIC_BASE_URL: optionalUrl(['http:', 'https:']),
  OUTBOUND_ALLOWED_NETWORKS: commaList,
  OAUTH_REDIRECT_URI: optionalUrl(['http:', 'https:']),
  OAUTH_CA_FILE: z.string().trim().optional().transform((value) => (value === '' ? undefined : value)),
  OAUTH_REFRESH_CHECK_INTERVAL_MS: z.coerce.number().int().min(100, 'must be at least 100').max(600_000, 'must be at most 600000').default(5000),
  OAUTH_REFRESH_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').max(256, 'must be at most 256').default(8),
  OAUTH_REFRESH_MIN_LEAD_SECONDS: z.coerce.number().int().min(30, 'must be at least 30').max(86_400, 'must be at most 86400').default(600),
  OAUTH_REFRESH_LEAD_FRACTION: z.coerce.number().min(0, 'must be between 0 and 0.9').max(0.9, 'must be between 0 and 0.9').default(0.2),
  OAUTH_REFRESH_JITTER_FRACTION: z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.5),
  LISTENER_ID: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, . - or _').optional(),
  CLUSTER_HEARTBEAT_MS: z.coerce.number().int().min(50, 'must be at least 50').max(60_000, 'must be at most 60000').default(2000),
  CLUSTER_LEASE_TTL_MS: z.coerce.number().int().min(200, 'must be at least 200').max(600_000, 'must be at most 600000').default(10_000),
  CLUSTER_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(1000, 'must be at least 1000').max(600_000, 'must be at most 600000').default(25_000),
  // Unset or empty: no cap.
  LISTENER_MAX_MAILBOXES: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1 (leave it unset for no cap)').max(10_000_000, 'must be at most 10000000').optional(),
  ),
  SYNC_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(1000),
  LISTENER_HEAP_COMPACTION: z.enum(['every-gc', 'v8-default']).default('every-gc'),
  LISTENER_HEAP_GROWTH_PERCENT: z.coerce.number().int('must be a whole number').min(0, "must be 0 (V8's own growing factor) or more").max(1000, 'must be at most 1000').default(100),
  IMAP_CONNECT_RATE_PER_HOST: z.coerce.number().min(0.1, 'must be at least 0.1').max(10_000, 'must be at most 10000').default(200),
  IMAP_HANDOVER_CONNECT_RATE_PER_HOST: z.coerce.number().min(0.1, 'must be at least 0.1').max(10_000, 'must be at most 10000').default(30),
  SYNC_CONNECT_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(100),
  IMAP_AUTH_DISABLE_AFTER_HOURS: z.coerce.number().min(0, 'must be 0 (never) or more').max(8760, 'must be at most 8760').default(72),
  IMAP_SAFETY_SWEEP_MINUTES: z.coerce.number().min(0, 'must be 0 (off) or more').max(1440, 'must be at most 1440').default(15),
  GRAPH_SUBSCRIPTION_MINUTES: z.coerce.number().int().min(45, 'must be at least 45').max(10_070, 'must be at most 10070 (the Graph limit for mail subscriptions)').default(4230),
  GRAPH_SAFETY_DELTA_MINUTES: z.coerce.number().min(0, 'must be 0 (off) or more').max(1440, 'must be at most 1440').default(15),
  MESSAGES_SESSIONS_PER_MAILBOX: z.coerce.number().int().min(1, 'must be at least 1').max(10, 'must be at most 10').default(2),
  MESSAGES_IDLE_SECONDS: z.coerce.number().min(0.1, 'must be at least 0.1').max(3600, 'must be at most 3600').default(60),
  MESSAGES_TIMEOUT_SECONDS: z.coerce.number().min(0.1, 'must be at least 0.1').max(600, 'must be at most 600').default(30),
  GRAPH_POLL_INTERVAL_SECONDS: z.coerce.number().min(1, 'must be at least 1').max(3600, 'must be at most 3600').default(30),
  SEND_WORKER: z.enum(['on', 'off']).default('on'),
  SEND_MAX_BYTES: z.coerce.number().int().min(1024, 'must be at least 1024').max(157_286_400, 'must be at most 157286400 (150 MB)').default(26_214_400),
  SEND_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(16),
  SEND_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(600_000, 'must be at most 600000').default(60_000),
  SEND_RETRY_BASE_MS: z.coerce.number().int().min(10, 'must be at least 10').max(3_600_000, 'must be at most 3600000').default(5_000),
  SEND_RETRY_MAX_MS: z.coerce.number().int().min(10, 'must be at least 10').max(3_600_000, 'must be at most 3600000').default(300_000),
  SEND_RETRY_WINDOW_MINUTES: z.coerce.number().int().min(1, 'must be at least 1').max(1440, 'must be at most 1440').default(60),
  SEND_CONNECTIONS_PER_MAILBOX: z.coerce.number().int().min(0, 'must be at least 0 (0: no connection reuse)').max(100, 'must be at most 100').default(2),
  SEND_CONNECTION_IDLE_MS: z.coerce.number().int().min(100, 'must be at least 100').max(600_000, 'must be at most 600000').default(30_000),
  // At least a day: a send pruned sooner would let its Idempotency-Key (24 h) send the message again.
  SEND_RETENTION_DAYS: z.coerce.number().int().min(1, 'must be at least 1 (an Idempotency-Key names its send for 24 h)').max(3650, 'must be at most 3650').default(7),
  WEBHOOK_DELIVERY: z.enum(['on', 'off']).default('on'),
  CONSOLE_QUEUE_ACTIONS: z.enum(['on', 'off']).default('off'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(10_000),
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(32),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10, 'must be at least 10').max(3_600_000, 'must be at most 3600000').default(5_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10, 'must be at least 10').max(21_600_000, 'must be at most 21600000').default(3_600_000),
  HTTP_BODY_LIMIT: z
    .string()
    .trim()
    .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 100kb or 1mb')
    .default('256kb'),
});

export type Environment = z.infer<typeof environmentSchema>;
