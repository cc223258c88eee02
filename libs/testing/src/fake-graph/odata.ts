import type { IncomingMessage } from 'node:http';

/** A query option by name, case-insensitively (`$skipToken` and `$skiptoken` are the same to Graph). */
export function queryValue(url: URL, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of url.searchParams) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export interface Preferences {
  /** `Prefer: odata.maxpagesize=N` */
  maxPageSize?: number;
  /** `Prefer: IdType="ImmutableId"` */
  immutableIds: boolean;
  /** Preferences honoured, for the `Preference-Applied` response header. */
  applied: string[];
}

/**
 * `Prefer` may carry several preferences comma-separated, or come as several headers
 * (`odata.maxpagesize=50, IdType="ImmutableId"`); names are case-insensitive, values may be quoted.
 */
export function parsePrefer(req: IncomingMessage): Preferences {
  const raw = req.headers.prefer;
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  const result: Preferences = { immutableIds: false, applied: [] };
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (name === 'odata.maxpagesize' && /^\d+$/.test(value) && Number(value) > 0) {
      result.maxPageSize = Number(value);
      result.applied.push(`odata.maxpagesize=${result.maxPageSize}`);
    } else if (name === 'idtype' && value.toLowerCase() === 'immutableid') {
      result.immutableIds = true;
      result.applied.push('IdType="ImmutableId"');
    }
  }
  return result;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
