import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { Page } from '@app/http';
import { MailboxStatusRepository, MailboxStatusWriter } from '@app/mailbox-state';
import { isPgError, MailboxCredentialEntity, MailboxEntity, MailboxFolderEntity, PgErrorCode, ProviderEntity, secretContext } from '@app/persistence';
import { ProvidersService } from '@app/providers';
import { CreateMailboxDto, MailboxListQueryDto, MailboxResponse, ResyncResponse, UpdateMailboxDto } from './dto/mailbox.dto';
import { deriveLogin } from './login-format';
import { mailboxListConditions } from './mailbox-list.repository';
import { MailboxEmailTakenException, ProviderDeletedException } from './mailbox-errors';

const DEFAULT_FOLDERS = ['INBOX'];

@Injectable()
export class MailboxesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(MailboxEntity) private readonly mailboxes: Repository<MailboxEntity>,
    private readonly providers: ProvidersService,
    private readonly secrets: SecretBox,
    private readonly status: MailboxStatusWriter,
    private readonly statusRows: MailboxStatusRepository,
  ) {}

  async create(dto: CreateMailboxDto): Promise<MailboxResponse> {
    const chosen = await this.providerFor(dto);
    const id = randomUUID();
    const enabled = dto.enabled ?? true;
    const backfillSince = dto.backfillSince ? new Date(dto.backfillSince) : null;
    if (backfillSince && backfillSince.getTime() > Date.now()) throw new BadRequestException('backfillSince: must not be in the future');
    try {
      await this.dataSource.transaction(async (manager) => {
        // The provider row is held (FOR SHARE) until commit and the rules are checked on that locked row: a
        // concurrent PATCH of its authMethod or a DELETE (both FOR UPDATE) either waits for this mailbox and
        // then sees it, or commits first and is seen here. Without it, both sides checked a stale provider.
        const provider = await manager.findOne(ProviderEntity, { where: { id: chosen.id }, lock: { mode: 'pessimistic_read' } });
        if (!provider) throw new ProviderDeletedException(chosen.id);
        const login = deriveLogin(provider.loginFormat, dto.email, dto.login, provider.name);
        this.checkPasswordFits(provider, dto.password, true);
        const existing = await manager.findOne(MailboxEntity, { where: { email: dto.email }, select: { id: true } });
        if (existing) throw new MailboxEmailTakenException(dto.email, existing.id);
        await manager.insert(MailboxEntity, { id, email: dto.email, providerId: provider.id, login, externalId: dto.externalId ?? null, enabled, backfillSince });
        await this.replaceFolders(manager, id, dto.folders ?? DEFAULT_FOLDERS);
        if (dto.password !== undefined) await this.storePassword(manager, id, dto.password);
        await this.status.create(manager, id, enabled, new Date());
      });
    } catch (error) {
      // Two creates of one address at once both pass the lookup above; the unique index decides.
      if (isPgError(error, PgErrorCode.UniqueViolation, 'uq_mailboxes_email')) throw new MailboxEmailTakenException(dto.email);
      throw error;
    }
    return this.get(id);
  }

  async update(id: string, dto: UpdateMailboxDto): Promise<MailboxResponse> {
    let stateChanged = false;
    await this.dataSource.transaction(async (manager) => {
      const mailbox = await manager.findOne(MailboxEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!mailbox) throw new NotFoundException(`Mailbox ${id} not found`);
      const provider = await manager.findOneByOrFail(ProviderEntity, { id: mailbox.providerId });
      if (dto.login !== undefined) mailbox.login = deriveLogin(provider.loginFormat, mailbox.email, dto.login, provider.name);
      if (dto.password !== undefined) {
        this.checkPasswordFits(provider, dto.password, false);
        await this.storePassword(manager, id, dto.password);
      }
      if (dto.externalId !== undefined) mailbox.externalId = dto.externalId;
      if (dto.enabled !== undefined && dto.enabled !== mailbox.enabled) {
        mailbox.enabled = dto.enabled;
        // Through the connection state table, moving the row's version, with its state_changed event in the
        // same transaction: the listener's next report about the mailbox is refused and re-read, so the
        // event of this change is the API's, published once.
        const ref = { id: mailbox.id, email: mailbox.email, externalId: mailbox.externalId };
        await this.status.applyLocked(manager, ref, dto.enabled ? 'enable' : 'disable', new Date());
        stateChanged = true;
      }
      if (dto.folders !== undefined) await this.replaceFolders(manager, id, dto.folders);
      mailbox.updatedAt = new Date();
      await manager.save(MailboxEntity, mailbox);
    });
    if (stateChanged) this.status.committed();
    return this.get(id);
  }

  /** Asks the owning listener to reconnect and catch up from the stored cursors. */
  async requestResync(id: string): Promise<ResyncResponse> {
    const mailbox = await this.load(id);
    if (!mailbox.enabled) throw new ConflictException(`Mailbox ${id} is disabled; enable it to sync`);
    const requestedAt = new Date();
    await this.statusRows.requestResync(id, requestedAt);
    return { mailboxId: id, requestedAt: requestedAt.toISOString() };
  }

  async remove(id: string): Promise<void> {
    const result = await this.mailboxes.delete({ id });
    if (!result.affected) throw new NotFoundException(`Mailbox ${id} not found`);
  }

  async get(id: string): Promise<MailboxResponse> {
    return (await this.findResponses({ id }, 1, 0)).items[0] ?? this.notFound(id);
  }

  async list(query: MailboxListQueryDto): Promise<Page<MailboxResponse>> {
    const where: FindOptionsWhere<MailboxEntity> = {};
    if (query.providerId) where.providerId = query.providerId;
    if (query.externalId !== undefined) where.externalId = query.externalId;
    if (query.email !== undefined) where.email = query.email;
    if (query.enabled !== undefined) where.enabled = query.enabled;
    return this.findResponses(mailboxListConditions(where, query), query.limit, query.offset);
  }

  async load(id: string): Promise<MailboxEntity> {
    return (await this.mailboxes.findOne({ where: { id }, relations: { folders: true } })) ?? this.notFound(id);
  }

  private async findResponses(where: FindOptionsWhere<MailboxEntity> | FindOptionsWhere<MailboxEntity>[], limit: number, offset: number): Promise<Page<MailboxResponse>> {
    const [rows, total] = await this.mailboxes.findAndCount({ where, order: { createdAt: 'ASC', id: 'ASC' }, take: limit, skip: offset });
    const ids = rows.map((row) => row.id);
    const [folders, credentials] = ids.length
      ? await Promise.all([
          this.dataSource.getRepository(MailboxFolderEntity).find({ where: ids.map((mailboxId) => ({ mailboxId })), order: { position: 'ASC' } }),
          this.dataSource.getRepository(MailboxCredentialEntity).find({ where: ids.map((mailboxId) => ({ mailboxId })), select: { mailboxId: true } }),
        ])
      : [[], []];
    const withPassword = new Set(credentials.map((c) => c.mailboxId));
    const items = rows.map((row) => ({
      id: row.id,
      email: row.email,
      providerId: row.providerId,
      login: row.login,
      folders: folders.filter((folder) => folder.mailboxId === row.id).map((folder) => folder.path),
      externalId: row.externalId,
      enabled: row.enabled,
      hasPassword: withPassword.has(row.id),
      backfillSince: row.backfillSince?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    }));
    return { items, total, limit, offset };
  }

  private async providerFor(dto: CreateMailboxDto): Promise<ProviderEntity> {
    if (dto.providerId) {
      try {
        return await this.providers.load(dto.providerId);
      } catch (error) {
        if (error instanceof NotFoundException) throw new BadRequestException(`providerId: no provider with id ${dto.providerId}`);
        throw error;
      }
    }
    const provider = await this.providers.findByEmail(dto.email);
    if (!provider) {
      const domain = dto.email.slice(dto.email.lastIndexOf('@') + 1);
      throw new BadRequestException(`providerId: no provider serves the domain ${domain}; add the domain to a provider or pass providerId`);
    }
    return provider;
  }

  private checkPasswordFits(provider: ProviderEntity, password: string | undefined, creating: boolean): void {
    if (provider.authMethod === 'basic' && creating && password === undefined) {
      throw new BadRequestException(`password: is required because provider "${provider.name}" uses basic authentication`);
    }
    if (provider.authMethod === 'oauth2' && password !== undefined) {
      throw new BadRequestException(`password: not accepted because provider "${provider.name}" uses OAuth 2.0; obtain or import a token instead`);
    }
  }

  private async storePassword(manager: EntityManager, mailboxId: string, password: string): Promise<void> {
    await manager.upsert(
      MailboxCredentialEntity,
      { mailboxId, passwordEncrypted: this.secrets.encrypt(password, secretContext.mailboxPassword(mailboxId)), updatedAt: new Date() },
      ['mailboxId'],
    );
  }

  /** Keeps the rows (and so the sync cursors) of folders that stay; adds new ones; drops removed ones. */
  private async replaceFolders(manager: EntityManager, mailboxId: string, paths: string[]): Promise<void> {
    const existing = await manager.find(MailboxFolderEntity, { where: { mailboxId } });
    const removed = existing.filter((folder) => !paths.includes(folder.path));
    if (removed.length) await manager.delete(MailboxFolderEntity, removed.map((folder) => folder.id));
    for (const [position, path] of paths.entries()) {
      const kept = existing.find((folder) => folder.path === path);
      if (kept) await manager.update(MailboxFolderEntity, { id: kept.id }, { position });
      else await manager.insert(MailboxFolderEntity, { mailboxId, path, position });
    }
  }

  private notFound(id: string): never {
    throw new NotFoundException(`Mailbox ${id} not found`);
  }
}
