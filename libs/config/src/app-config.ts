import type { AllowedNetwork } from './network-list';

/** Typed, validated configuration shared by every app. Built once at start by loadConfig. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: {
    /** Connection string; in embedded mode the supervisor sets it to its PGlite socket. */
    url: string | undefined;
    poolSize: number;
  };
  dataDir: string;
  redisUrl: string;
  /** BullMQ key prefix (default `bull`): lets several deployments or test runs share one Redis. */
  queuePrefix: string;
  api: { host: string; port: number; keys: string[]; bodyLimit: string };
  listener: {
    port: number;
    /** Replica id shown as a mailbox's owner (default: host name and process id). */
    id: string;
    reconcileIntervalMs: number;
    /** New IMAP connections per second per server host (bursts of the same size). */
    connectRatePerHost: number;
    /**
     * Warm standbys' logins per second per server host (make-before-break hand-overs: drain, join). The
     * old owner listens meanwhile, so nothing waits for them; a login burst at the server's full rate
     * starves its pushes to every hibernated session (see Scaling listeners).
     */
    handoverConnectRatePerHost: number;
    /** Connection attempts in flight at once, all hosts (they queue beyond, not in the database pool). */
    connectConcurrency: number;
    /** Password mailboxes rejected this long are disabled (0: never). */
    authDisableAfterMs: number;
    /** Each IMAP session fetches past its cursor this often whatever IDLE said, and a session that does not answer is reconnected (0: off). */
    safetySweepMs: number;
    /**
     * `every-gc`: V8 compacts the old space on every full GC. Thousands of idle sessions are left scattered
     * over pages by the start's garbage, and V8's own heuristics compact only a few of them per GC.
     */
    heapCompaction: 'every-gc' | 'v8-default';
    /**
     * How much the old space may grow between full GCs, in percent of what lived after the last one, from
     * when the listener's first connects are done (0: V8's own factor, which it lowers to ~10 % once its
     * memory reducer has shrunk an idle heap).
     */
    heapGrowthPercent: number;
    /** LISTENER_MAX_MAILBOXES: no replica is assigned more; beyond every replica's cap mailboxes stay unowned (undefined: no cap). */
    maxMailboxes: number | undefined;
  };
  cluster: {
    /** How often each listener replica writes its heartbeat. */
    heartbeatMs: number;
    /** A replica not heard from for this long is dead: its mailboxes are not listened to. */
    leaseTtlMs: number;
    /** On SIGTERM a replica hands its mailboxes over for at most this long, then exits (inside Kubernetes' grace period). */
    drainTimeoutMs: number;
  };
  /** Reading messages for the CRM (GET /v1/mailboxes/:id/messages/:ref). */
  messages: {
    /** IMAP sessions per mailbox at most (servers limit concurrent sessions per user). */
    sessionsPerMailbox: number;
    /** An idle pooled session is logged out after this long. */
    idleMs: number;
    /** The mail server (IMAP or Graph) silent this long: 504 before the answer started, a cut stream after. */
    timeoutMs: number;
  };
  graph: {
    /** Lifetime asked for a new or renewed Graph subscription (Graph caps message subscriptions). */
    subscriptionMinutes: number;
    /** A delta per followed folder at least this often, whatever the pushes say (0: off). */
    safetyDeltaMs: number;
    /** Without PUBLIC_BASE_URL Graph cannot call us: each folder runs a delta this often instead. */
    pollIntervalMs: number;
  };
  encryption: {
    /** Base64 of 32 bytes; undefined only in development (a local key file is used then). */
    key: string | undefined;
    oldKeys: string[];
  };
  publicBaseUrl: string | undefined;
  outbound: {
    /**
     * OUTBOUND_ALLOWED_NETWORKS: internal networks (loopback, private, link-local…) that connections to
     * API-client-configured addresses may reach in production, e.g. an on-premises mail server.
     */
    allowedNetworks: AllowedNetwork[];
  };
  sending: {
    /** SEND_WORKER: whether this process runs the `mail-send` worker (the listener hosts it, like webhook delivery). */
    worker: boolean;
    /** SEND_MAX_BYTES: the largest message (MIME, attachments included) the outbox takes; above it a 413. */
    maxBytes: number;
    /** Sends in flight per worker process. */
    concurrency: number;
    /** One SMTP attempt (connect to the server's final answer) at most this long. */
    timeoutMs: number;
    /** Backoff between attempts (exponential with jitter); transient failures are retried for `windowMs` from queueing. */
    retry: { baseMs: number; maxMs: number; windowMs: number };
    /** SEND_CONNECTIONS_PER_MAILBOX: logged-in SMTP sessions kept and reused per mailbox (0: one connection per attempt). */
    connectionsPerMailbox: number;
    /** SEND_CONNECTION_IDLE_MS: an unused session is closed after this long. */
    connectionIdleMs: number;
    /** SEND_RETENTION_DAYS: sent and failed sends (row and content) are deleted this long after they became final. */
    retentionMs: number;
  };
  console: {
    /**
     * CONSOLE_QUEUE_ACTIONS: whether Bull Board at /console/queues may change queues (retry, clean, pause,
     * promote, remove jobs). Off by default: the board is for looking.
     */
    queueActions: boolean;
  };
  webhooks: {
    /** WEBHOOK_DELIVERY: whether this process delivers webhooks (the listener hosts the delivery workers). */
    delivery: boolean;
    /** No answer within this long is a failed attempt (10 s). */
    timeoutMs: number;
    /** Calls in flight to one endpoint per delivering process: a slow endpoint never takes the others' turns. */
    endpointConcurrency: number;
    /** Backoff between attempts of one delivery (exponential with equal jitter), within the 24 h retry window. */
    retry: { baseMs: number; maxMs: number };
  };
  oauth: {
    /** Where identity providers send the browser back after consent (GET /v1/oauth/callback). */
    redirectUri: string;
    /** Extra CA certificate(s), PEM, trusted for identity endpoints (OAUTH_CA_FILE). */
    caPem: string | undefined;
    refresh: {
      checkIntervalMs: number;
      concurrency: number;
      minLeadMs: number;
      leadFraction: number;
      jitterFraction: number;
    };
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
