import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { REDIS } from '@app/redis';
import { withTimeout } from '@app/async';
import { errorMessage } from '@app/failures';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (this.redis.status !== 'ready') return indicator.down({ message: `connection is ${this.redis.status}` });
    try {
      await withTimeout(this.redis.ping(), 2000, 'Redis did not answer PING within 2 s');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}
