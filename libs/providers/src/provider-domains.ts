import { ConflictException } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { ProviderDomainEntity } from '@app/persistence';

export enum ProviderErrorCode {
  DomainTaken = 'DOMAIN_TAKEN',
}

/** A domain is served by one provider only (the address → provider lookup must be unambiguous). */
export class DomainTakenException extends ConflictException {
  readonly code = ProviderErrorCode.DomainTaken;

  constructor(readonly taken: { domain: string; providerId?: string; providerName?: string }[]) {
    super(
      `domains: ${taken
        .map(({ domain, providerId, providerName }) => (providerId ? `${domain} is already served by provider "${providerName}" (${providerId})` : `${domain} is already served by another provider`))
        .join('; ')}`,
    );
  }
}

/**
 * Makes `domains` the provider's domains, inside the caller's transaction. The insert skips domains that
 * are taken instead of failing on the primary key: Postgres makes it wait for a concurrent claim of the
 * same domain to commit (or roll back) first, so two providers created at once with one domain end as a
 * 201 and a 409 naming the domain and its holder, not as a unique violation with a generic message.
 */
export async function claimDomains(manager: EntityManager, providerId: string, domains: string[]): Promise<void> {
  await manager.delete(ProviderDomainEntity, { providerId });
  if (domains.length === 0) return;
  const inserted: { domain: string }[] = await manager.query(
    `INSERT INTO provider_domains (domain, provider_id) SELECT unnest($1::text[]), $2 ON CONFLICT (domain) DO NOTHING RETURNING domain`,
    [domains, providerId],
  );
  const claimed = new Set(inserted.map((row) => row.domain));
  const taken = domains.filter((domain) => !claimed.has(domain));
  if (taken.length === 0) return;
  // A new statement sees the holder's committed row (read committed).
  const holders = await manager.find(ProviderDomainEntity, { where: { domain: In(taken) }, relations: { provider: true } });
  throw new DomainTakenException(
    taken.map((domain) => {
      const holder = holders.find((row) => row.domain === domain);
      return { domain, providerId: holder?.providerId, providerName: holder?.provider.name };
    }),
  );
}
