import type { ItemKind, QueryAction } from '@alma-cache/cache-domain';

/** What each route does, before any handler is attached. */
export type QueryOperation =
  | { readonly type: 'patron' }
  | { readonly type: 'list'; readonly kind: ItemKind }
  | { readonly type: 'item'; readonly kind: ItemKind; readonly itemParameter: string }
  | { readonly type: 'refresh' };

/** One route of the query API: API Gateway's route key, the action the access rule checks, the OpenAPI operation. */
export interface QueryRouteSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly action: QueryAction;
  readonly operationId: string;
  readonly operation: QueryOperation;
}

/** The plural that names a kind in paths and response bodies: `loans`, `requests`, `fees`. */
export const KIND_PLURAL = { loan: 'loans', request: 'requests', fee: 'fees' } as const satisfies Record<ItemKind, string>;

const capitalised = (word: string) => `${word[0].toUpperCase()}${word.slice(1)}`;

const kindRoutes = (kind: ItemKind): QueryRouteSpec[] => {
  const plural = KIND_PLURAL[kind];
  const itemParameter = `${kind}Id`;
  return [
    {
      method: 'GET',
      path: `/users/{id}/${plural}`,
      action: 'read',
      operationId: `listPatron${capitalised(plural)}`,
      operation: { type: 'list', kind },
    },
    {
      method: 'GET',
      path: `/users/{id}/${plural}/{${itemParameter}}`,
      action: 'read',
      operationId: `getPatron${capitalised(kind)}`,
      operation: { type: 'item', kind, itemParameter },
    },
  ];
};

/**
 * Every route of the query API, and nothing else: the deploy maps exactly these (no catch-all), the OpenAPI document
 * describes exactly these, and tests hold both to this list.
 */
export const QUERY_ROUTE_SPECS: readonly QueryRouteSpec[] = [
  { method: 'GET', path: '/users/{id}', action: 'read', operationId: 'getPatron', operation: { type: 'patron' } },
  ...kindRoutes('loan'),
  ...kindRoutes('request'),
  ...kindRoutes('fee'),
  { method: 'POST', path: '/users/{id}/refresh', action: 'refresh', operationId: 'queuePatronRefresh', operation: { type: 'refresh' } },
];

/** API Gateway's name for a route: `GET /users/{id}`. */
export const routeKeyOf = (spec: Pick<QueryRouteSpec, 'method' | 'path'>): string => `${spec.method} ${spec.path}`;
