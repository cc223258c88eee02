import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { Page } from '@app/http';
import { FailureCode } from '@app/failures';
import { forgetProviderTokens } from '@app/oauth';
import { OutboundPolicy } from '@app/outbound';
import { MailboxEntity, ProviderDomainEntity, ProviderEntity, secretContext } from '@app/persistence';
import { CreateProviderDto, UpdateProviderDto } from './dto/create-provider.dto';
import { ProviderResponse } from './dto/provider.response';
import { claimDomains } from './provider-domains';
import { applyProviderSettings, toProviderResponse, toProviderSettings } from './provider.mapper';
import { movedEndpoints, resolveProviderSettings, ResolvedProviderSettings } from './provider-settings';

/** The domain part of an address, lower-case; undefined when it is not an address. */
export function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1) return undefined;
  return email.slice(at + 1).trim().toLowerCase();
}

@Injectable()
export class ProvidersService {
  private readonly logger = new Logger(ProvidersService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(ProviderEntity) private readonly providers: Repository<ProviderEntity>,
    @InjectRepository(ProviderDomainEntity) private readonly domains: Repository<ProviderDomainEntity>,
    private readonly secrets: SecretBox,
    private readonly outbound: OutboundPolicy,
  ) {}

  async create(dto: CreateProviderDto): Promise<ProviderResponse> {
    const settings = resolveProviderSettings(dto, undefined, { secretSupplied: Boolean(dto.oauth?.clientSecret), urlProblem: (url) => this.outbound.urlProblem(url) });
    const id = await this.dataSource.transaction(async (manager) => {
      // The id is chosen here because it is bound into the client secret's ciphertext.
      const entity = manager.create(ProviderEntity, { id: randomUUID() });
      applyProviderSettings(entity, settings);
      entity.oauthClientSecretEncrypted = dto.oauth?.clientSecret ? this.secrets.encrypt(dto.oauth.clientSecret, secretContext.providerClientSecret(entity.id)) : null;
      await manager.insert(ProviderEntity, entity);
      await this.replaceDomains(manager, entity.id, settings.domains);
      return entity.id;
    });
    this.warnIfInsecure(id, settings);
    return toProviderResponse(await this.load(id));
  }

  async update(id: string, dto: UpdateProviderDto): Promise<ProviderResponse> {
    await this.dataSource.transaction(async (manager) => {
      const entity = await manager.findOne(ProviderEntity, { where: { id }, relations: { domains: true }, lock: { mode: 'pessimistic_write', tables: ['providers'] } });
      if (!entity) throw new NotFoundException(`Provider ${id} not found`);
      const before = toProviderSettings(entity);
      const secretSupplied = Boolean(dto.oauth?.clientSecret);
      const settings = resolveProviderSettings(dto, before, {
        secretSupplied,
        secretStored: entity.oauthClientSecretEncrypted !== null && dto.authMethod !== 'basic',
        urlProblem: (url) => this.outbound.urlProblem(url),
      });
      const moved = movedEndpoints(before, settings);
      const inUse = await manager.count(MailboxEntity, { where: { providerId: id } });
      if (inUse > 0) {
        for (const field of ['type', 'authMethod'] as const) {
          if (settings[field] !== before[field]) {
            throw new ConflictException(`${field}: cannot change from ${before[field]} to ${settings[field]} while ${inUse} mailbox(es) use this provider`);
          }
        }
      }
      applyProviderSettings(entity, settings);
      const hadSecret = entity.oauthClientSecretEncrypted !== null;
      if (settings.authMethod !== 'oauth2') entity.oauthClientSecretEncrypted = null;
      else if (dto.oauth?.clientSecret) entity.oauthClientSecretEncrypted = this.secrets.encrypt(dto.oauth.clientSecret, secretContext.providerClientSecret(id));
      // Secrets follow no address they were not given for: a new identity or Graph address gets the client
      // secret only when the same request supplies it again.
      else if (moved.length > 0) entity.oauthClientSecretEncrypted = null;
      entity.updatedAt = new Date();
      await manager.save(ProviderEntity, { ...entity, domains: undefined });
      if (moved.length > 0) await this.forgetTokensAfterMove(manager, id, moved, { secretSupplied, secretDropped: hadSecret && entity.oauthClientSecretEncrypted === null });
      if (dto.domains !== undefined) await this.replaceDomains(manager, id, settings.domains);
      if (settings.loginFormat !== before.loginFormat) await this.rederiveLogins(manager, id, settings);
      this.warnIfInsecure(id, settings, before);
    });
    return toProviderResponse(await this.load(id));
  }

  /**
   * The provider's identity or Graph address moved. Mailbox tokens were issued by (refresh tokens) or are
   * presented to (access tokens) the old address, and a new sign-in is the only way to get tokens meant for
   * the new one: they are forgotten. The app-only token goes too, unless the request supplied the client
   * secret again (whoever knows it can get that token anyway).
   */
  private async forgetTokensAfterMove(
    manager: EntityManager,
    id: string,
    moved: string[],
    outcome: { secretSupplied: boolean; secretDropped: boolean },
  ): Promise<void> {
    const what = moved.join(' and ');
    const forgotten = await forgetProviderTokens(manager, id, { appOnly: !outcome.secretSupplied, mailboxes: true }, {
      code: FailureCode.ProviderAddressChanged,
      message: `the provider's ${what} changed, and tokens of the old address are not sent to the new one`,
    });
    const dropped = [
      outcome.secretDropped ? 'its client secret' : null,
      forgotten.appOnly ? 'its app-only token' : null,
      forgotten.mailboxes > 0 ? `${forgotten.mailboxes} mailbox token(s)` : null,
    ].filter(Boolean);
    if (dropped.length > 0) this.logger.warn(`Provider ${id}: ${what} changed; dropped ${dropped.join(', ')}`);
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const entity = await manager.findOne(ProviderEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!entity) throw new NotFoundException(`Provider ${id} not found`);
      const inUse = await manager.count(MailboxEntity, { where: { providerId: id } });
      if (inUse > 0) {
        throw new ConflictException(`Provider ${id} cannot be deleted: ${inUse} mailbox(es) use it; delete them or move them to another provider first`);
      }
      await manager.delete(ProviderEntity, { id });
    });
  }

  async get(id: string): Promise<ProviderResponse> {
    return toProviderResponse(await this.load(id));
  }

  async list(limit: number, offset: number): Promise<Page<ProviderResponse>> {
    const [items, total] = await this.providers.findAndCount({
      relations: { domains: true },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: items.map(toProviderResponse), total, limit, offset };
  }

  /** The provider serving the address's domain, or a parent domain of it (`eu.contoso.com` → `contoso.com`). */
  async findByEmail(email: string): Promise<ProviderEntity | undefined> {
    const domain = domainOf(email);
    if (!domain) throw new BadRequestException('email: must be an email address such as ana@contoso.com');
    const labels = domain.split('.');
    const candidates = labels.slice(0, -1).map((_, index) => labels.slice(index).join('.'));
    const matches = await this.domains.find({ where: { domain: In(candidates) } });
    const best = candidates.map((candidate) => matches.find((match) => match.domain === candidate)).find(Boolean);
    return best ? this.load(best.providerId) : undefined;
  }

  async resolve(email: string): Promise<ProviderResponse> {
    const provider = await this.findByEmail(email);
    if (!provider) throw new NotFoundException(`No provider serves the domain ${domainOf(email)}`);
    return toProviderResponse(provider);
  }

  async load(id: string): Promise<ProviderEntity> {
    const entity = await this.providers.findOne({ where: { id }, relations: { domains: true } });
    if (!entity) throw new NotFoundException(`Provider ${id} not found`);
    return entity;
  }

  private async replaceDomains(manager: EntityManager, providerId: string, domains: string[]): Promise<void> {
    await claimDomains(manager, providerId, domains);
  }

  /** Mailbox logins follow the provider's login format; `manual` keeps whatever login each mailbox has. */
  private async rederiveLogins(manager: EntityManager, providerId: string, settings: ResolvedProviderSettings): Promise<void> {
    if (settings.loginFormat === 'email') {
      await manager.query(`UPDATE mailboxes SET login = email, updated_at = now() WHERE provider_id = $1`, [providerId]);
    } else if (settings.loginFormat === 'local-part') {
      await manager.query(`UPDATE mailboxes SET login = split_part(email, '@', 1), updated_at = now() WHERE provider_id = $1`, [providerId]);
    }
  }

  private warnIfInsecure(id: string, settings: ResolvedProviderSettings, before?: ResolvedProviderSettings): void {
    if (!settings.verifyCertificate && (before === undefined || before.verifyCertificate)) {
      this.logger.warn(`Provider ${id} (${settings.host ?? settings.type}): server certificate verification is OFF by explicit choice`);
    }
    if (!settings.secure && settings.type === 'imap' && (before === undefined || before.secure)) {
      this.logger.warn(`Provider ${id} (${settings.host}): TLS is off; unless STARTTLS is offered, credentials travel in clear text`);
    }
    if (settings.smtp?.security === 'none' && before?.smtp?.security !== 'none') {
      this.logger.warn(`Provider ${id} (${settings.smtp.host}): SMTP security is none by explicit choice; credentials and mail travel in clear text`);
    }
  }
}
