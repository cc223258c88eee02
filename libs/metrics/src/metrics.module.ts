import { DynamicModule, Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry } from './metrics.registry';
import { METRICS_REGISTRY } from './metrics.tokens';

/** Serves GET /metrics for Prometheus. Domain metrics register themselves on METRICS_REGISTRY. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(app: string): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(app) }],
      exports: [METRICS_REGISTRY],
    };
  }
}
