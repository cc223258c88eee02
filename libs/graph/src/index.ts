export * from './intake/graph-notification.job';
