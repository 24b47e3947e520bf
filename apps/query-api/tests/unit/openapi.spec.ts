import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { scopesAllowing } from '@alma-cache/cache-domain';
import { QUERY_ROUTE_SPECS, routeKeyOf } from '../../src/route-specs';
import { loadOpenApi, resolveRef, schemaViolations } from '../support/openapi';

interface HttpApiEvent {
  httpApi: { method: string; path: string; authorizer: { name: string; scopes: string } };
}
interface ServerlessConfig {
  custom: Record<string, unknown>;
  functions: Record<string, { events: HttpApiEvent[] }>;
}

const openapi = loadOpenApi();
const serverless = parse(readFileSync(join(__dirname, '../../serverless.yml'), 'utf8')) as ServerlessConfig;

/** `${self:custom.readScopes}` → the list it names in serverless.yml. */
const resolveCustom = (reference: string): unknown => {
  const path = /^\$\{self:custom\.([A-Za-z.]+)\}$/.exec(reference)?.[1];
  if (path === undefined) return reference;
  return path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], serverless.custom);
};

const documentedOperations = () =>
  Object.entries(openapi.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );

describe('Document: openapi.yaml', () => {
  it('describes exactly the routes of the route table, with their operation ids', () => {
    // Act
    const documented = documentedOperations().map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`);

    // Assess
    expect(documented.sort()).toEqual(QUERY_ROUTE_SPECS.map((spec) => `${routeKeyOf(spec)} ${spec.operationId}`).sort());
  });

  it('describes exactly the routes serverless.yml maps, with the same scopes', () => {
    // Prepare
    const events = Object.values(serverless.functions).flatMap((fn) => fn.events.map((event) => event.httpApi));

    // Act
    const mapped = events.map((event) => `${event.method} ${event.path} ${JSON.stringify(resolveCustom(event.authorizer.scopes))}`);

    // Assess
    const documented = documentedOperations().map(({ method, path, operation }) => {
      const scopes = (operation.security ?? openapi.security ?? []).flatMap((requirement) => requirement['bearerAuth'] ?? []);
      return `${method} ${path} ${JSON.stringify(scopes)}`;
    });
    expect(mapped.sort()).toEqual(documented.sort());
    expect(events.every((event) => event.authorizer.name === 'jwt')).toBe(true);
  });

  it('requires of each operation the scopes the access rule allows for its action, as alternatives', () => {
    // Assess
    for (const spec of QUERY_ROUTE_SPECS) {
      const operation = openapi.paths[spec.path][spec.method.toLowerCase()];
      expect({ route: routeKeyOf(spec), security: operation.security }).toEqual({
        route: routeKeyOf(spec),
        security: scopesAllowing(spec.action).map((scope) => ({ bearerAuth: [scope] })),
      });
    }
  });

  it('declares every path parameter of every route', () => {
    // Assess
    for (const { path, operation } of documentedOperations()) {
      const declared = ((operation as unknown as { parameters: unknown[] }).parameters ?? [])
        .map((parameter) => resolveRef<{ name: string; in: string; required: boolean }>(openapi, parameter))
        .map((parameter) => `${parameter.in}:${parameter.name}:${parameter.required}`);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => `path:${name}:true`);
      expect({ path, declared: declared.sort() }).toEqual({ path, declared: inPath.sort() });
    }
  });

  it('documents every status the routes answer, with Retry-After on 429 and 503', () => {
    // Assess
    for (const spec of QUERY_ROUTE_SPECS) {
      const responses = openapi.paths[spec.path][spec.method.toLowerCase()].responses;
      const expected =
        spec.action === 'read' ? ['200', '400', '401', '403', '404', '429', '500', '502', '503'] : ['202', '400', '401', '403', '429', '500'];
      expect({ route: routeKeyOf(spec), statuses: Object.keys(responses).sort() }).toEqual({ route: routeKeyOf(spec), statuses: expected });
      for (const status of ['429', '503'].filter((code) => code in responses)) {
        const headers = resolveRef<{ headers: Record<string, unknown> }>(openapi, responses[status]).headers;
        expect({ route: routeKeyOf(spec), status, retryAfter: 'retry-after' in headers }).toEqual({
          route: routeKeyOf(spec),
          status,
          retryAfter: true,
        });
      }
    }
  });

  it('holds answers to the schemas: the checker the HTTP specs use finds what is wrong', () => {
    // Prepare
    const patron = openapi.components['schemas']['Patron'];

    // Act
    const good = schemaViolations(openapi, patron, {
      primary_id: 'P',
      loans: [{ loan_id: '1', extra: true }],
      requests: [],
      fees: [{ id: 'f', balance: 2 }],
    });
    const bad = schemaViolations(openapi, patron, { primary_id: 7, loans: [{ title: null }], requests: [] });

    // Assess
    expect(good).toEqual([]);
    expect(bad).toEqual(['$: missing required "fees"', '$.primary_id: expected string, got integer', '$.loans[0]: missing required "loan_id"']);
  });
});
