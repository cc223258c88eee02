import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';
import { ReadinessGates } from './readiness-gates';
import { RedisHealthIndicator } from './redis.health';

/** Global so that any module can hold /health/ready closed until it is ready (ReadinessGates). */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, RedisHealthIndicator, ReadinessGates],
  exports: [ReadinessGates],
})
export class HealthModule {}
