import { metricNamesIn } from './promql-metric-names';

export interface DashboardQuery {
  panel: string;
  expr: string;
}

export interface UnknownMetric extends DashboardQuery {
  /** The name nobody exports, or the reason the expression could not be read. */
  problem: string;
}

/**
 * Series Prometheus makes itself for every scrape target (not in any /metrics): the scrape's own health.
 * https://prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series
 */
export const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'];

/** Every PromQL expression of a Grafana dashboard, with its panel's title (rows' nested panels included). */
export function dashboardQueries(dashboard: { panels?: any[] }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const visit = (panels: any[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (typeof target.expr === 'string') queries.push({ panel: panel.title, expr: target.expr });
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/**
 * The dashboard's metric names that `known` (what the apps export, the scrape series, recording rules)
 * does not contain, one entry per panel, expression and name; an expression that does not parse is one too.
 */
export function unknownDashboardMetrics(dashboard: { panels?: any[] }, known: ReadonlySet<string>): UnknownMetric[] {
  const unknown: UnknownMetric[] = [];
  for (const query of dashboardQueries(dashboard)) {
    let names: string[];
    try {
      names = metricNamesIn(query.expr);
    } catch (error) {
      unknown.push({ ...query, problem: (error as Error).message });
      continue;
    }
    if (names.length === 0) unknown.push({ ...query, problem: 'selects no metric' });
    for (const name of names) if (!known.has(name)) unknown.push({ ...query, problem: name });
  }
  return unknown;
}

/** The series names a Prometheus rule file's recording rules produce (`record:`). */
export function recordedSeriesNames(rules: { groups: { rules: { record?: string }[] }[] }): string[] {
  return rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
}
