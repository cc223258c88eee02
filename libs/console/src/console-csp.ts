function policy(baseUri: "'none'" | "'self'"): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    `base-uri ${baseUri}`,
  ].join('; ');
}

/**
 * Nothing inline and nothing from elsewhere: scripts and styles only as files of ours, forms only to us,
 * no framing. An injected `<script>` or `style=""` would not run even if escaping ever failed.
 */
export const CONSOLE_CSP = policy("'none'");

/**
 * Bull Board's pages (/console/queues): the console's policy but `base-uri 'self'`. Bull Board is a
 * single-page app that declares `<base href="/console/queues/">` and builds its asset, API and router
 * paths on it; refused, its scripts and styles would resolve against the page's own address
 * (/console/queues/queue/x → /console/queues/queue/static/…) and the board would not load. Scripts,
 * styles, images and requests stay 'self' only; nothing inline runs.
 */
export const QUEUES_CSP = policy("'self'");
