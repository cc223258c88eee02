/**
 * JSON text the fuzzer writes itself, for what JSON.stringify cannot produce: numbers beyond double
 * precision (`123456789012345678901234567890`, `1e400`), `-0`, nesting 3,000 levels deep without
 * recursion, malformed fragments.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export const raw = (text: string): RawJson => new RawJson(text);

/** `depth` nested arrays (`[[[…]]]`) or objects (`{"a":{"a":…}}`), built as text. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): RawJson {
  return kind === 'array' ? raw(`${'['.repeat(depth)}${']'.repeat(depth)}`) : raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/**
 * Serializes like JSON.stringify (undefined properties left out), writing RawJson values as they are. Own keys named `__proto__` are
 * written too (create them with a computed key: `{ ['__proto__']: … }`). Lone surrogates come out as
 * `\udXXX` escapes, as JSON.stringify writes them, so the server's parser turns them back into a lone
 * surrogate rather than the body being invalid UTF-8.
 */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => toJsonText(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    return `{${entries.map((key) => `${JSON.stringify(key)}:${toJsonText((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
