export * from './dashboard-metrics';
export * from './exported-metrics';
export * from './live-apps';
export * from './promql-metric-names';
