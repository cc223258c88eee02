import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request parameters: the form body (application/x-www-form-urlencoded, or JSON) — never merged with the query. */
export type Params = Record<string, string>;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a POST body the way identity providers do: form-urlencoded, or JSON when the content type says so. */
export async function readParams(req: IncomingMessage): Promise<Params> {
  const text = await readBody(req);
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function queryParams(url: URL): Params {
  return Object.fromEntries(url.searchParams);
}

/** client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
export function basicCredentials(req: IncomingMessage): { clientId: string; clientSecret: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)) };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) return undefined;
  return header.slice(7).trim();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store, no-cache',
    Pragma: 'no-cache',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store, no-cache',
    'Content-Length': Buffer.byteLength(html),
    ...headers,
  });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store, no-cache', 'Content-Length': 0, ...headers });
  res.end();
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Sends the authorization response to the client the way `response_mode` asks:
 * query (default for code), fragment, or form_post (an auto-submitting HTML form).
 */
export function sendAuthorizationResponse(
  res: ServerResponse,
  redirectUri: string,
  responseMode: string | undefined,
  params: Array<[string, string]>,
): void {
  if (responseMode === 'form_post') {
    const inputs = params.map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}"/>`).join('');
    sendHtml(
      res,
      200,
      `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="${escapeHtml(redirectUri)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"/></noscript></form><script>document.forms[0].submit()</script></body></html>`,
    );
    return;
  }
  const encoded = new URLSearchParams(params).toString();
  if (responseMode === 'fragment') {
    redirect(res, `${redirectUri.split('#')[0]}#${encoded}`);
    return;
  }
  redirect(res, `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${encoded}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The request's parameters as hidden form fields (sign-in pages post them back), minus `omit`. */
export function hiddenInputs(params: Params, omit: string[]): string {
  return Object.entries(params)
    .filter(([k]) => !omit.includes(k))
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}"/>`)
    .join('');
}
