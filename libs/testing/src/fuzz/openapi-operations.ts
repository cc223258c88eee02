/** The part of an OpenAPI 3 document the fuzzer reads. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  writeOnly?: boolean;
  readOnly?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  example?: unknown;
  default?: unknown;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  $ref?: string;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
  security?: unknown[];
}

export interface FuzzParameter {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

/** One operation of the document, with every $ref resolved. */
export interface FuzzOperation {
  /** `POST /v1/providers/{id}`: how failures are grouped and how the test names operations. */
  key: string;
  method: string;
  /** The path template, `{name}` for path parameters. */
  path: string;
  pathParams: FuzzParameter[];
  queryParams: FuzzParameter[];
  /** The JSON body's schema, when the operation takes one. */
  body?: JsonSchema;
  /** Needs the API key (the document lists a security requirement). */
  secured: boolean;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/**
 * Resolves `$ref`s and single-element `allOf`s (how @nestjs/swagger wraps a nested DTO with a
 * description) into one self-contained schema. Recursive schemas are cut at `depth`.
 */
export function resolveSchema(schema: JsonSchema | undefined, doc: OpenApiDocument, depth = 0): JsonSchema {
  if (!schema || depth > 12) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`OpenAPI document: ${schema.$ref} is not defined`);
    return resolveSchema(target, doc, depth + 1);
  }
  const { allOf, ...rest } = schema;
  let resolved: JsonSchema = { ...rest };
  for (const part of allOf ?? []) {
    const inner = resolveSchema(part, doc, depth + 1);
    resolved = { ...inner, ...resolved, properties: { ...inner.properties, ...resolved.properties }, required: [...(inner.required ?? []), ...(resolved.required ?? [])] };
  }
  if (resolved.properties) {
    resolved.properties = Object.fromEntries(Object.entries(resolved.properties).map(([key, value]) => [key, resolveSchema(value, doc, depth + 1)]));
  }
  if (resolved.items) resolved.items = resolveSchema(resolved.items, doc, depth + 1);
  return resolved;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const parameters = (operation.parameters ?? []).map((parameter) => ({ ...parameter, schema: resolveSchema(parameter.schema, doc) }));
      const toFuzz = (where: OpenApiParameter['in']) =>
        parameters.filter((parameter) => parameter.in === where).map(({ name, required, schema }) => ({ name, required: required ?? false, schema }));
      const json = operation.requestBody?.content?.['application/json'];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: toFuzz('path'),
        queryParams: toFuzz('query'),
        body: json ? resolveSchema(json.schema, doc) : undefined,
        secured: (operation.security ?? doc.security ?? []).length > 0,
      });
    }
  }
  return operations;
}

/** The JSON types a schema allows (`integer` counts as a number for JSON). */
export function jsonTypesOf(schema: JsonSchema): string[] {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0 && schema.properties) return ['object'];
  if (types.length === 0 && schema.enum) return [...new Set(schema.enum.map((value) => (value === null ? 'null' : typeof value)))];
  return types;
}

export function isNullable(schema: JsonSchema): boolean {
  return schema.nullable === true || jsonTypesOf(schema).includes('null');
}
