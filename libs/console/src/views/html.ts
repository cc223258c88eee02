import escapeHtml from 'escape-html';

/** Markup that is already safe: built by `html` (whose values are escaped) or a constant of ours. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof SafeHtml) return value.text;
  return escapeHtml(String(value));
}

/**
 * The one way views build markup: every interpolated value is escaped unless it is SafeHtml (made by this
 * same function), so text from the database or the URL can never become markup. Arrays are joined.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1];
  });
  return new SafeHtml(out);
}

export type { Value as HtmlValue };
