import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { registerDecorator, ValidateIf, ValidateNested, ValidationArguments } from 'class-validator';
import { FieldSpec } from './field-spec';
import { fieldProblem } from './field-problem';

/**
 * One request field from one spec: its OpenAPI schema (type, lengths, pattern, range, nullable) and its
 * validation, so the document states exactly what the API enforces. `null` is refused ("must not be
 * null") unless the spec says what it means; an omitted optional field is not checked at all.
 */
export function Field(spec: FieldSpec): PropertyDecorator {
  const nullAllowed = spec.nullMeans !== undefined;
  const decorators: PropertyDecorator[] = [
    ApiProperty(openApiOf(spec)),
    ValidateIf((_object: unknown, value: unknown) => (value !== undefined || Boolean(spec.required)) && !(value === null && nullAllowed)),
    fieldRule(spec),
  ];
  if (spec.kind === 'object') {
    // Nested validation reports a non-object itself; its message is the one the field gets for null.
    decorators.push(ValidateNested({ message: (args: ValidationArguments) => (args.value === null ? 'must not be null' : 'must be an object') }), Type(spec.type));
  }
  return applyDecorators(...decorators);
}

function fieldRule(spec: FieldSpec): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'field',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => fieldProblem(spec, value) === undefined,
        defaultMessage: (args?: ValidationArguments) => fieldProblem(spec, args?.value) ?? 'is invalid',
      },
    });
}

function describe(spec: FieldSpec): string | undefined {
  const parts = [spec.description, spec.nullMeans !== undefined ? `\`null\`: ${spec.nullMeans}.` : undefined].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

function openApiOf(spec: FieldSpec): ApiPropertyOptions {
  const common = {
    required: Boolean(spec.required),
    description: describe(spec),
    example: spec.example,
    default: spec.default,
    writeOnly: spec.writeOnly,
    ...(spec.nullMeans !== undefined ? { nullable: true } : {}),
  };
  switch (spec.kind) {
    case 'string':
      return { ...common, type: 'string', maxLength: spec.maxLength, minLength: spec.minLength ?? 1, pattern: spec.check?.pattern?.source, format: spec.check?.format };
    case 'integer':
      return { ...common, type: 'integer', minimum: spec.minimum, maximum: spec.maximum };
    case 'boolean':
      return { ...common, type: 'boolean' };
    case 'enum':
      return { ...common, type: 'string', enum: [...spec.values] };
    case 'list':
      return {
        ...common,
        type: 'array',
        items: { type: 'string', maxLength: spec.items.maxLength, minLength: spec.items.minLength ?? 1, pattern: spec.items.check?.pattern?.source, format: spec.items.check?.format },
        minItems: spec.minItems,
        maxItems: spec.maxItems,
        uniqueItems: spec.unique ? true : undefined,
      };
    case 'object':
      return { ...common, type: spec.type };
  }
}
