import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { AppConfig } from './app-config';
import { ConfigError } from './config.error';
import { environmentSchema } from './config.schema';
import { parseNetworkList } from './network-list';

const EXAMPLES: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  DATABASE_URL: 'postgres://mail:secret@db:5432/mail_listener',
  DATABASE_POOL_SIZE: '10',
  DATA_DIR: './data',
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: 'bull',
  API_HOST: '0.0.0.0',
  API_PORT: '3000',
  LISTENER_PORT: '3001',
  API_KEYS: 'a-long-random-key-1,a-long-random-key-2',
  ENCRYPTION_KEY: 'output of `openssl rand -base64 32`',
  ENCRYPTION_OLD_KEYS: 'previous base64 key(s), comma-separated',
  PUBLIC_BASE_URL: 'https://mail-listener.example.com',
  OUTBOUND_ALLOWED_NETWORKS: '10.20.0.0/16,fd00:20::/32',
  HTTP_BODY_LIMIT: '256kb',
  LISTENER_ID: 'listener-0',
  SYNC_RECONCILE_INTERVAL_MS: '1000',
  CLUSTER_HEARTBEAT_MS: '2000',
  CLUSTER_LEASE_TTL_MS: '10000',
  CLUSTER_DRAIN_TIMEOUT_MS: '25000',
  LISTENER_MAX_MAILBOXES: '2000',
  LISTENER_HEAP_COMPACTION: 'every-gc',
  LISTENER_HEAP_GROWTH_PERCENT: '100',
  IMAP_CONNECT_RATE_PER_HOST: '200',
  IMAP_HANDOVER_CONNECT_RATE_PER_HOST: '30',
  SYNC_CONNECT_CONCURRENCY: '100',
  IMAP_AUTH_DISABLE_AFTER_HOURS: '72',
  IMAP_SAFETY_SWEEP_MINUTES: '15',
  GRAPH_SUBSCRIPTION_MINUTES: '4230',
  GRAPH_SAFETY_DELTA_MINUTES: '15',
  GRAPH_POLL_INTERVAL_SECONDS: '30',
  MESSAGES_SESSIONS_PER_MAILBOX: '2',
  MESSAGES_IDLE_SECONDS: '60',
  MESSAGES_TIMEOUT_SECONDS: '30',
  OAUTH_REDIRECT_URI: 'https://mail-listener.example.com/v1/oauth/callback',
  OAUTH_CA_FILE: '/etc/ssl/certs/corporate-proxy.pem',
  OAUTH_REFRESH_CHECK_INTERVAL_MS: '5000',
  OAUTH_REFRESH_CONCURRENCY: '8',
  OAUTH_REFRESH_MIN_LEAD_SECONDS: '600',
  OAUTH_REFRESH_LEAD_FRACTION: '0.2',
  OAUTH_REFRESH_JITTER_FRACTION: '0.5',
  SEND_WORKER: 'on',
  SEND_MAX_BYTES: '26214400',
  SEND_CONCURRENCY: '16',
  SEND_TIMEOUT_MS: '60000',
  SEND_RETRY_BASE_MS: '5000',
  SEND_RETRY_MAX_MS: '300000',
  SEND_RETRY_WINDOW_MINUTES: '60',
  SEND_CONNECTIONS_PER_MAILBOX: '2',
  SEND_CONNECTION_IDLE_MS: '30000',
  SEND_RETENTION_DAYS: '7',
  WEBHOOK_DELIVERY: 'on',
  CONSOLE_QUEUE_ACTIONS: 'on',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_ENDPOINT_CONCURRENCY: '32',
  WEBHOOK_RETRY_BASE_MS: '5000',
  WEBHOOK_RETRY_MAX_MS: '3600000',
};

function problem(name: string, what: string): string {
  const example = EXAMPLES[name];
  return example ? `${name}: ${what} (example: ${name}=${example})` : `${name}: ${what}`;
}

function isBase64Key(value: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

/**
 * Validates the environment and returns the typed configuration. Collects every problem before failing,
 * so an operator fixes them in one go rather than one restart per variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(problem(String(issue.path[0]), issue.message.toLowerCase() === 'required' ? 'is required' : issue.message));
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.ENCRYPTION_KEY !== undefined && e.ENCRYPTION_KEY !== '' && !isBase64Key(e.ENCRYPTION_KEY)) {
    problems.push(problem('ENCRYPTION_KEY', 'must be base64 of exactly 32 bytes'));
  }
  e.ENCRYPTION_OLD_KEYS.forEach((key, index) => {
    if (!isBase64Key(key)) problems.push(problem('ENCRYPTION_OLD_KEYS', `entry ${index + 1} must be base64 of exactly 32 bytes`));
  });
  if (e.NODE_ENV === 'production') {
    if (!e.ENCRYPTION_KEY) problems.push(problem('ENCRYPTION_KEY', 'is required when NODE_ENV=production'));
    if (e.API_KEYS.length === 0) problems.push(problem('API_KEYS', 'is required when NODE_ENV=production'));
  }
  const allowedNetworks = parseNetworkList(e.OUTBOUND_ALLOWED_NETWORKS);
  for (const line of allowedNetworks.problems) problems.push(problem('OUTBOUND_ALLOWED_NETWORKS', line));
  if (e.API_PORT === e.LISTENER_PORT) {
    problems.push(problem('LISTENER_PORT', `must differ from API_PORT (both are ${e.API_PORT})`));
  }
  if (e.CLUSTER_LEASE_TTL_MS < 3 * e.CLUSTER_HEARTBEAT_MS) {
    // Two missed heartbeats (a GC pause, a slow query) must not make a live replica look dead.
    problems.push(problem('CLUSTER_LEASE_TTL_MS', `must be at least 3 × CLUSTER_HEARTBEAT_MS (${3 * e.CLUSTER_HEARTBEAT_MS})`));
  }
  if (e.SEND_RETRY_MAX_MS < e.SEND_RETRY_BASE_MS) {
    problems.push(problem('SEND_RETRY_MAX_MS', `must be at least SEND_RETRY_BASE_MS (${e.SEND_RETRY_BASE_MS})`));
  }
  if (e.WEBHOOK_RETRY_MAX_MS < e.WEBHOOK_RETRY_BASE_MS) {
    problems.push(problem('WEBHOOK_RETRY_MAX_MS', `must be at least WEBHOOK_RETRY_BASE_MS (${e.WEBHOOK_RETRY_BASE_MS})`));
  }
  let caPem: string | undefined;
  if (e.OAUTH_CA_FILE) {
    try {
      caPem = readFileSync(e.OAUTH_CA_FILE, 'utf8');
      if (!caPem.includes('-----BEGIN CERTIFICATE-----')) problems.push(problem('OAUTH_CA_FILE', `${e.OAUTH_CA_FILE} holds no PEM certificate`));
    } catch {
      problems.push(problem('OAUTH_CA_FILE', `cannot read ${e.OAUTH_CA_FILE}`));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const publicBaseUrl = e.PUBLIC_BASE_URL?.replace(/\/+$/, '');

  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    api: { host: e.API_HOST, port: e.API_PORT, keys: e.API_KEYS, bodyLimit: e.HTTP_BODY_LIMIT.toLowerCase() },
    listener: {
      port: e.LISTENER_PORT,
      id: e.LISTENER_ID ?? `${hostname()}-${process.pid}`,
      reconcileIntervalMs: e.SYNC_RECONCILE_INTERVAL_MS,
      connectRatePerHost: e.IMAP_CONNECT_RATE_PER_HOST,
      handoverConnectRatePerHost: e.IMAP_HANDOVER_CONNECT_RATE_PER_HOST,
      connectConcurrency: e.SYNC_CONNECT_CONCURRENCY,
      authDisableAfterMs: e.IMAP_AUTH_DISABLE_AFTER_HOURS * 3600_000,
      safetySweepMs: e.IMAP_SAFETY_SWEEP_MINUTES * 60_000,
      heapCompaction: e.LISTENER_HEAP_COMPACTION,
      heapGrowthPercent: e.LISTENER_HEAP_GROWTH_PERCENT,
      maxMailboxes: e.LISTENER_MAX_MAILBOXES,
    },
    cluster: { heartbeatMs: e.CLUSTER_HEARTBEAT_MS, leaseTtlMs: e.CLUSTER_LEASE_TTL_MS, drainTimeoutMs: e.CLUSTER_DRAIN_TIMEOUT_MS },
    graph: {
      subscriptionMinutes: e.GRAPH_SUBSCRIPTION_MINUTES,
      safetyDeltaMs: e.GRAPH_SAFETY_DELTA_MINUTES * 60_000,
      pollIntervalMs: e.GRAPH_POLL_INTERVAL_SECONDS * 1000,
    },
    messages: { sessionsPerMailbox: e.MESSAGES_SESSIONS_PER_MAILBOX, idleMs: e.MESSAGES_IDLE_SECONDS * 1000, timeoutMs: e.MESSAGES_TIMEOUT_SECONDS * 1000 },
    encryption: { key: e.ENCRYPTION_KEY || undefined, oldKeys: e.ENCRYPTION_OLD_KEYS },
    publicBaseUrl,
    outbound: { allowedNetworks: allowedNetworks.networks },
    sending: {
      worker: e.SEND_WORKER === 'on',
      maxBytes: e.SEND_MAX_BYTES,
      concurrency: e.SEND_CONCURRENCY,
      timeoutMs: e.SEND_TIMEOUT_MS,
      retry: { baseMs: e.SEND_RETRY_BASE_MS, maxMs: e.SEND_RETRY_MAX_MS, windowMs: e.SEND_RETRY_WINDOW_MINUTES * 60_000 },
      connectionsPerMailbox: e.SEND_CONNECTIONS_PER_MAILBOX,
      connectionIdleMs: e.SEND_CONNECTION_IDLE_MS,
      retentionMs: e.SEND_RETENTION_DAYS * 86_400_000,
    },
    console: { queueActions: e.CONSOLE_QUEUE_ACTIONS === 'on' },
    webhooks: {
      delivery: e.WEBHOOK_DELIVERY === 'on',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      endpointConcurrency: e.WEBHOOK_ENDPOINT_CONCURRENCY,
      retry: { baseMs: e.WEBHOOK_RETRY_BASE_MS, maxMs: e.WEBHOOK_RETRY_MAX_MS },
    },
    oauth: {
      redirectUri: e.OAUTH_REDIRECT_URI ?? `${publicBaseUrl ?? `http://localhost:${e.API_PORT}`}/v1/oauth/callback`,
      caPem,
      refresh: {
        checkIntervalMs: e.OAUTH_REFRESH_CHECK_INTERVAL_MS,
        concurrency: e.OAUTH_REFRESH_CONCURRENCY,
        minLeadMs: e.OAUTH_REFRESH_MIN_LEAD_SECONDS * 1000,
        leadFraction: e.OAUTH_REFRESH_LEAD_FRACTION,
        jitterFraction: e.OAUTH_REFRESH_JITTER_FRACTION,
      },
    },
  };
}

/** For main.ts files: print each problem on its own line and exit, instead of a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
