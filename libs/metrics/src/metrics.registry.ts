import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'mail_listener_';

/** One registry per process, with Node's default metrics under the service prefix and an `app` label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  // prom-client also exports these gauges under a `_total` name, which the exposition format reserves
  // for counters (promtool rejects them). The same values stay available without the suffix.
  for (const gauge of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`${METRIC_PREFIX}${gauge}`);
  }
  return registry;
}
