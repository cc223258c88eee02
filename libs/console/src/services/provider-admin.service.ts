import { ArgumentMetadata, BadRequestException, ConflictException, HttpException, Injectable, Type } from '@nestjs/common';
import { StrictValidationPipe } from '@app/http';
import { CreateProviderDto, ProviderResponse, ProvidersService, UpdateProviderDto } from '@app/providers';
import { apiMessages } from './api-messages';
import { createRequestOf, FormProblems, patchRequestOf, problemsOf, ProviderFormValues } from './provider-form';
import { ProviderUsageRepository } from './provider-usage.repository';

/** Mail services the list reads (a page of the API's list; more than this is unusual, and the page says so). */
export const PROVIDERS_LISTED = 500;

export interface ProviderRow extends ProviderResponse {
  mailboxes: number;
}

export interface ProviderListing {
  items: ProviderRow[];
  total: number;
}

/** What saving the form did: the saved service, or the API's refusal (status and problems by field). */
export type SaveOutcome = { ok: true; provider: ProviderResponse } | { ok: false; status: number; problems: FormProblems };

/** The API's body check: the same pipe, with the same DTOs, the API's controllers get. */
const validation = new StrictValidationPipe();

function refusal(error: unknown): { ok: false; status: number; problems: FormProblems } {
  if (!(error instanceof BadRequestException || error instanceof ConflictException)) throw error;
  return { ok: false, status: error.getStatus(), problems: problemsOf(messageOf(error)) };
}

/** The text of an HttpException as the API's error body carries it, several messages joined as the validation pipe joins them. */
const messageOf = (error: HttpException): string => apiMessages(error).join('; ');

/**
 * The mail-service pages over the API's own ProvidersService and validation: a form becomes the body
 * POST / PATCH /v1/providers would get, passes the same pipe, and reaches the same service, so the
 * console accepts exactly what the API accepts and refuses it in the API's words.
 */
@Injectable()
export class ProviderAdminService {
  constructor(
    private readonly providers: ProvidersService,
    private readonly usage: ProviderUsageRepository,
  ) {}

  async listing(): Promise<ProviderListing> {
    const page = await this.providers.list(PROVIDERS_LISTED, 0);
    const counts = await this.usage.mailboxCounts(page.items.map((provider) => provider.id));
    return { total: page.total, items: page.items.map((provider) => ({ ...provider, mailboxes: counts.get(provider.id) ?? 0 })) };
  }

  async get(id: string): Promise<ProviderRow> {
    const provider = await this.providers.get(id);
    return { ...provider, mailboxes: (await this.usage.mailboxCounts([id])).get(id) ?? 0 };
  }

  async create(values: ProviderFormValues): Promise<SaveOutcome> {
    try {
      const dto = await this.validated(createRequestOf(values), CreateProviderDto);
      return { ok: true, provider: await this.providers.create(dto) };
    } catch (error) {
      return refusal(error);
    }
  }

  /** Saves what changed; `unchanged` when the person changed nothing (no write, no new updatedAt). */
  async update(id: string, values: ProviderFormValues): Promise<SaveOutcome | { ok: true; unchanged: true }> {
    const current = await this.providers.get(id);
    const patch = patchRequestOf(values, current);
    if (Object.keys(patch).length === 0) return { ok: true, unchanged: true };
    try {
      const dto = await this.validated(patch, UpdateProviderDto);
      return { ok: true, provider: await this.providers.update(id, dto) };
    } catch (error) {
      return refusal(error);
    }
  }

  /** Deletes, or says why not in the API's words (409 while mailboxes use it). */
  async remove(id: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
    try {
      await this.providers.remove(id);
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      return { ok: false, status: error.getStatus(), message: messageOf(error) };
    }
  }

  private validated<T>(body: Record<string, unknown>, metatype: Type<T>): Promise<T> {
    const metadata: ArgumentMetadata = { type: 'body', metatype, data: undefined };
    return validation.transform(body, metadata) as Promise<T>;
  }
}
