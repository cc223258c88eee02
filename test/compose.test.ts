import Ajv from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';

const root = join(__dirname, '..');
/** The Compose Specification's JSON schema, as the dclint package ships it (current: top-level `name`, `models`, `include`). */
const schemaPath = join(root, 'node_modules/dclint/schemas/compose.schema.json');

// Compose resolves the `<<: *app` merge keys, as YAML 1.1 did.
const readCompose = (text: string) => load(text, { schema: CORE_SCHEMA.withTags(mergeTag) }) as Record<string, any>;

function composeValidator() {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  // strict off: the spec uses annotation keywords (deprecated, ...) that Ajv's strict mode does not know.
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The spec names draft-07 by its https address; Ajv knows it by its http one.
  ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const compose = readCompose(text);

  it('is valid against the Compose Specification JSON schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(compose.name).toBe('mail-listener');
  });

  it('the schema check sees a broken file: a misspelt key, a wrong type, an unknown top-level key', () => {
    const validate = composeValidator();
    const broken = readCompose(text);
    broken.services.grafana.profile = ['monitoring'];
    broken.services.prometheus.ports = '9090:9090';
    broken.servics = {};
    expect(validate(broken)).toBe(false);
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
    expect(problems).toMatch(/\/services\/grafana must NOT have additional properties \{"additionalProperty":"profile"\}/);
    expect(problems).toMatch(/\/services\/prometheus\/ports must be array/);
    expect(problems).toMatch(/^ must NOT have additional properties \{"additionalProperty":"servics"\}/m);
  });

  it('the monitoring and demo profiles are optional: plain `docker compose up` starts only the service itself', () => {
    const byProfile: Record<string, string[]> = {};
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const profile of service.profiles ?? ['(default)']) (byProfile[profile] ??= []).push(name);
    }
    expect(byProfile).toEqual({
      '(default)': ['postgres', 'redis', 'migrate', 'api', 'listener'],
      monitoring: ['prometheus', 'grafana'],
      demo: ['greenmail', 'demo-seed'],
    });
    // A default service never waits for an optional one (it would not start without the profile).
    for (const name of byProfile['(default)']) {
      const needs = Object.keys(compose.services[name].depends_on ?? {});
      expect([name, needs.filter((n) => compose.services[n].profiles)]).toEqual([name, []]);
    }
  });

  it('mounts files that exist: the rule file and scrape config, Grafana provisioning that loads the dashboard, the demo seed', () => {
    const mounts = Object.values<any>(compose.services).flatMap((s) => (s.volumes ?? []) as string[]).filter((v) => v.startsWith('./'));
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const mount of mounts) expect([mount, existsSync(join(root, mount.split(':')[0]))]).toEqual([mount, true]);

    const grafana = compose.services.grafana;
    const dashboardMount = (grafana.volumes as string[]).find((v) => v.startsWith('./deploy/grafana/mail-listener.json:'))!;
    const dashboardInContainer = dashboardMount.split(':')[1];
    const provider = load(readFileSync(join(root, 'deploy/grafana/provisioning/dashboards/mail-listener.yml'), 'utf8')) as any;
    expect(dashboardInContainer.startsWith(`${provider.providers[0].options.path}/`)).toBe(true);
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardInContainer);
    const datasources = load(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as any;
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    // Prometheus reads the scrape config (which names alerts.yml) from the mounted deploy/prometheus.
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(compose.services.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');

    // The seed registers a mailbox on the demo IMAP server under the user GreenMail creates.
    const seed = readFileSync(join(root, 'deploy/demo/seed.sh'), 'utf8');
    expect(compose.services.greenmail.environment.GREENMAIL_OPTS).toContain('-Dgreenmail.users=demo:demo@demo.test');
    expect(seed).toContain('"host":"greenmail","port":3143');
    expect(seed).toContain('{"email":"demo@demo.test","password":"demo"}');
  });
});
