import { Type } from '@nestjs/common';

/** A check of a string's content beyond type and length, with the message naming what is expected. */
export interface StringCheck {
  test(value: string): boolean;
  message: string;
  /** Stated in the OpenAPI document when the check is exactly this pattern. */
  pattern?: RegExp;
  /** OpenAPI `format` (email, uuid, uri, date-time). */
  format?: string;
}

interface CommonSpec {
  /** The field must be present. Default: optional (may be omitted). */
  required?: boolean;
  /**
   * What `null` means for this field (documented with `nullable: true`). Without it `null` is refused
   * with "must not be null": omitting a field is how to leave it unchanged or take the default.
   */
  nullMeans?: string;
  description?: string;
  example?: unknown;
  default?: unknown;
  writeOnly?: boolean;
}

export interface StringFieldSpec extends CommonSpec {
  kind: 'string';
  maxLength: number;
  /** Default 1: an empty string is refused ("should not be empty"). */
  minLength?: number;
  check?: StringCheck;
}

export interface IntegerFieldSpec extends CommonSpec {
  kind: 'integer';
  minimum: number;
  maximum: number;
}

export interface BooleanFieldSpec extends CommonSpec {
  kind: 'boolean';
}

export interface EnumFieldSpec extends CommonSpec {
  kind: 'enum';
  values: readonly string[];
}

export interface StringListFieldSpec extends CommonSpec {
  kind: 'list';
  items: Pick<StringFieldSpec, 'maxLength' | 'minLength' | 'check'>;
  minItems?: number;
  maxItems: number;
  /** Set to refuse duplicates, with this message. */
  unique?: string;
}

export interface ObjectFieldSpec extends CommonSpec {
  kind: 'object';
  type: () => Type<unknown>;
}

export type FieldSpec = StringFieldSpec | IntegerFieldSpec | BooleanFieldSpec | EnumFieldSpec | StringListFieldSpec | ObjectFieldSpec;
