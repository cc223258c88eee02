import { html } from './html';
import { bare } from './layout';

export function errorPage(status: number, title: string, message: string): string {
  return bare(
    title,
    html`<section class="card narrow">
      <p class="eyebrow">Error ${status}</p>
      <h1>${title}</h1>
      <p>${message}</p>
      <p><a class="button" href="/console">Back to the console</a></p>
    </section>`,
  );
}
