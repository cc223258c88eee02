import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { withTimeout } from '@app/async';
import { migrationsAreCurrent } from '@app/persistence';
import { errorMessage } from '@app/failures';

/** Ready only when Postgres answers and every migration of this build is applied. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'database'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), 3000, 'Postgres did not answer within 3 s');
      if (!(await migrationsAreCurrent(this.dataSource))) return indicator.down({ message: 'migrations pending' });
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}
