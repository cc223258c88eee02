import { html, HtmlValue, SafeHtml } from './html';

/**
 * Labelled form controls with their hint and their problems (the API's words) under the label: the
 * control says aria-invalid and points at both with aria-describedby, so a screen reader reads the
 * problem with the field. No `required` or `pattern` in the markup: the API's checks are the ones shown.
 */
export interface FieldState {
  /** The form name (`oauth.clientId`); the element id is derived from it. */
  name: string;
  label: string;
  hint?: HtmlValue;
  problems?: string[];
}

export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

function describedBy(field: FieldState): { ids: string; invalid: boolean } {
  const invalid = Boolean(field.problems?.length);
  const ids = [field.hint ? `${fieldId(field.name)}-hint` : '', invalid ? `${fieldId(field.name)}-error` : ''].filter(Boolean).join(' ');
  return { ids, invalid };
}

function aria(field: FieldState): SafeHtml {
  const { ids, invalid } = describedBy(field);
  return html`${ids ? html` aria-describedby="${ids}"` : ''}${invalid ? html` aria-invalid="true"` : ''}`;
}

function hintAndProblems(field: FieldState): SafeHtml {
  const id = fieldId(field.name);
  return html`${field.hint ? html`<p class="hint" id="${id}-hint">${field.hint}</p>` : ''}
    ${field.problems?.length ? html`<p class="field-error" id="${id}-error">${field.problems.join(' ')}</p>` : ''}`;
}

export function textInput(
  field: FieldState & { value: string; type?: 'text' | 'password' | 'url'; inputmode?: 'numeric'; autocomplete?: string; placeholder?: string; className?: string },
): SafeHtml {
  const id = fieldId(field.name);
  return html`<div class="form-field${field.className ? ` ${field.className}` : ''}${field.problems?.length ? ' has-error' : ''}">
    <label for="${id}">${field.label}</label>
    ${hintAndProblems(field)}
    <input id="${id}" name="${field.name}" type="${field.type ?? 'text'}" value="${field.value}"${field.inputmode ? html` inputmode="${field.inputmode}"` : ''}
      autocomplete="${field.autocomplete ?? 'off'}"${field.placeholder ? html` placeholder="${field.placeholder}"` : ''} spellcheck="false"${aria(field)}>
  </div>`;
}

export function textArea(field: FieldState & { value: string; rows: number; placeholder?: string }): SafeHtml {
  const id = fieldId(field.name);
  return html`<div class="form-field${field.problems?.length ? ' has-error' : ''}">
    <label for="${id}">${field.label}</label>
    ${hintAndProblems(field)}
    <textarea id="${id}" name="${field.name}" rows="${field.rows}" spellcheck="false"${field.placeholder ? html` placeholder="${field.placeholder}"` : ''}${aria(field)}>${field.value}</textarea>
  </div>`;
}

export function select(field: FieldState & { value: string; options: { value: string; label: string }[] }): SafeHtml {
  const id = fieldId(field.name);
  return html`<div class="form-field${field.problems?.length ? ' has-error' : ''}">
    <label for="${id}">${field.label}</label>
    ${hintAndProblems(field)}
    <select id="${id}" name="${field.name}"${aria(field)}>
      ${field.options.map((option) => html`<option value="${option.value}"${option.value === field.value ? html` selected` : ''}>${option.label}</option>`)}
    </select>
  </div>`;
}

export function checkbox(field: FieldState & { checked: boolean }): SafeHtml {
  const id = fieldId(field.name);
  return html`<div class="form-field check${field.problems?.length ? ' has-error' : ''}">
    <input id="${id}" name="${field.name}" type="checkbox" value="on"${field.checked ? html` checked` : ''}${aria(field)}>
    <label for="${id}">${field.label}</label>
    ${hintAndProblems(field)}
  </div>`;
}

/** Radio buttons in a fieldset whose legend is the label; each button carries the group's hint and problems. */
export function radios(field: FieldState & { value: string; options: { value: string; label: string; hint?: string }[] }): SafeHtml {
  const id = fieldId(field.name);
  return html`<fieldset class="form-field radios${field.problems?.length ? ' has-error' : ''}" id="${id}">
    <legend>${field.label}</legend>
    ${hintAndProblems(field)}
    ${field.options.map(
      (option) => html`<div class="radio">
        <input id="${id}-${option.value}" name="${field.name}" type="radio" value="${option.value}"${option.value === field.value ? html` checked` : ''}${aria(field)}>
        <label for="${id}-${option.value}">${option.label}${option.hint ? html` <span class="muted">${option.hint}</span>` : ''}</label>
      </div>`,
    )}
  </fieldset>`;
}
