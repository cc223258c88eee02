const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** A way on from the callback page: a path of this service (the caller builds it, never from the request). */
export interface CallbackNext {
  href: string;
  label: string;
  /**
   * Go there at once. A meta refresh rather than a 303: the browser arrived here from the identity
   * provider (another site), and a redirect in that same navigation would reach a SameSite=Strict
   * session (the console's) without its cookie; a navigation this page starts is same-site.
   */
  automatic: boolean;
}

/** The small page the browser lands on after consent. Everything shown is escaped. */
export function renderCallbackPage(title: string, message: string, next?: CallbackNext): string {
  const refresh = next?.automatic ? `<meta http-equiv="refresh" content="0; url=${escapeHtml(next.href)}">` : '';
  const link = next ? `<p><a href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">${refresh}<title>${escapeHtml(title)} · Mail Listener</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${link}</body>
</html>
`;
}
