export * from './health.module';
export * from './readiness-gates';
