import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { exportedSeriesNames, LiveApps, recordedSeriesNames, SCRAPE_SERIES, unknownDashboardMetrics } from '@app/testing';

const root = join(__dirname, '..');
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/mail-listener.json'), 'utf8'));
const rules = load(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };

/** Series no app of ours exports that a rule may still read, each with where it comes from. */
const FROM_ELSEWHERE: Record<string, string> = {
  kube_deployment_spec_replicas: 'kube-state-metrics (the expected replica count on Kubernetes, `or vector(1)` elsewhere)',
};

function allPanels(panels: any[] = []): any[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

describe('Grafana dashboard deploy/grafana/mail-listener.json', () => {
  let apps: LiveApps;
  let known: Set<string>;

  beforeAll(async () => {
    apps = await LiveApps.start();
    const { api, listener } = await apps.metricsText();
    known = new Set([...exportedSeriesNames(api), ...exportedSeriesNames(listener), ...SCRAPE_SERIES, ...recordedSeriesNames(rules)]);
  }, 120_000);

  afterAll(() => apps?.stop(), 60_000);

  it('queries only metrics the running API and listener export (read from their /metrics), the scrape itself or a recording rule makes', () => {
    // Sanity: the processes really answered with our metrics.
    expect(known).toContain('mail_listener_sync_lag_seconds_bucket');
    expect(known).toContain('mail_listener_unowned_mailboxes');
    expect(unknownDashboardMetrics(dashboard, known)).toEqual([]);
  });

  it('the alert rules read only exported metrics too (kube-state-metrics aside, named)', () => {
    const ruleQueries = { panels: rules.groups.flatMap((g) => g.rules.map((r) => ({ title: r.alert ?? r.record, targets: [{ expr: r.expr }] }))) };
    const unknown = unknownDashboardMetrics(ruleQueries, new Set([...known, ...Object.keys(FROM_ELSEWHERE)]));
    expect(unknown).toEqual([]);
  });

  it('imports into current Grafana: current schema, the data source a variable, unique ids, panels on the 24-column grid without overlap', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toBe('mail-listener');
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' })]);
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const occupied = new Set<string>();
    for (const panel of panels) {
      expect([panel.title, ['row', 'timeseries', 'stat'].includes(panel.type)]).toEqual([panel.title, true]);
      const { x, y, w, h } = panel.gridPos;
      expect([panel.title, x >= 0 && w > 0 && x + w <= 24 && h > 0]).toEqual([panel.title, true]);
      for (let col = x; col < x + w; col++)
        for (let row = y; row < y + h; row++) {
          expect([panel.title, occupied.has(`${col},${row}`)]).toEqual([panel.title, false]);
          occupied.add(`${col},${row}`);
        }
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    // No data source of the author's Grafana is baked in.
    expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|mail-listener|-- Grafana --)[^"]*"/);
  });

  it('has the panels the on-call engineer needs', () => {
    const exprsByPanel = new Map(allPanels(dashboard.panels).map((p) => [p.title, (p.targets ?? []).map((t: { expr: string }) => t.expr).join(' ')]));
    const all = [...exprsByPanel.values()].join(' ');
    for (const metric of [
      'mail_listener_mailboxes', // mailboxes by state
      'mail_listener_unowned_mailboxes',
      'mail_listener_cluster_replicas',
      'mail_listener_sync_lag_seconds_bucket', // new-mail latency percentiles
      'mail_listener_seconds_since_last_sync_max', // worst staleness
      'mail_listener_events_published_total',
      'mail_listener_reconnects_total',
      'mail_listener_tokens',
      'mail_listener_token_soonest_expiry_seconds',
      'mail_listener_token_refreshes_total',
      'mail_listener_graph_notifications_total',
      'mail_listener_graph_subscriptions',
      'mail_listener_webhook_deliveries_total',
      'mail_listener_webhook_backlog',
      'mail_listener_sends_total',
      'mail_listener_queue_jobs',
      'mail_listener_process_cpu_seconds_total',
      'mail_listener_process_resident_memory_bytes',
    ])
      expect([metric, new RegExp(`\\b${metric}\\b`).test(all)]).toEqual([metric, true]);
    expect(exprsByPanel.get('New-mail latency (sync lag)')).toMatch(/histogram_quantile\(0\.5,.*histogram_quantile\(0\.9,.*histogram_quantile\(0\.99,/);
    // Per replica: one series per scraped process.
    const cpu = allPanels(dashboard.panels).find((p) => p.title === 'CPU per process');
    expect(cpu.targets[0]).toMatchObject({ expr: expect.stringMatching(/^rate\(mail_listener_process_cpu_seconds_total\[/), legendFormat: '{{app}} {{instance}}' });
  });
});
