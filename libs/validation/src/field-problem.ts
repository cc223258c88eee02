import { FieldSpec, StringFieldSpec } from './field-spec';

/**
 * The first thing wrong with `value` for `spec`, as the message after "field: ", or undefined when it is
 * fine. One message per field: a null password is "must not be null", not also "must be a string".
 * Nested objects are checked by their own class; here only that they are objects.
 */
export function fieldProblem(spec: FieldSpec, value: unknown): string | undefined {
  if (value === undefined) return spec.required ? 'is required' : undefined;
  if (value === null) return spec.nullMeans !== undefined || spec.kind === 'object' ? undefined : 'must not be null';
  switch (spec.kind) {
    case 'string':
      return stringProblem(spec, value);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer number';
      return value < spec.minimum || value > spec.maximum ? `must be between ${spec.minimum} and ${spec.maximum}` : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean value';
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value) ? undefined : `must be one of: ${spec.values.join(', ')}`;
    case 'list':
      return listProblem(spec, value);
    case 'object':
      // Non-objects and null are reported by the nested validation (one message); arrays would pass it.
      return Array.isArray(value) ? 'must be an object' : undefined;
  }
}

function stringProblem(spec: Pick<StringFieldSpec, 'maxLength' | 'minLength' | 'check'>, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  const minLength = spec.minLength ?? 1;
  if (value.length < minLength) return minLength === 1 ? 'should not be empty' : `must be at least ${minLength} characters long`;
  if (value.length > spec.maxLength) return `must be shorter than or equal to ${spec.maxLength} characters`;
  if (spec.check && !spec.check.test(value)) return spec.check.message;
  return undefined;
}

function listProblem(spec: Extract<FieldSpec, { kind: 'list' }>, value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be an array';
  if (spec.minItems !== undefined && value.length < spec.minItems) return `must contain at least ${spec.minItems} elements`;
  if (value.length > spec.maxItems) return `must contain no more than ${spec.maxItems} elements`;
  for (const [index, item] of value.entries()) {
    const problem = item === null ? 'must not be null' : stringProblem(spec.items, item);
    // A list-specific check message already speaks of "each …"; the generic ones name the position.
    if (problem) return problem === spec.items.check?.message ? problem : `item ${index + 1} ${problem}`;
  }
  if (spec.unique && new Set(value).size !== value.length) return spec.unique;
  return undefined;
}
