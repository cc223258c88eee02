import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { MailboxAnnouncer } from '@app/control';
import { StrictValidationPipe } from '@app/http';
import { CreateMailboxDto, MailboxesService, MailboxResponse } from '@app/mailboxes';
import { ProviderResponse, ProvidersService } from '@app/providers';
import { apiMessages } from './api-messages';
import { FieldErrors, splitFieldErrors, topLevelField } from './field-errors';

/** What the "Add mailbox" form sent, as typed (the password is never kept beyond the request). */
export interface MailboxForm {
  email: string;
  providerId: string;
  login: string;
  password: string;
  folders: string;
  externalId: string;
  enabled: boolean;
}

export const EMPTY_MAILBOX_FORM: MailboxForm = { email: '', providerId: '', login: '', password: '', folders: 'INBOX', externalId: '', enabled: true };

export type CreateOutcome = { ok: true; mailbox: MailboxResponse } | { ok: false; status: number; errors: FieldErrors };

/** The mail service an address resolves to, as GET /v1/providers/resolve finds it, or the API's reason why none. */
export type ResolvedService = { found: true; provider: Pick<ProviderResponse, 'id' | 'name' | 'type' | 'authMethod'> } | { found: false; message: string };

function text(body: Record<string, unknown>, name: string): string {
  return typeof body[name] === 'string' ? (body[name] as string) : '';
}

export function mailboxFormFrom(body: Record<string, unknown>): MailboxForm {
  return {
    email: text(body, 'email'),
    providerId: text(body, 'providerId'),
    login: text(body, 'login'),
    password: text(body, 'password'),
    folders: text(body, 'folders'),
    externalId: text(body, 'externalId'),
    enabled: body.enabled === 'on',
  };
}

/** The form as the JSON body a CRM would POST to /v1/mailboxes: empty optional inputs are left out, one folder a line. */
export function createBodyOf(form: MailboxForm): Record<string, unknown> {
  const body: Record<string, unknown> = { enabled: form.enabled };
  if (form.email.trim()) body.email = form.email;
  if (form.providerId) body.providerId = form.providerId;
  if (form.login.trim()) body.login = form.login.trim();
  // Passwords are taken as typed (spaces may be part of one).
  if (form.password) body.password = form.password;
  body.folders = form.folders
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (form.externalId.trim()) body.externalId = form.externalId.trim();
  return body;
}

/**
 * POST /v1/mailboxes in-process: the API's own validation pipe over the same DTO (so the same messages),
 * MailboxesService.create (the provider found from the domain the same way), then the same announcement,
 * so a listener picks the new mailbox up at once.
 */
@Injectable()
export class MailboxCreateService {
  private readonly validation = new StrictValidationPipe();

  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly providers: ProvidersService,
    private readonly announcer: MailboxAnnouncer,
  ) {}

  async create(form: MailboxForm): Promise<CreateOutcome> {
    try {
      const dto = (await this.validation.transform(createBodyOf(form), { type: 'body', metatype: CreateMailboxDto })) as CreateMailboxDto;
      const mailbox = await this.mailboxes.create(dto);
      this.announcer.announce('created', mailbox.id);
      return { ok: true, mailbox };
    } catch (error) {
      if (error instanceof BadRequestException || error instanceof ConflictException) return { ok: false, status: error.getStatus(), errors: splitFieldErrors(apiMessages(error), topLevelField) };
      throw error;
    }
  }

  async resolve(email: string): Promise<ResolvedService> {
    try {
      const provider = await this.providers.resolve(email.trim().toLowerCase());
      return { found: true, provider: { id: provider.id, name: provider.name, type: provider.type, authMethod: provider.authMethod } };
    } catch (error) {
      if (error instanceof NotFoundException || error instanceof BadRequestException) return { found: false, message: apiMessages(error).join('; ') };
      throw error;
    }
  }

  providerList(): Promise<ProviderResponse[]> {
    return this.providers.list(500, 0).then((page) => page.items);
  }
}
