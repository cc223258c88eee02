import { ConfigError } from './config.error';
import { loadConfig } from './config.loader';

const KEY = Buffer.alloc(32, 7).toString('base64');

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(3000);
    expect(config.listener.port).toBe(3001);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.database.url).toBeUndefined();
    expect(config.env).toBe('development');
    expect(config.api.keys).toEqual([]);
    expect(config.oauth.redirectUri).toBe('http://localhost:3000/v1/oauth/callback');
    expect(config.oauth.refresh).toEqual({ checkIntervalMs: 5000, concurrency: 8, minLeadMs: 600_000, leadFraction: 0.2, jitterFraction: 0.5 });
  });

  it('reads the cluster timings and refuses a lease time shorter than three heartbeats', () => {
    expect(loadConfig({}).cluster).toEqual({ heartbeatMs: 2000, leaseTtlMs: 10_000, drainTimeoutMs: 25_000 });
    expect(loadConfig({ CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: '1000' }).cluster).toMatchObject({ heartbeatMs: 200, leaseTtlMs: 1000 });
    expect(problemsOf({ CLUSTER_HEARTBEAT_MS: '5000', CLUSTER_LEASE_TTL_MS: '10000' })).toEqual([
      'CLUSTER_LEASE_TTL_MS: must be at least 3 × CLUSTER_HEARTBEAT_MS (15000) (example: CLUSTER_LEASE_TTL_MS=10000)',
    ]);
  });

  it('reads the drain timeout (default 25 s, inside Kubernetes\' 30 s grace) and the optional per-replica mailbox cap', () => {
    expect(loadConfig({ CLUSTER_DRAIN_TIMEOUT_MS: '40000' }).cluster.drainTimeoutMs).toBe(40_000);
    expect(problemsOf({ CLUSTER_DRAIN_TIMEOUT_MS: '500' })).toEqual([expect.stringMatching(/^CLUSTER_DRAIN_TIMEOUT_MS: must be at least 1000 \(example: CLUSTER_DRAIN_TIMEOUT_MS=25000\)/)]);
    expect(loadConfig({}).listener.maxMailboxes).toBeUndefined();
    expect(loadConfig({ LISTENER_MAX_MAILBOXES: '' }).listener.maxMailboxes).toBeUndefined();
    expect(loadConfig({ LISTENER_MAX_MAILBOXES: ' 2000 ' }).listener.maxMailboxes).toBe(2000);
    expect(problemsOf({ LISTENER_MAX_MAILBOXES: '0' })).toEqual([expect.stringMatching(/^LISTENER_MAX_MAILBOXES: must be at least 1 \(leave it unset for no cap\) \(example: LISTENER_MAX_MAILBOXES=2000\)/)]);
    expect(problemsOf({ LISTENER_MAX_MAILBOXES: '1.5' })).toEqual([expect.stringMatching(/^LISTENER_MAX_MAILBOXES: must be a whole number/)]);
    expect(problemsOf({ LISTENER_MAX_MAILBOXES: 'many' })).toEqual([expect.stringMatching(/^LISTENER_MAX_MAILBOXES: must be a number/)]);
  });

  it('derives the OAuth redirect URI from PUBLIC_BASE_URL and checks OAUTH_CA_FILE', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://ml.example.com/' }).oauth.redirectUri).toBe('https://ml.example.com/v1/oauth/callback');
    expect(problemsOf({ OAUTH_CA_FILE: '/nonexistent/ca.pem' })).toEqual([expect.stringMatching(/^OAUTH_CA_FILE: cannot read \/nonexistent\/ca.pem/)]);
  });

  it('parses lists and trims the public base URL', () => {
    const config = loadConfig({
      API_KEYS: ' key-aaaaaaaaaaaaaaaa , key-bbbbbbbbbbbbbbbb ',
      ENCRYPTION_KEY: KEY,
      ENCRYPTION_OLD_KEYS: `${Buffer.alloc(32, 1).toString('base64')}`,
      PUBLIC_BASE_URL: 'https://listener.example.com/',
    });
    expect(config.api.keys).toEqual(['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb']);
    expect(config.encryption.oldKeys).toHaveLength(1);
    expect(config.publicBaseUrl).toBe('https://listener.example.com');
  });

  it('reports every problem at once, one line each, with the variable name and an example', () => {
    const problems = problemsOf({
      API_PORT: '70000',
      LISTENER_PORT: 'abc',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'nope',
    });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('API_PORT:'))).toMatch(/between 1 and 65535.*example: API_PORT=3000/);
    expect(problems.find((p) => p.startsWith('LISTENER_PORT:'))).toMatch(/number/);
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\//);
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
  });

  it('rejects keys that are not 32 bytes of base64', () => {
    expect(problemsOf({ ENCRYPTION_KEY: 'c2hvcnQ=' })).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: must be base64 of exactly 32 bytes/)]);
    expect(problemsOf({ ENCRYPTION_KEY: KEY, ENCRYPTION_OLD_KEYS: `${KEY},bad` })).toEqual([
      expect.stringMatching(/^ENCRYPTION_OLD_KEYS: entry 2 must be base64/),
    ]);
  });

  it('requires an encryption key and API keys in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      expect.stringMatching(/^ENCRYPTION_KEY: is required when NODE_ENV=production/),
      expect.stringMatching(/^API_KEYS: is required when NODE_ENV=production/),
    ]);
  });

  it('keeps Graph subscription lifetimes within what Graph accepts for mail (45 to 10070 minutes)', () => {
    expect(loadConfig({ GRAPH_SUBSCRIPTION_MINUTES: '10070' }).graph.subscriptionMinutes).toBe(10_070);
    expect(problemsOf({ GRAPH_SUBSCRIPTION_MINUTES: '10080' })).toEqual([expect.stringMatching(/^GRAPH_SUBSCRIPTION_MINUTES: must be at most 10070/)]);
    expect(problemsOf({ GRAPH_SUBSCRIPTION_MINUTES: '44' })).toEqual([expect.stringMatching(/^GRAPH_SUBSCRIPTION_MINUTES: must be at least 45/)]);
  });

  it('keeps sends at least a day (the Idempotency-Key window) before pruning them, 7 days unless told', () => {
    expect(loadConfig({}).sending.retentionMs).toBe(7 * 86_400_000);
    expect(loadConfig({ SEND_RETENTION_DAYS: '1' }).sending.retentionMs).toBe(86_400_000);
    expect(problemsOf({ SEND_RETENTION_DAYS: '0' })).toEqual([expect.stringMatching(/^SEND_RETENTION_DAYS: must be at least 1 \(an Idempotency-Key names its send for 24 h\)/)]);
  });

  it('compacts the listener heap on every full GC unless told to leave V8 its default', () => {
    expect(loadConfig({}).listener.heapCompaction).toBe('every-gc');
    expect(loadConfig({ LISTENER_HEAP_COMPACTION: 'v8-default' }).listener.heapCompaction).toBe('v8-default');
    expect(problemsOf({ LISTENER_HEAP_COMPACTION: 'always' })).toEqual([
      expect.stringMatching(/^LISTENER_HEAP_COMPACTION: .*'every-gc' \| 'v8-default'.*example: LISTENER_HEAP_COMPACTION=every-gc/),
    ]);
  });

  it('lets the listener heap double between full GCs (once its first connects are done) unless told otherwise; 0: V8 decides', () => {
    expect(loadConfig({}).listener.heapGrowthPercent).toBe(100);
    expect(loadConfig({ LISTENER_HEAP_GROWTH_PERCENT: '0' }).listener.heapGrowthPercent).toBe(0);
    expect(problemsOf({ LISTENER_HEAP_GROWTH_PERCENT: '-5' })).toEqual([expect.stringMatching(/^LISTENER_HEAP_GROWTH_PERCENT: must be 0 \(V8's own growing factor\) or more/)]);
  });

  it('reads OUTBOUND_ALLOWED_NETWORKS as CIDRs, one problem line per bad entry', () => {
    expect(loadConfig({}).outbound.allowedNetworks).toEqual([]);
    expect(loadConfig({ OUTBOUND_ALLOWED_NETWORKS: ' 10.20.0.0/16 , fd00:20::/32,192.168.1.20' }).outbound.allowedNetworks).toEqual([
      { address: '10.20.0.0', prefix: 16, family: 'ipv4', cidr: '10.20.0.0/16' },
      { address: 'fd00:20::', prefix: 32, family: 'ipv6', cidr: 'fd00:20::/32' },
      { address: '192.168.1.20', prefix: 32, family: 'ipv4', cidr: '192.168.1.20/32' },
    ]);
    expect(loadConfig({ OUTBOUND_ALLOWED_NETWORKS: '::ffff:10.0.0.0/104,0.0.0.0/0' }).outbound.allowedNetworks.map((n) => n.cidr)).toEqual(['::ffff:10.0.0.0/104', '0.0.0.0/0']);
    expect(problemsOf({ OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8,intranet.local,10.1.0.0/8,10.0.0.0/33,fd00::1/8,[::1]/128,fe80::1%eth0/64' })).toEqual([
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 2 \(intranet.local\) is not a network in CIDR notation such as 10.0.0.0\/8/),
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 3 \(10.1.0.0\/8\) has bits set past the \/8 prefix; the network is 10.0.0.0\/8/),
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 4 \(10.0.0.0\/33\) has a prefix longer than 32 bits/),
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 5 \(fd00::1\/8\) has bits set past the \/8 prefix; the network is fd00::\/8/),
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 6 \(\[::1\]\/128\) is not a network/),
      expect.stringMatching(/^OUTBOUND_ALLOWED_NETWORKS: entry 7 \(fe80::1%eth0\/64\) is not a network/),
    ]);
  });

  it('rejects short API keys and equal ports', () => {
    expect(problemsOf({ API_KEYS: 'short' })).toEqual([expect.stringMatching(/^API_KEYS: every key must be at least 16/)]);
    expect(problemsOf({ API_PORT: '4000', LISTENER_PORT: '4000' })).toEqual([expect.stringMatching(/^LISTENER_PORT: must differ/)]);
  });
});
