// Boundary tests generated from the server's own /openapi.json (itself generated from the route
// schemas): every string, date and number of every path parameter, query parameter and body field
// of every route gets NUL, lone surrogates, control characters, over-long and out-of-range values.
// Each must be a 400 naming that field, store nothing, and leave other requests unaffected; a
// route added tomorrow is covered by the same loop.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  const?: unknown;
  maxLength?: number;
  /** Set by wellFormedString({ multiline: true }): tabs and newlines are text there. */
  'x-multiline'?: boolean;
  minLength?: number;
  maximum?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  format?: string;
  enum?: unknown[];
  pattern?: string;
};

interface Operation {
  method: string;
  path: string;
  access: string;
  parameters: Array<{ name: string; in: 'path' | 'query'; schema: JsonSchema }>;
  body?: JsonSchema;
  example: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
}

/** A bad value and why it is bad, for a string field. */
function badStrings(schema: JsonSchema): Array<[string, string]> {
  // Every accepted string has a bound: a field without one is a finding of this test.
  expect(schema.maxLength, `string schema ${JSON.stringify(schema).slice(0, 120)} has a maxLength`).toBeDefined();
  const max = schema.maxLength!;
  return [
    ['NUL', 'a\u0000b'],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', '\udc00'],
    ['escape character', '\u001b[31mred'],
    ...(schema['x-multiline'] ? [] : [['newline', 'one\ntwo'] as [string, string]]),
    ['C1 control', 'a\u0085b'],
    ['over-long', 'x'.repeat(max + 1)],
  ];
}

function badNumbers(schema: JsonSchema): Array<[string, number | string]> {
  const cases: Array<[string, number | string]> = [['not a number', 'seven'], ['fraction', 1.5]];
  if (schema.maximum !== undefined) cases.push(['above maximum', schema.maximum + 1]);
  if (schema.minimum !== undefined) cases.push(['below minimum', schema.minimum - 1]);
  if (schema.exclusiveMinimum !== undefined) cases.push(['at exclusive minimum', schema.exclusiveMinimum]);
  return cases;
}

const BAD_DATES: Array<[string, string]> = [
  ['year 0', '0000-01-01T00:00:00Z'],
  ['year 10000', '+010000-01-01T00:00:00Z'],
  ['30 February', '2026-02-30T00:00:00Z'],
  ['no offset', '2026-01-01T00:00:00'],
  ['NUL', '2026-01-01T00:00:00Z\u0000'],
];

interface Mutation {
  field: string;
  what: string;
  body: unknown;
}

/** Every single-field mutation of `example` that `schema` must refuse, with the field's JSON path. */
function bodyMutations(schema: JsonSchema, example: unknown, path: string): Mutation[] {
  const branch = schema.oneOf ?? schema.anyOf;
  if (branch) {
    const kind = (example as { kind?: unknown } | undefined)?.kind;
    const chosen = branch.find((candidate) => candidate.properties?.kind?.const === kind) ?? branch[0]!;
    return bodyMutations(chosen, example, path);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'string' && schema.enum === undefined && schema.const === undefined) {
    const values: Array<[string, string]> = schema.format === 'date-time' ? [...BAD_DATES, ...badStrings(schema).slice(0, 4)] : badStrings(schema);
    return values.map(([what, value]) => ({ field: path, what, body: value }));
  }
  if (type === 'integer' || type === 'number') return badNumbers(schema).map(([what, value]) => ({ field: path, what, body: value }));
  if (type === 'array' && schema.items && Array.isArray(example) && example.length > 0) {
    return bodyMutations(schema.items, example[0], `${path}[0]`).map((mutation) => ({ ...mutation, body: [mutation.body, ...example.slice(1)] }));
  }
  if (type !== 'object' || typeof example !== 'object' || example === null) return [];
  const record = example as Record<string, unknown>;
  const mutations: Mutation[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (!(name in record) && (property.type === 'object' || property.type === 'array')) continue;
    for (const mutation of bodyMutations(property, record[name], path ? `${path}.${name}` : name)) mutations.push({ ...mutation, body: { ...record, [name]: mutation.body } });
  }
  if (typeof schema.additionalProperties === 'object') {
    const [firstKey] = Object.keys(record);
    if (firstKey !== undefined) {
      for (const mutation of bodyMutations(schema.additionalProperties, record[firstKey], path ? `${path}.${firstKey}` : firstKey)) mutations.push({ ...mutation, body: { ...record, [firstKey]: mutation.body } });
    }
    for (const [what, key] of badStrings(schema.propertyNames ?? {}).slice(0, 5)) mutations.push({ field: path ? `${path}.${key}` : key, what: `label key with ${what}`, body: { ...record, [key]: 'value' } });
  }
  return mutations;
}

function encodeQuery(query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return search ? `?${search}` : '';
}

describe('API boundaries, generated from /openapi.json', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let adminToken: string;
  let operations: Operation[];

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await runServer({
      port: 0,
      host: '127.0.0.1',
      home: mkdtempSync(join(tmpdir(), 'fleetpatch-boundaries-')),
      databaseUrl: database.connectionString,
      staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('empty', []),
      syncIntervalSeconds: 0,
      log: () => undefined,
    });
    adminToken = server.firstStart!.adminToken;
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-fleetpatch-access': string; parameters: Operation['parameters']; requestBody?: { content: { 'application/json': { schema: JsonSchema } } }; 'x-fleetpatch-example'?: Operation['example'] }>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        access: operation['x-fleetpatch-access'],
        parameters: operation.parameters,
        ...(operation.requestBody ? { body: operation.requestBody.content['application/json'].schema } : {}),
        example: operation['x-fleetpatch-example'] ?? {},
      })),
    );
    // The example host exists, so mutations of host routes fail on the mutated field, not on a 404.
    const checkIn = operations.find((operation) => operation.path === '/api/v1/hosts/{name}/inventory')!;
    expect((await send(checkIn, checkIn.example.params!, checkIn.example.query ?? {}, checkIn.example.body)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const send = (operation: Operation, params: Record<string, string>, query: Record<string, string>, body: unknown, rawPath?: string) => {
    const path = rawPath ?? operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
    return fetch(`${server.url}${path}${encodeQuery(query)}`, {
      method: operation.method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };

  /** Row counts of every table a request could write. */
  const fingerprint = async () =>
    (await database.pool.query<{ counts: string }>(
      `SELECT concat_ws(',', (SELECT count(*) FROM hosts), (SELECT string_agg(labels::text || coalesce(boot_id, ''), ';' ORDER BY name) FROM hosts), (SELECT count(*) FROM package_versions),
              (SELECT count(*) FROM findings), (SELECT count(*) FROM api_tokens), (SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL),
              (SELECT count(*) FROM enrollment_tokens), (SELECT count(*) FROM agent_credentials), (SELECT count(*) FROM retired_hosts)) AS counts`,
    )).rows[0]!.counts;

  it('documents every route with its schemas and an example', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const operation of operations) {
      if (operation.body) expect(operation.example.body, `${operation.method} ${operation.path} has an example body`).toBeDefined();
      for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'path')) expect(operation.example.params?.[parameter.name], `${operation.path} example ${parameter.name}`).toBeDefined();
    }
  });

  it('refuses every bad body field with a 400 naming it, and stores nothing', async () => {
    const before = await fingerprint();
    let tried = 0;
    for (const operation of operations.filter((candidate) => candidate.body)) {
      for (const mutation of bodyMutations(operation.body!, operation.example.body, '')) {
        const response = await send(operation, operation.example.params ?? {}, operation.example.query ?? {}, mutation.body);
        const label = `${operation.method} ${operation.path} ${mutation.field} (${mutation.what})`;
        expect(response.status, label).toBe(400);
        const error = ((await response.json()) as { error: { code: string; field?: string } }).error;
        expect(error.field, label).toBe(mutation.field);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(150);
    expect(await fingerprint()).toBe(before);
  }, 120_000);

  it('refuses every bad path and query parameter with a 400 naming it', async () => {
    const before = await fingerprint();
    let tried = 0;
    for (const operation of operations) {
      for (const parameter of operation.parameters) {
        const type = Array.isArray(parameter.schema.type) ? parameter.schema.type[0] : parameter.schema.type;
        const values: Array<[string, string]> =
          type === 'integer' || type === 'number' ? badNumbers(parameter.schema).map(([what, value]) => [what, String(value)])
          : parameter.schema.enum ? [['not in the list', 'maybe'], ['NUL', `${String(parameter.schema.enum[0])}\u0000`]]
          // A lone surrogate cannot be percent-encoded; its UTF-8 bytes are tested below.
          : badStrings(parameter.schema).filter(([what]) => !what.includes('surrogate'));
        for (const [what, value] of values) {
          const params = { ...operation.example.params };
          const query = { ...operation.example.query };
          if (parameter.in === 'path') params[parameter.name] = value;
          else query[parameter.name] = value;
          const response = await send(operation, params, query, operation.example.body);
          const label = `${operation.method} ${operation.path} ${parameter.in} ${parameter.name} (${what})`;
          expect(response.status, label).toBe(400);
          expect(((await response.json()) as { error: { field?: string } }).error.field, label).toBe(parameter.name);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(60);
    expect(await fingerprint()).toBe(before);
  }, 120_000);

  it('refuses percent-encoding that is not UTF-8 in paths and queries', async () => {
    const hosts = operations.find((operation) => operation.path === '/api/v1/hosts/{name}')!;
    const inPath = await send(hosts, {}, {}, undefined, '/api/v1/hosts/%ED%A0%80');
    expect(inPath.status).toBe(400);
    expect(((await inPath.json()) as { error: { field: string } }).error.field).toBe('path');
    const list = operations.find((operation) => operation.path === '/api/v1/hosts')!;
    const inQuery = await send(list, {}, {}, undefined, '/api/v1/hosts?q=%C3%28');
    expect(inQuery.status).toBe(400);
    expect(((await inQuery.json()) as { error: { field: string } }).error.field).toBe('q');
  });

  it('accepts each documented example (the base the mutations start from is valid)', async () => {
    // Destructive examples last: retiring the example host and revoking example ids.
    const ordered = [...operations].sort((a, b) => Number(/retire|revoke/.test(a.path)) - Number(/retire|revoke/.test(b.path)));
    for (const operation of ordered) {
      if (operation.path === '/api/v1/advisories/sync') continue;
      const response = await send(operation, operation.example.params ?? {}, operation.example.query ?? {}, operation.example.body);
      expect(response.status, `${operation.method} ${operation.path}`).not.toBe(400);
      expect(response.status, `${operation.method} ${operation.path}`).toBeLessThan(500);
    }
  });

  it('writes the other hosts\' heartbeats when one heartbeat is bad', async () => {
    const checkIn = operations.find((operation) => operation.path === '/api/v1/hosts/{name}/inventory')!;
    const heartbeat = operations.find((operation) => operation.path === '/api/v1/hosts/{name}/heartbeat')!;
    const names = Array.from({ length: 20 }, (_, index) => `beat-${index}`);
    for (const name of names) expect((await send(checkIn, { name }, {}, checkIn.example.body)).status).toBe(200);
    await database.pool.query("UPDATE hosts SET last_seen_at = '2020-01-01T00:00:00Z' WHERE name LIKE 'beat-%'");
    const poisoned = await send(heartbeat, { name: 'beat-0' }, {}, { bootId: '\u0000' });
    expect(poisoned.status).toBe(400);
    for (const name of names) expect((await send(heartbeat, { name }, {}, { bootId: `boot-${name}` })).status).toBe(204);
    await server.controlPlane.heartbeats.flush();
    const updated = await database.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM hosts WHERE name LIKE 'beat-%' AND last_seen_at > '2020-01-02' AND boot_id = 'boot-' || name");
    expect(updated.rows[0]!.n).toBe(20);
  });

  it('lets a burst of agents connect at once: its listening socket queues 4,096 (or the kernel\'s cap), not Node\'s 511', () => {
    const port = new URL(server.url).port;
    // `ss` shows a listening socket's backlog as its Send-Q.
    const [, , backlog] = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split(/\s+/);
    const kernelCap = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(Number(backlog)).toBe(Math.min(4096, kernelCap));
  });
});
