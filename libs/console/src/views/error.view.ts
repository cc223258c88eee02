import { html } from './html';
import { bare, page, Section } from './layout';

/** Who sees the error: a signed-in person keeps the console's sections (and sign-out) around it. */
export interface ErrorPageSession {
  csrf: string;
  section: Section;
}

export function errorPage(status: number, title: string, message: string, session?: ErrorPageSession): string {
  const body = html`<section class="card narrow">
      <p class="eyebrow">Error ${status}</p>
      <h1>${title}</h1>
      <p>${message}</p>
      <p><a class="button" href="/console">Back to the console</a></p>
    </section>`;
  return session ? page({ title, section: session.section, csrf: session.csrf, body }) : bare(title, body);
}
