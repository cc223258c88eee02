import { Injectable } from '@nestjs/common';
import { Page } from '@app/http';
import { effectiveConnectionState, MailboxStatusRepository } from '@app/mailbox-state';
import { MailboxesService, MailboxListQueryDto, MailboxResponse } from '@app/mailboxes';
import { ConnectionState, CONNECTION_STATES } from '@app/persistence';
import { ProviderResponse, ProvidersService } from '@app/providers';

export const PAGE_SIZE = 50;
/** Mail services offered in the filter (a page of the API's list; more than this is unusual). */
const PROVIDERS_READ = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The list's filters as typed in the page's URL; anything unusable is dropped and said so. */
export interface MailboxListFilters {
  search: string;
  state: ConnectionState | '';
  providerId: string;
  /** 1-based; the list reads PAGE_SIZE rows from (page - 1) × PAGE_SIZE, as GET /v1/mailboxes?limit&offset does. */
  page: number;
}

export interface MailboxListing {
  filters: MailboxListFilters;
  /** What was dropped from the URL, in words, to show above the list. */
  ignored: string[];
  page: Page<MailboxResponse & { state: ConnectionState; providerName: string }>;
  providers: ProviderResponse[];
}

export function parseFilters(query: Record<string, unknown>): { filters: MailboxListFilters; ignored: string[] } {
  const ignored: string[] = [];
  const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string).trim() : '');
  const search = text('search').slice(0, 320);
  let state = text('state') as ConnectionState | '';
  if (state && !CONNECTION_STATES.includes(state)) {
    ignored.push(`state "${state}" is not one of ${CONNECTION_STATES.join(', ')}`);
    state = '';
  }
  let providerId = text('provider');
  if (providerId && !UUID.test(providerId)) {
    ignored.push('provider is not a mail service id');
    providerId = '';
  }
  const pageText = text('page');
  let page = 1;
  if (pageText && !/^[1-9][0-9]{0,6}$/.test(pageText)) ignored.push(`page "${pageText.slice(0, 20)}" is not a page number`);
  else if (pageText) page = Number(pageText);
  return { filters: { search, state, providerId, page }, ignored };
}

/** The mailbox list through the API's own list (MailboxesService.list), with each row's state and mail service. */
@Injectable()
export class MailboxListService {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly providers: ProvidersService,
    private readonly statuses: MailboxStatusRepository,
  ) {}

  async listing(query: Record<string, unknown>): Promise<MailboxListing> {
    const { filters, ignored } = parseFilters(query);
    const listQuery: MailboxListQueryDto = {
      limit: PAGE_SIZE,
      offset: (filters.page - 1) * PAGE_SIZE,
      search: filters.search || undefined,
      state: filters.state || undefined,
      providerId: filters.providerId || undefined,
    };
    const [page, providers] = await Promise.all([this.mailboxes.list(listQuery), this.providers.list(PROVIDERS_READ, 0)]);
    const snapshots = page.items.length ? await this.statuses.load(page.items.map((item) => item.id)) : [];
    const names = new Map(providers.items.map((provider) => [provider.id, provider.name]));
    return {
      filters,
      ignored,
      providers: providers.items,
      page: {
        ...page,
        items: page.items.map((item, index) => ({
          ...item,
          state: effectiveConnectionState(item.enabled, snapshots[index]?.exists ? snapshots[index].state : null),
          providerName: names.get(item.providerId) ?? 'unknown',
        })),
      },
    };
  }
}
