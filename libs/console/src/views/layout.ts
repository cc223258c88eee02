import { html, HtmlValue, SafeHtml } from './html';

export type Section = 'overview' | 'mailboxes' | 'services' | 'cluster' | 'webhooks' | 'queues';

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'overview', href: '/console', label: 'Overview' },
  { section: 'mailboxes', href: '/console/mailboxes', label: 'Mailboxes' },
  { section: 'services', href: '/console/services', label: 'Mail services' },
  { section: 'cluster', href: '/console/cluster', label: 'Cluster' },
  { section: 'webhooks', href: '/console/webhooks', label: 'Webhooks' },
  { section: 'queues', href: '/console/queues', label: 'Queues' },
];

function head(title: string): SafeHtml {
  return html`<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>${title} · Mail Listener</title>
    <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/console/assets/console.css">
    <script src="/console/assets/console.js" defer></script>
  </head>`;
}

/** A signed-in page: header with the sections and sign-out (a CSRF-protected form), then the content. */
export function page(options: { title: string; section: Section; csrf: string; body: HtmlValue }): string {
  return `<!doctype html>\n${html`<html lang="en">
  ${head(options.title)}
  <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/console"><span class="brand-mark" aria-hidden="true">✉</span> Mail Listener</a>
      <nav aria-label="Sections">
        <ul>
          ${NAV.map(
            (item) =>
              html`<li><a href="${item.href}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
          )}
        </ul>
      </nav>
      <form method="post" action="/console/sign-out" class="signout">
        <input type="hidden" name="_csrf" value="${options.csrf}">
        <button type="submit" class="button button-quiet">Sign out</button>
      </form>
    </header>
    <main id="main" tabindex="-1">
      ${options.body}
    </main>
  </body>
</html>`.text}`;
}

/** A page outside a session: sign-in, or an error met before signing in. */
export function bare(title: string, body: HtmlValue): string {
  return `<!doctype html>\n${html`<html lang="en">
  ${head(title)}
  <body class="bare">
    <main id="main">${body}</main>
  </body>
</html>`.text}`;
}
