import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Relation } from 'typeorm';
import { ProviderEntity } from './provider.entity';

/** A domain belongs to at most one provider, so resolving `ana@contoso.com` is unambiguous. */
@Entity('provider_domains')
export class ProviderDomainEntity {
  @PrimaryColumn({ type: 'text' }) domain: string;
  @Column({ name: 'provider_id', type: 'uuid' }) providerId: string;
  @ManyToOne(() => ProviderEntity, (provider) => provider.domains, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'provider_id' })
  provider: Relation<ProviderEntity>;
}
