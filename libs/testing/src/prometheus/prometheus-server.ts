import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { freePort } from '../free-port';

/** One alerting rule as Prometheus' /api/v1/rules reports it. */
export interface PrometheusAlertingRule {
  name: string;
  query: string;
  state: 'inactive' | 'pending' | 'firing';
  health: string;
  lastError?: string;
  alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: 'pending' | 'firing'; value: string; activeAt: string }>;
}

export interface PrometheusServerOptions {
  /** Rule files to load (their YAML text), written into the server's temp dir. */
  rules: string[];
  /** Scrape jobs by name with their first targets (`host:port`); `setTargets` changes them later. */
  jobs: Record<string, string[]>;
  /** Scrape and rule evaluation interval (default 1 s: the tests wait on what Prometheus concludes). */
  intervalSeconds?: number;
}

const live = new Set<PrometheusServer>();
let exitHookInstalled = false;

/**
 * The real `prometheus` server (Debian package `prometheus`) on a free loopback port with its own config,
 * TSDB and targets in a temp dir. Targets are file-discovered, so a test can replace a killed replica
 * (a new port) the way DNS or Kubernetes discovery would. Every wait polls Prometheus' HTTP API.
 */
export class PrometheusServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(options: PrometheusServerOptions): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'ml-prometheus-'));
    const interval = `${options.intervalSeconds ?? 1}s`;
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.rules.map((_, index) => join(dir, `rules-${index}.yml`)),
      scrape_configs: Object.keys(options.jobs).map((job) => ({
        job_name: job,
        file_sd_configs: [{ files: [join(dir, `${job}.targets.json`)], refresh_interval: '1s' }],
      })),
    };
    await Promise.all(options.rules.map((text, index) => writeFile(join(dir, `rules-${index}.yml`), text)));
    await writeFile(join(dir, 'prometheus.yml'), dump(config));
    const port = await freePort();
    // Same user as the tests, no systemd unit, no /etc/default/prometheus: only what is passed here applies.
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    live.add(server);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const leftover of live) leftover.destroySync();
      });
    }
    try {
      for (const [job, targets] of Object.entries(options.jobs)) await server.setTargets(job, targets);
      await server.waitUntilReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Replaces a job's targets (written atomically: Prometheus watches the file). */
  async setTargets(job: string, targets: string[]): Promise<void> {
    const file = join(this.dir, `${job}.targets.json`);
    await writeFile(`${file}.tmp`, JSON.stringify([{ targets }]));
    await rename(`${file}.tmp`, file);
  }

  /** GET on Prometheus' HTTP API; answers `data` of a `success`. */
  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${response.status} ${body.error}`);
    return body.data;
  }

  /** Every alerting rule loaded, with its state and active alerts. */
  async alertingRules(): Promise<PrometheusAlertingRule[]> {
    const data = await this.api<{ groups: Array<{ rules: PrometheusAlertingRule[] }> }>('/api/v1/rules?type=alert');
    return data.groups.flatMap((group) => group.rules);
  }

  async alertingRule(name: string): Promise<PrometheusAlertingRule> {
    const rule = (await this.alertingRules()).find((candidate) => candidate.name === name);
    if (!rule) throw new Error(`Prometheus has no alerting rule ${name}`);
    return rule;
  }

  /** Polls the rule until Prometheus reports it in `state`; answers the rule as Prometheus last saw it. */
  async waitForAlert(name: string, state: PrometheusAlertingRule['state'], timeoutMs = 30_000): Promise<PrometheusAlertingRule> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rule = await this.alertingRule(name);
      if (rule.state === state) return rule;
      if (Date.now() > deadline) {
        throw new Error(`${name} still ${rule.state} (wanted ${state}) after ${timeoutMs} ms: ${JSON.stringify(rule)}\nPrometheus output:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** An instant query: each series' labels and value. */
  async query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const data = await this.api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    return data.result.map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
  }

  /** Polls a query until `done` holds for its result. */
  async waitForQuery(expr: string, done: (result: Array<{ metric: Record<string, string>; value: number }>) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.query(expr);
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`${expr}: condition not met after ${timeoutMs} ms; last ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await this.query(expr);
    }
  }

  private async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited with ${this.child.exitCode}:\n${this.output}`);
      const ready = await fetch(`${this.url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s) and deletes its temp dir. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Last resort at process exit (synchronous). */
  private destroySync(): void {
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
