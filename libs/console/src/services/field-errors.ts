/**
 * The API's 400/409 messages name their field first (`email: must be an email address…`,
 * `oauth.clientId: is required`; the validation pipe and the settings checks join several with "; ").
 * Split back into each form field's messages, in the API's own words, so a form shows them next to its
 * inputs. `fieldOf` maps the API's path (indices dropped: `folders[1]` is `folders`) to the form's field,
 * or to nothing when the form has none for it: such a part continues the part before it in the same
 * message (a domain error lists several domains with "; "); a message's first part naming no field of
 * the form goes to the top of the form.
 */
export interface FieldErrors<F extends string = string> {
  byField: Partial<Record<F, string[]>>;
  general: string[];
}

/** A "; " that starts another `field: ` message (a message's own "; add the domain…" is not one). */
const NEXT_FIELD = /; (?=[A-Za-z][\w.[\]]*: )/;
const FIELD_PREFIX = /^([A-Za-z][\w.[\]]*): ([\s\S]+)$/;

export function splitFieldErrors<F extends string>(message: string | string[], fieldOf: (path: string) => F | undefined): FieldErrors<F> {
  const result: FieldErrors<F> = { byField: {}, general: [] };
  for (const text of Array.isArray(message) ? message : [message]) {
    let last: string[] | undefined;
    for (const part of text.split(NEXT_FIELD).map((piece) => piece.trim())) {
      const match = FIELD_PREFIX.exec(part);
      const field = match ? fieldOf(match[1].replace(/\[\d*\]/g, '')) : undefined;
      if (match && field) {
        last = result.byField[field] ??= [];
        last.push(match[2]);
      } else if (last) {
        last[last.length - 1] += `; ${part}`;
      } else {
        result.general.push(part);
        last = result.general;
      }
    }
  }
  return result;
}

/** A form whose fields are the API's top-level fields (`folders[1]` and `folders.x` are `folders`). */
export function topLevelField(path: string): string {
  return path.split('.')[0];
}
