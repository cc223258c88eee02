import { dashboardQueries, recordedSeriesNames, unknownDashboardMetrics } from './dashboard-metrics';
import { exportedSeriesNames } from './exported-metrics';
import { metricNamesIn } from './promql-metric-names';

const exposition = [
  '# HELP app_lag_seconds Lag',
  '# TYPE app_lag_seconds histogram',
  'app_lag_seconds_bucket{le="1",app="x"} 0',
  'app_lag_seconds_sum{app="x"} 0',
  'app_lag_seconds_count{app="x"} 0',
  '# HELP app_events_total Events by type (none yet: TYPE line only)',
  '# TYPE app_events_total counter',
  '# HELP app_mailboxes Mailboxes',
  '# TYPE app_mailboxes gauge',
  'app_mailboxes{state="connected"} 3',
  '',
].join('\n');

const dashboard = (...exprs: string[]) => ({
  panels: [{ type: 'row', title: 'row', panels: [] }, ...exprs.map((expr, i) => ({ title: `panel ${i}`, targets: [{ refId: 'A', expr }] }))],
});

describe('metric names of PromQL expressions', () => {
  it('finds the selected metrics, not the functions, aggregations, label names or Grafana variables around them', () => {
    expect(
      metricNamesIn('histogram_quantile(0.99, sum by (le, state) (rate(app_lag_seconds_bucket{state=~"a|b", instance="$instance"}[$__rate_interval])))'),
    ).toEqual(['app_lag_seconds_bucket']);
    expect(metricNamesIn('max by (state) (app_mailboxes) / on() group_left sum(rate(app_events_total[${__range}])) > 0 unless absent(up)').sort()).toEqual([
      'app_events_total',
      'app_mailboxes',
      'up',
    ]);
    expect(metricNamesIn('count({__name__="app_mailboxes", state="x"}) + label_replace(app:recorded, "dst", "$1", "src", "(.*)")').sort()).toEqual([
      'app:recorded',
      'app_mailboxes',
    ]);
  });

  it('refuses an expression that is not PromQL, saying where', () => {
    expect(() => metricNamesIn('sum(rate(app_events_total[5m])')).toThrow(/not PromQL at offset/);
  });
});

describe('a dashboard checked against what the apps export', () => {
  const known = new Set([...exportedSeriesNames(exposition), 'up', ...recordedSeriesNames({ groups: [{ rules: [{ record: 'app:recorded' }, {}] }] })]);

  it('reads the exposition: histograms as _bucket/_sum/_count, families with no samples yet, sample names', () => {
    expect([...exportedSeriesNames(exposition)].sort()).toEqual(['app_events_total', 'app_lag_seconds_bucket', 'app_lag_seconds_count', 'app_lag_seconds_sum', 'app_mailboxes']);
  });

  it('passes a dashboard whose every name is exported, recorded or made by the scrape', () => {
    const ok = dashboard('sum by (type) (rate(app_events_total[5m]))', 'histogram_quantile(0.5, sum by (le) (rate(app_lag_seconds_bucket[5m])))', 'app:recorded', 'up');
    expect(dashboardQueries(ok)).toHaveLength(4);
    expect(unknownDashboardMetrics(ok, known)).toEqual([]);
  });

  it('fails on a made-up name, a histogram suffix on a gauge, a misspelt counter, an unparsable or empty expression', () => {
    const bad = dashboard(
      'max(app_mailboxes_made_up)',
      'rate(app_mailboxes_bucket[5m])',
      'sum(rate(app_events[5m])) + app_mailboxes',
      'sum(rate(app_events_total[5m])',
      'vector(1)',
    );
    expect(unknownDashboardMetrics(bad, known)).toEqual([
      { panel: 'panel 0', expr: 'max(app_mailboxes_made_up)', problem: 'app_mailboxes_made_up' },
      { panel: 'panel 1', expr: 'rate(app_mailboxes_bucket[5m])', problem: 'app_mailboxes_bucket' },
      { panel: 'panel 2', expr: 'sum(rate(app_events[5m])) + app_mailboxes', problem: 'app_events' },
      { panel: 'panel 3', expr: 'sum(rate(app_events_total[5m])', problem: expect.stringMatching(/^not PromQL at offset/) },
      { panel: 'panel 4', expr: 'vector(1)', problem: 'selects no metric' },
    ]);
  });
});
