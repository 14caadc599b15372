/**
 * One description of each API route: its path, who may call it, the zod schemas of its path
 * parameters, query and body, and an example request. The server validates with these schemas and
 * `/openapi.json` is generated from them, so the document cannot drift from what the routes take,
 * and the boundary tests iterate over the document, so a new route is covered the day it is added.
 */
import { z } from 'zod';
import type { Role } from '../store/auth-store.js';

/** `public`: no token; `host-writer`: the host's own credential or an operator token; a role: an API token with at least it. */
export type RouteAccess = 'public' | 'host-writer' | Role;

export interface RouteExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI form: `/api/v1/hosts/{name}`. */
  path: string;
  summary: string;
  access: RouteAccess;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Largest accepted body, in bytes (64 KiB unless set). */
  maxBodyBytes?: number;
  /** Status code → what it means; 400/401/403/503 are added from `access` and the schemas. */
  responses: Record<number, string>;
  /** A valid request: documentation, and the base the boundary tests mutate one field of. */
  example?: RouteExample;
}

/** The Hono form of an OpenAPI path: `/hosts/{name}` → `/hosts/:name`. */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string', description: 'The JSON path of the bad field' }, hint: { type: 'string' } },
    },
  },
};

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function parametersOf(schema: z.ZodObject | undefined, location: 'path' | 'query'): object[] {
  if (!schema) return [];
  const objectSchema = jsonSchemaOf(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(objectSchema.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === 'path' || (objectSchema.required ?? []).includes(name),
      schema: propertySchema,
      ...(description ? { description } : {}),
    };
  });
}

/** The OpenAPI 3.1 document of `routes`. */
export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string; description: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(route.responses)) responses[status] = Number(status) >= 400 ? errorResponse(description) : { description };
    if (route.params || route.query || route.body) responses['400'] ??= errorResponse('Invalid request: the error names the field');
    if (route.access !== 'public') {
      responses['401'] ??= errorResponse('Missing, unknown or revoked token or credential');
      responses['403'] ??= errorResponse(route.access === 'host-writer' ? 'Another host\'s credential, or a token below operator' : `Needs the ${route.access} role`);
    }
    if (route.body) responses['413'] ??= errorResponse('Body larger than the route accepts');
    responses['503'] ??= errorResponse('The database is unavailable or the server is busy; retry later');
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      'x-fleetpatch-access': route.access,
      ...(route.access === 'public' ? {} : { security: [{ bearer: [] }] }),
      parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchemaOf(route.body), ...(route.example?.body !== undefined ? { example: route.example.body } : {}) } },
            },
          }
        : {}),
      ...(route.example ? { 'x-fleetpatch-example': route.example } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (viewer, operator, admin) or a host credential from /api/v1/enroll' } },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
