import { isNullable, JsonSchema, jsonTypesOf } from './openapi-operations';

/** A place in a JSON body that the fuzzer mutates. */
export interface BodyField {
  /** Steps from the body's root: property names and array indexes. */
  steps: (string | number)[];
  /** How the API names it in messages: `oauth.clientId`, `domains[0]`. */
  path: string;
  schema: JsonSchema;
  required: boolean;
  /** A secret (write-only in the document, or named so by the test): its values carry the marker. */
  secret: boolean;
}

export function pathOf(steps: (string | number)[]): string {
  return steps.reduce<string>((path, step) => (typeof step === 'number' ? `${path}[${step}]` : path ? `${path}.${step}` : step), '');
}

/**
 * Every field of a body schema, nested objects and the first item of arrays included, parents before
 * their children. `secretNames` adds secrets the document does not mark write-only.
 */
export function bodyFieldsOf(schema: JsonSchema, secretNames: readonly string[] = [], steps: (string | number)[] = []): BodyField[] {
  const fields: BodyField[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const here = [...steps, name];
    fields.push({ steps: here, path: pathOf(here), schema: property, required: (schema.required ?? []).includes(name), secret: property.writeOnly === true || secretNames.includes(name) });
    fields.push(...childFieldsOf(property, secretNames, here));
  }
  return fields;
}

function childFieldsOf(schema: JsonSchema, secretNames: readonly string[], steps: (string | number)[]): BodyField[] {
  if (schema.properties) return bodyFieldsOf(schema, secretNames, steps);
  if (jsonTypesOf(schema).includes('array') && schema.items) {
    const item = [...steps, 0];
    return [{ steps: item, path: pathOf(item), schema: schema.items, required: false, secret: schema.items.writeOnly === true }, ...childFieldsOf(schema.items, secretNames, item)];
  }
  return [];
}

/** A plausible value for a schema (example, default, first enum value, or by type): fills what the test's baseline leaves out. */
export function exampleOf(schema: JsonSchema): unknown {
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  const type = jsonTypesOf(schema).find((candidate) => candidate !== 'null');
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, exampleOf(property)]));
    case 'array':
      return schema.items ? [exampleOf(schema.items)] : [];
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return schema.format === 'uuid' ? '00000000-0000-4000-8000-000000000000' : 'fuzz';
    default:
      return isNullable(schema) ? null : 'fuzz';
  }
}

/** Reads the value at `steps` (undefined when a step is missing). */
export function valueAt(body: unknown, steps: (string | number)[]): unknown {
  let here = body;
  for (const step of steps) {
    if (here === null || typeof here !== 'object' || !Object.prototype.hasOwnProperty.call(here, step)) return undefined;
    here = (here as Record<string | number, unknown>)[step];
  }
  return here;
}

/**
 * A copy of `body` with the value at `steps` replaced (`undefined` removes it), creating the objects and
 * arrays on the way. Keys are defined, never assigned, so `__proto__` becomes an own key, not a prototype.
 */
export function withValueAt(body: unknown, steps: (string | number)[], value: unknown): unknown {
  if (steps.length === 0) return value;
  const [step, ...rest] = steps;
  const container = (
    typeof step === 'number'
      ? Array.isArray(body) ? [...body] : []
      : body !== null && typeof body === 'object' && !Array.isArray(body) ? copyOwn(body as Record<string, unknown>) : {}
  ) as Record<string | number, unknown>;
  const next = withValueAt(Object.prototype.hasOwnProperty.call(container, step) ? container[step] : undefined, rest, value);
  if (next === undefined && rest.length === 0) {
    delete container[step];
  } else {
    Object.defineProperty(container, step, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return container;
}

function copyOwn(source: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) Object.defineProperty(copy, key, { value: source[key], enumerable: true, writable: true, configurable: true });
  return copy;
}
