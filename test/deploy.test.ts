import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, load, loadAll, mergeTag } from 'js-yaml';

const root = join(__dirname, '..');

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

/** kubectl is on the development machines and CI here; elsewhere the render test says it was skipped and why. */
const hasKubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).status === 0;

describe('deploy/ files', () => {
  it('the Prometheus alert rules and scrape config pass promtool', () => {
    const rules = execFileSync('promtool', ['check', 'rules', join(root, 'deploy/prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(rules).toMatch(/SUCCESS: \d+ rules found/);
    execFileSync('promtool', ['check', 'config', join(root, 'deploy/prometheus/prometheus.yml')], { encoding: 'utf8' });
  });

  it('the alert rules fire (and stay quiet) as their unit tests say', () => {
    const out = execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: join(__dirname, '..', 'deploy/prometheus'), encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  (hasKubectl ? it : it.skip)(
    `kubectl kustomize deploy/k8s/base renders every resource; listeners are a Deployment with a disruption budget, readiness on /health/ready and a grace period longer than the drain${hasKubectl ? '' : ' (skipped: kubectl is not installed)'}`,
    () => {
      const rendered = execFileSync('kubectl', ['kustomize', join(root, 'deploy/k8s/base')], { encoding: 'utf8' });
      const manifests = loadAll(rendered) as Manifest[];
      const find = (kind: string, name: string) => {
        const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
        if (!found) throw new Error(`${kind}/${name} not rendered; got ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
        return found;
      };
      expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
        'ConfigMap/mail-listener-config',
        'Deployment/mail-listener-api',
        'Deployment/mail-listener-listener',
        'Job/mail-listener-migrate',
        'Namespace/mail-listener',
        'PodDisruptionBudget/mail-listener-api',
        'PodDisruptionBudget/mail-listener-listener',
        'Service/mail-listener-api',
        'Service/mail-listener-listener',
      ]);
      for (const manifest of manifests.filter((m) => m.kind !== 'Namespace')) expect([manifest.kind, manifest.metadata.namespace]).toEqual([manifest.kind, 'mail-listener']);

      const config = find('ConfigMap', 'mail-listener-config').data!;
      const listeners = find('Deployment', 'mail-listener-listener').spec;
      const pod = listeners.template.spec;
      const container = pod.containers.find((c: { name: string }) => c.name === 'listener');
      // Drain (CLUSTER_DRAIN_TIMEOUT_MS), then close the sessions and exit, before Kubernetes sends SIGKILL.
      expect(Number(config.CLUSTER_DRAIN_TIMEOUT_MS)).toBe(25_000);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(Number(config.CLUSTER_DRAIN_TIMEOUT_MS) + 10_000);
      expect(Number(config.CLUSTER_LEASE_TTL_MS)).toBeGreaterThanOrEqual(3 * Number(config.CLUSTER_HEARTBEAT_MS));
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'metrics' });
      expect(container.ports).toEqual([{ name: 'metrics', containerPort: Number(config.LISTENER_PORT) }]);
      expect(container.envFrom).toEqual(expect.arrayContaining([{ configMapRef: { name: 'mail-listener-config' } }]));
      // Every replica needs its own id: none may be fixed for the whole Deployment.
      expect(JSON.stringify(listeners)).not.toContain('LISTENER_ID');
      expect(listeners.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });

      const budget = find('PodDisruptionBudget', 'mail-listener-listener').spec;
      expect(budget.maxUnavailable).toBe(1);
      expect(budget.selector.matchLabels).toEqual(listeners.selector.matchLabels);
      expect(listeners.template.metadata.labels).toMatchObject(budget.selector.matchLabels);
    },
  );

  it('docker compose can scale the listener: no fixed container name, host port or LISTENER_ID, and a stop grace period longer than the drain', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(text).toContain('docker compose up -d --scale listener=3');
    // Compose resolves the `<<: *app` merge keys, as YAML 1.1 did.
    const compose = load(text, { schema: CORE_SCHEMA.withTags(mergeTag) }) as { services: Record<string, any> };
    const listener = compose.services.listener;
    expect(listener.container_name).toBeUndefined();
    expect(listener.ports).toBeUndefined();
    expect(listener.environment.LISTENER_ID).toBeUndefined();
    expect(listener.command).toEqual(['node', 'dist/apps/listener/src/main.js']);
    expect(listener.environment).toMatchObject({
      CLUSTER_DRAIN_TIMEOUT_MS: '${CLUSTER_DRAIN_TIMEOUT_MS:-25000}',
      CLUSTER_LEASE_TTL_MS: '${CLUSTER_LEASE_TTL_MS:-10000}',
      LISTENER_MAX_MAILBOXES: '${LISTENER_MAX_MAILBOXES:-}',
    });
    // The API judges liveness with the listeners' lease time: both read it from the shared block.
    expect(compose.services.api.environment.CLUSTER_LEASE_TTL_MS).toBe(listener.environment.CLUSTER_LEASE_TTL_MS);
    const graceSeconds = Number(/^(\d+)s$/.exec(listener.stop_grace_period)?.[1]);
    expect(graceSeconds * 1000).toBeGreaterThanOrEqual(25_000 + 10_000);
  });
});
