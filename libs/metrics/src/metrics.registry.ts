import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'mail_listener_';

/** One registry per process, with Node's default metrics under the service prefix and an `app` label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
