/**
 * The API's 400/409 messages name their field first (`email: must be an email address…`; the validation
 * pipe joins several with "; "). Split back into one message per field, so a form can show each next to
 * its input, in the API's own words; a message naming no field stays for the top of the form.
 */
export interface FieldErrors {
  byField: Record<string, string>;
  general: string[];
}

/** A "; " that starts another `field: ` message (a message's own "; add the domain…" is not one). */
const NEXT_FIELD = /; (?=[A-Za-z][\w.[\]]*: )/;
const FIELD_PREFIX = /^([A-Za-z][\w]*)(?:[.[][\w.[\]]*)?: ([\s\S]+)$/;

export function splitFieldErrors(message: string | string[]): FieldErrors {
  const parts = (Array.isArray(message) ? message : [message]).flatMap((text) => text.split(NEXT_FIELD));
  const result: FieldErrors = { byField: {}, general: [] };
  for (const part of parts) {
    const match = FIELD_PREFIX.exec(part.trim());
    if (!match) {
      result.general.push(part.trim());
      continue;
    }
    const [, field, text] = match;
    result.byField[field] = result.byField[field] ? `${result.byField[field]}; ${text}` : text;
  }
  return result;
}
