import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';

const root = join(__dirname, '..');
const render = join(root, 'deploy/k8s/render.sh');
const validator = join(root, 'scripts/validate-k8s-manifests.mjs');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

/** kubectl is on the development machines and CI here; elsewhere these tests say they were skipped and why. */
const hasKubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).status === 0;
const withKubectl = hasKubectl ? it : it.skip;
const skipNote = hasKubectl ? '' : ' (skipped: kubectl is not installed)';

function renderOverlay(overlay: string): { text: string; manifests: Manifest[] } {
  const text = execFileSync(render, [overlay], { encoding: 'utf8' });
  return { text, manifests: (loadAll(text) as Manifest[]).filter(Boolean) };
}

/** The offline schema check (kubernetes-models' bundled JSON schemas): its exit code and one line per resource. */
function validate(text: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [validator], { input: text, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered; got ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}

function container(deployment: Manifest) {
  return deployment.spec.template.spec.containers[0];
}

describe('deploy/k8s overlays render and pass the Kubernetes schemas', () => {
  withKubectl(`production: 3 + 3 replicas, production resources, disruption budgets, ServiceMonitors and the PrometheusRule made from deploy/prometheus/alerts.yml; every resource schema-valid${skipNote}`, () => {
    const { text, manifests } = renderOverlay('production');
    const check = validate(text);
    expect(check.output).not.toMatch(/: (?!ok$).*$/m);
    expect(check.status).toBe(0);
    expect(check.output.trim().split('\n')).toHaveLength(manifests.length);

    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'ConfigMap/mail-listener-config',
      'Deployment/mail-listener-api',
      'Deployment/mail-listener-listener',
      'Job/mail-listener-migrate',
      'Namespace/mail-listener',
      'PodDisruptionBudget/mail-listener-api',
      'PodDisruptionBudget/mail-listener-listener',
      'PrometheusRule/mail-listener',
      'Service/mail-listener-api',
      'Service/mail-listener-listener',
      'ServiceMonitor/mail-listener-api',
      'ServiceMonitor/mail-listener-listener',
    ]);
    for (const m of manifests.filter((m) => m.kind !== 'Namespace')) expect([m.kind, m.metadata.namespace]).toEqual([m.kind, 'mail-listener']);
    const api = find(manifests, 'Deployment', 'mail-listener-api');
    const listener = find(manifests, 'Deployment', 'mail-listener-listener');
    expect([api.spec.replicas, listener.spec.replicas]).toEqual([3, 3]);
    expect(container(listener).resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(container(api).image).toBe('registry.example.com/mail-listener:0.1.0');

    // The rules are the rule file itself, not a copy that could drift from what promtool checks.
    const rules = load(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
    expect(find(manifests, 'PrometheusRule', 'mail-listener').spec).toEqual(rules);

    // Each ServiceMonitor selects its Service and scrapes a port that Service has; the Operator names the
    // job after the Service, which is the job the alert rules and the dashboard query.
    for (const app of ['api', 'listener']) {
      const monitor = find(manifests, 'ServiceMonitor', `mail-listener-${app}`).spec;
      const service = find(manifests, 'Service', `mail-listener-${app}`);
      expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.endpoints[0].port);
      expect(JSON.stringify(rules)).toContain(`job=\\"mail-listener-${app}\\"`);
      // Disruption budgets select the pods of their Deployment.
      const budget = find(manifests, 'PodDisruptionBudget', `mail-listener-${app}`).spec;
      const deployment = find(manifests, 'Deployment', `mail-listener-${app}`);
      expect(deployment.spec.template.metadata.labels).toMatchObject(budget.selector.matchLabels);
      expect(budget.maxUnavailable).toBe(1);
    }
  });

  withKubectl(`dev: one replica each, small resources, debug logs, no Prometheus Operator objects; every resource schema-valid${skipNote}`, () => {
    const { text, manifests } = renderOverlay('dev');
    const check = validate(text);
    expect(check.output).not.toMatch(/: (?!ok$).*$/m);
    expect(check.status).toBe(0);
    const api = find(manifests, 'Deployment', 'mail-listener-api');
    const listener = find(manifests, 'Deployment', 'mail-listener-listener');
    expect([api.spec.replicas, listener.spec.replicas]).toEqual([1, 1]);
    expect(container(listener).resources.limits).toEqual({ cpu: '500m', memory: '512Mi' });
    expect(find(manifests, 'ConfigMap', 'mail-listener-config').data!.LOG_LEVEL).toBe('debug');
    expect(container(api).image).toBe('registry.example.com/mail-listener:dev');
    expect(manifests.filter((m) => m.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    find(manifests, 'PodDisruptionBudget', 'mail-listener-listener');
  });

  withKubectl(`the schema check refuses a wrong type, a missing required field, a misspelt field, an unknown kind${skipNote}`, () => {
    const { manifests } = renderOverlay('production');
    const listener = find(manifests, 'Deployment', 'mail-listener-listener');
    const broken = structuredClone(listener);
    broken.spec.replicas = 'three';
    delete broken.spec.template.spec.containers[0].name;
    const monitor = structuredClone(find(manifests, 'ServiceMonitor', 'mail-listener-api'));
    monitor.spec.endpoints[0].interval = 15;
    // The API server would accept it and drop the field: the headless Service would silently get a cluster IP.
    const misspelt = structuredClone(find(manifests, 'Service', 'mail-listener-listener'));
    misspelt.spec.clusterIp = misspelt.spec.clusterIP;
    delete misspelt.spec.clusterIP;
    const unknown = { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'x' } };
    const text = [broken, monitor, misspelt, unknown].map((m) => JSON.stringify(m)).join('\n---\n');
    const check = validate(text);
    expect(check.status).toBe(1);
    expect(check.output).toContain('apps/v1/Deployment mail-listener-listener: ');
    expect(check.output).toContain('/spec/replicas must be integer');
    expect(check.output).toMatch(/\/spec\/template\/spec\/containers\/0 must have required property name/);
    expect(check.output).toMatch(/ServiceMonitor mail-listener-api: .*\/spec\/endpoints\/0\/interval must be string/);
    expect(check.output).toMatch(/^v1\/Service mail-listener-listener: .*'"clusterIp"' does not exist in type 'IServiceSpec'/m);
    expect(check.output).toContain('example.com/v1/Gizmo x: no schema for this apiVersion and kind');
  });
});
