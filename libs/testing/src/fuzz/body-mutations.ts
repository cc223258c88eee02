import { BodyField, pathOf, valueAt, withValueAt } from './body-fields';
import { CaseFactory } from './case-factory';
import { FuzzCase } from './fuzz-case';
import { deeplyNested, raw } from './json-text';
import { jsonTypesOf } from './openapi-operations';
import { DEEP_NESTING, valueMutations } from './value-mutations';

/** Keys that reach Object.prototype when a body is merged or assigned carelessly. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** What a prototype-pollution payload sets: the runner looks for it on Object.prototype after every answer. */
export const POLLUTION_MARK = 'fuzzPolluted';

/** A 400 about `field` may name it, or for an array item (`domains[0]`) the array. */
export function namesFor(field: Pick<BodyField, 'path'>): string[] {
  const parent = field.path.replace(/(\[\d+\])+$/, '');
  return parent !== field.path ? [field.path, parent] : [field.path];
}

/**
 * Every field the operation's body has: what a 400 may name when the value sent was plausible (an
 * emoji, an empty array), since a rule across fields may then refuse another one.
 */
function anyFieldOf(factory: CaseFactory): string[] {
  return factory.fields.flatMap((field) => namesFor(field));
}

/** Every value mutation of every body field, one field at a time. */
export function fieldCases(factory: CaseFactory): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const field of factory.fields) {
    for (const mutation of valueMutations(field.schema, factory.textFor(field), factory.prng)) {
      const wrong = mutation.itemsOnly ? `${field.path}[0]` : field.path;
      cases.push(
        factory.make(`${field.path}: ${mutation.label}`, {
          body: withValueAt(factory.validBody(), field.steps, mutation.value),
          names: mutation.mustReject ? namesFor({ path: wrong }) : anyFieldOf(factory),
          mustReject: mutation.mustReject && !factory.lenientField(wrong),
        }),
      );
    }
    if (field.required) {
      cases.push(
        factory.make(`${field.path}: missing (required)`, {
          body: withValueAt(factory.validBody(), field.steps, undefined),
          names: namesFor(field),
          mustReject: !factory.lenientField(field.path),
        }),
      );
    }
  }
  return cases;
}

/** Unknown and prototype keys in the body and in each of its objects. */
export function unknownKeyCases(factory: CaseFactory): FuzzCase[] {
  if (!factory.operation.body) return [];
  const objects: (string | number)[][] = [[], ...factory.fields.filter((field) => jsonTypesOf(field.schema).includes('object')).map((field) => field.steps)];
  const cases: FuzzCase[] = [];
  for (const steps of objects) {
    const base = valueAt(factory.validBody(), steps);
    const container = base !== null && typeof base === 'object' && !Array.isArray(base) ? base : {};
    for (const key of ['fuzzUnknownField', ...PROTOTYPE_KEYS]) {
      const path = pathOf([...steps, key]);
      const payload = key === 'constructor' ? { prototype: { [POLLUTION_MARK]: true } } : { [POLLUTION_MARK]: true };
      const lenient = steps.length === 0 ? factory.setup.lenient?.unknownKeys === true : factory.lenientField(pathOf(steps));
      cases.push(
        factory.make(`${path}: unknown key`, {
          body: withValueAt(factory.validBody(), steps, withValueAt(container, [key], payload)),
          names: [path],
          mustReject: !lenient,
        }),
      );
    }
  }
  return cases;
}

/** The whole body replaced: other JSON types, deep nesting, empty, malformed or oversized text. */
export function wholeBodyCases(factory: CaseFactory): FuzzCase[] {
  if (!factory.operation.body) return [];
  const valid = factory.validBody();
  const text = JSON.stringify(valid);
  const required = factory.operation.body.required ?? [];
  const secretField = factory.secretFields.find((field) => !field.steps.some((step) => typeof step === 'number'));
  const cases: FuzzCase[] = [
    factory.make('body: array holding the valid body', { body: [valid], mustReject: true }),
    factory.make('body: empty array', { body: [], mustReject: true }),
    factory.make('body: a JSON string', { body: 'fuzz', mustReject: true }),
    factory.make('body: a JSON number', { body: 1e21, mustReject: true }),
    factory.make('body: JSON null', { body: null, mustReject: true }),
    factory.make('body: JSON true', { body: true, mustReject: true }),
    factory.make('body: empty object', { body: {}, names: required.length > 0 ? required : undefined, mustReject: required.length > 0 }),
    factory.make(`body: nested ${DEEP_NESTING} arrays deep`, { body: deeplyNested(DEEP_NESTING, 'array'), mustReject: true }),
    factory.make(`body: nested ${DEEP_NESTING} objects deep`, { body: deeplyNested(DEEP_NESTING, 'object'), mustReject: true }),
    factory.make('body: empty with Content-Type: application/json', { rawBody: Buffer.alloc(0), headers: { 'content-type': 'application/json' }, mustReject: required.length > 0 }),
    factory.make('body: malformed JSON (cut in half)', { rawBody: Buffer.from(text.slice(0, Math.floor(text.length / 2))), mustReject: true }),
    factory.make('body: malformed JSON (trailing comma)', { rawBody: Buffer.from(text.replace(/}$/, ',}')), mustReject: true }),
    factory.make('body: malformed JSON (single quotes)', { rawBody: Buffer.from(text.replace(/"/g, "'")), mustReject: true }),
    factory.make('body: malformed JSON (NaN literal)', { body: withValueAt(valid, ['fuzzNumber'], raw('NaN')), mustReject: true }),
    factory.make('body: JSON followed by garbage', { rawBody: Buffer.from(`${text}garbage`), mustReject: true }),
    // JSON leaves duplicate keys to the reader (the last one wins in JavaScript): nothing to refuse.
    factory.make('body: a field given twice', { rawBody: Buffer.from(duplicateFirstKey(text)), mustReject: false }),
    factory.make('body: larger than any body limit (1.1 MiB)', { body: withValueAt(valid, ['fuzzPadding'], 'x'.repeat(1_150_000)), mustReject: true }),
  ];
  if (secretField) {
    // V8's JSON.parse messages quote the input around the error: a secret there would be sent back.
    const secret = factory.options.secret;
    cases.push(
      factory.make(`body: malformed JSON, the error next to ${secretField.path}'s secret`, { rawBody: nestedText(secretField.steps, `${secret} ${secret}`), mustReject: true }),
      factory.make(`body: malformed JSON, ${secretField.path}'s secret unterminated`, { rawBody: nestedText(secretField.steps, `"${secret}`, false), mustReject: true }),
    );
  }
  return cases;
}

/** A few fields at once, with values drawn from their own mutations: finds what one-at-a-time hides. */
export function combinationCases(factory: CaseFactory, count: number): FuzzCase[] {
  const candidates = factory.fields.filter((field) => !field.steps.some((step) => typeof step === 'number'));
  if (candidates.length < 2) return [];
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    const picked = factory.prng.sample(candidates, factory.prng.int(2, Math.min(4, candidates.length)));
    let body = factory.validBody();
    const parts = picked.map((field) => {
      const mutation = factory.prng.pick(valueMutations(field.schema, factory.textFor(field), factory.prng));
      body = withValueAt(body, field.steps, mutation.value);
      const wrong = mutation.itemsOnly ? `${field.path}[0]` : field.path;
      return { field, mutation, wrong, mustReject: mutation.mustReject && !factory.lenientField(wrong) };
    });
    const rejected = parts.filter((part) => part.mustReject);
    cases.push(
      factory.make(`combination: ${parts.map((part) => `${part.field.path}: ${part.mutation.label}`).join(' + ')}`, {
        body,
        // A 400 must name one of the fields that must be refused; when none must, any field.
        names: rejected.length > 0 ? rejected.flatMap((part) => namesFor({ path: part.wrong })) : anyFieldOf(factory),
        mustReject: rejected.length > 0,
      }),
    );
  }
  return cases;
}

/** `{"a":1,…}` → `{"a":1,"a":1,…}`. */
function duplicateFirstKey(text: string): string {
  const first = /^\{("(?:[^"\\]|\\.)*":(?:"(?:[^"\\]|\\.)*"|[^,{}\[\]]+))/.exec(text);
  return first ? `{${first[1]},${text.slice(1)}` : text;
}

/** `{"a":{"b":<inner>}}` as bytes, closed or left open (`closed` false: the text just stops). */
function nestedText(steps: (string | number)[], inner: string, closed = true): Buffer {
  const keys = steps.filter((step): step is string => typeof step === 'string');
  const open = keys.map((key) => `{${JSON.stringify(key)}: `).join('');
  return Buffer.from(closed ? `${open}${inner}${'}'.repeat(keys.length)}` : `${open}${inner}`);
}
