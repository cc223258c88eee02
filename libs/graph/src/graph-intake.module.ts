import { DynamicModule, Module } from '@nestjs/common';
import { GraphIntakeMetrics } from './intake/graph-intake.metrics';
import { GRAPH_INTAKE_OPTIONS, GraphIntakeOptions, resolveGraphIntakeOptions } from './intake/graph-intake.options';
import { GraphNotificationIntake } from './intake/graph-notification.intake';
import { GraphNotificationQueue } from './intake/graph-notification.queue';
import { SubscriptionDirectory } from './intake/subscription-directory';

/**
 * The API's half of Graph change notifications: checks each notification against graph_subscriptions
 * and hands the good ones to the listener on `graph-notifications`. Needs the global persistence, Redis,
 * config and metrics modules.
 */
@Module({})
export class GraphIntakeModule {
  static forRoot(options: Partial<GraphIntakeOptions> = {}): DynamicModule {
    return {
      module: GraphIntakeModule,
      providers: [
        { provide: GRAPH_INTAKE_OPTIONS, useValue: resolveGraphIntakeOptions(options) },
        SubscriptionDirectory,
        GraphNotificationQueue,
        GraphIntakeMetrics,
        GraphNotificationIntake,
      ],
      exports: [GraphNotificationIntake],
    };
  }
}
