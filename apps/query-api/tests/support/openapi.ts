import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The query API's OpenAPI document, parsed. */
export const OPENAPI_FILE = join(__dirname, '../../openapi.yaml');

type Json = Record<string, unknown>;
export interface OpenApiOperation {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, Json>;
}
export interface OpenApiDocument {
  openapi: string;
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, Json>>;
}

export const loadOpenApi = (): OpenApiDocument => parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;

/** Follows a local `$ref` (`#/components/...`) until the object is not a reference. */
export const resolveRef = <T = Json>(document: OpenApiDocument, node: unknown): T => {
  let current = node as Json;
  while (current && typeof current['$ref'] === 'string') {
    const path = (current['$ref'] as string).replace(/^#\//, '').split('/');
    current = path.reduce<Json>((at, key) => at[key] as Json, document as unknown as Json);
  }
  return current as T;
};

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

/**
 * The subset of JSON Schema this document uses (`$ref`, `type` incl. lists, `enum`, `required`, `properties`,
 * `additionalProperties`, `items`, `minLength`/`maxLength`, `minimum`), enough to hold an answer to its schema.
 * Returns one line per violation; empty when the value fits.
 */
export const schemaViolations = (document: OpenApiDocument, schemaNode: unknown, value: unknown, at = '$'): string[] => {
  const schema = resolveRef(document, schemaNode);
  const problems: string[] = [];
  const types = schema['type'] === undefined ? [] : ([] as string[]).concat(schema['type'] as string | string[]);
  const actual = typeOf(value);
  if (types.length > 0 && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    return [`${at}: expected ${types.join(' or ')}, got ${actual}`];
  }
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(value))
    problems.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema['enum'])}`);
  if (typeof value === 'string') {
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) problems.push(`${at}: shorter than ${schema['minLength']}`);
    if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) problems.push(`${at}: longer than ${schema['maxLength']}`);
  }
  if (typeof value === 'number' && typeof schema['minimum'] === 'number' && value < schema['minimum'])
    problems.push(`${at}: below ${schema['minimum']}`);
  if (actual === 'object') {
    const object = value as Json;
    const properties = (schema['properties'] ?? {}) as Record<string, unknown>;
    for (const name of (schema['required'] ?? []) as string[]) if (!(name in object)) problems.push(`${at}: missing required "${name}"`);
    for (const [name, child] of Object.entries(object)) {
      if (name in properties) problems.push(...schemaViolations(document, properties[name], child, `${at}.${name}`));
      else if (schema['additionalProperties'] === false) problems.push(`${at}: unexpected "${name}"`);
    }
  }
  if (actual === 'array' && schema['items'] !== undefined) {
    (value as unknown[]).forEach((item, index) => problems.push(...schemaViolations(document, schema['items'], item, `${at}[${index}]`)));
  }
  return problems;
};

/** The document's path template for a concrete path: `/users/PAT1/loans/7` → `/users/{id}/loans/{loanId}`. */
export const templateOf = (document: OpenApiDocument, method: string, path: string): string | undefined => {
  const parts = path.split('/');
  return Object.keys(document.paths).find((template) => {
    const templateParts = template.split('/');
    return (
      document.paths[template][method.toLowerCase()] !== undefined &&
      templateParts.length === parts.length &&
      templateParts.every((part, index) => /^\{.+\}$/.test(part) || part === parts[index])
    );
  });
};

/**
 * What the document gets wrong about one answer: an undocumented status, a body that does not fit the status's
 * schema, or a required header missing. Empty when the answer is documented.
 */
export const documentationGaps = (
  document: OpenApiDocument,
  request: { method: string; path: string },
  response: { status: number; headers: Headers; body: unknown },
): string[] => {
  const template = templateOf(document, request.method, request.path);
  if (template === undefined) return [`${request.method} ${request.path}: no such operation in openapi.yaml`];
  const operation = document.paths[template][request.method.toLowerCase()];
  const documented = operation.responses[String(response.status)];
  if (documented === undefined) return [`${request.method} ${template}: status ${response.status} is not documented`];
  const answer = resolveRef(document, documented);
  const gaps: string[] = [];
  const content = answer['content'] as Record<string, { schema: unknown }> | undefined;
  const schema = content?.['application/json']?.schema;
  if (schema !== undefined)
    gaps.push(...schemaViolations(document, schema, response.body).map((line) => `${request.method} ${template} ${response.status}: ${line}`));
  for (const [name, header] of Object.entries((answer['headers'] ?? {}) as Record<string, unknown>)) {
    if (resolveRef(document, header)['required'] === true && !response.headers.has(name)) {
      gaps.push(`${request.method} ${template} ${response.status}: required header ${name} missing`);
    }
  }
  return gaps;
};
