import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** How many mailboxes use each mail service: the number that decides whether it may be deleted. */
@Injectable()
export class ProviderUsageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async mailboxCounts(providerIds: string[]): Promise<Map<string, number>> {
    if (providerIds.length === 0) return new Map();
    const rows: { provider_id: string; n: number }[] = await this.dataSource.query(
      `SELECT provider_id, count(*)::int AS n FROM mailboxes WHERE provider_id = ANY($1::uuid[]) GROUP BY provider_id`,
      [providerIds],
    );
    return new Map(rows.map((row) => [row.provider_id, row.n]));
  }
}
