import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@app/http';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';
import { ReadinessGates } from './readiness-gates';
import { RedisHealthIndicator } from './redis.health';

/** Liveness: the process answers. Readiness: Postgres (migrated) and Redis answer, and no readiness gate is closed (ReadinessGates). */
@ApiExcludeController()
@Public() // scraped and probed without an API key
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly gates: ReadinessGates,
    private readonly indicators: HealthIndicatorService,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database.check(), () => this.redis.check(), ...this.gates.pending().map(({ name, reason }) => () => this.indicators.check(name).down({ message: reason }))]);
  }
}
