/**
 * The HTTP API and dashboard of `fleetpatch server`, on Hono. Routes delegate to the control plane
 * and the store in a line or two; authentication, validation and error shapes are handled here,
 * at the edge.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { DeltaBaseMismatch, type ControlPlane } from '../app/control-plane.js';
import { InputError } from '../domain/errors.js';
import { FeedUnreachableError } from '../feeds/advisory-feed.js';
import { SEVERITY_ORDER, type FindingState, type Severity } from '../domain/types.js';
import { checkInSchema, enrollSchema, heartbeatSchema } from '../protocol/agent-protocol.js';
import { createApiToken, createEnrollmentToken, principalOf, type Principal, type Role } from '../store/auth-store.js';
import { advisoryImpact, listFindings } from '../store/finding-queries.js';
import { hostDetail, hostPackages, hostPage } from '../store/fleet-queries.js';
import { ApiError, errorBody, respondWithError, validationError } from './api-error.js';
import type { DashboardAssets } from './dashboard-assets.js';
import type { FleetMetrics } from './fleet-metrics.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import type { SummaryCache } from './summary-cache.js';
import type pg from 'pg';

export interface AppDependencies {
  pool: pg.Pool;
  controlPlane: ControlPlane;
  metrics: FleetMetrics;
  summaries: SummaryCache;
  dashboard: DashboardAssets;
  /** Where `advisories/sync` reads from. */
  openAdvisoryFeed: () => Promise<import('../feeds/advisory-feed.js').AdvisoryFeed>;
  now?: () => Date;
}

type Env = { Variables: { principal: Principal } };

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const MAX_INVENTORY_BYTES = 32 * 1024 * 1024;
const MAX_BODY_BYTES = 64 * 1024;
const AUTH_CACHE_MS = 30_000;

export function createApp(dependencies: AppDependencies): Hono<Env> {
  const { pool, controlPlane } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const app = new Hono<Env>();
  const authCache = new Map<string, { principal: Principal | undefined; until: number }>();
  // Hosts are never deleted while the server runs, so a host seen once stays known.
  const knownHosts = new Set<string>();

  app.onError((error, context) => {
    if (error instanceof ApiError) return respondWithError(context, error);
    if (error instanceof InputError) return context.json(errorBody('invalid-request', error.message, { ...(error.location.field ? { field: error.location.field } : {}), ...(error.hint ? { hint: error.hint } : {}) }), 400);
    if (error instanceof DeltaBaseMismatch) return context.json(errorBody('delta-base-mismatch', error.message, { hint: 'send a full inventory' }), 409);
    if (error instanceof FeedUnreachableError) return context.json(errorBody('feed-unreachable', error.message), 503);
    if (error instanceof SyntaxError) return context.json(errorBody('invalid-json', `the request body is not valid JSON: ${error.message}`), 400);
    console.error(error);
    return context.json(errorBody('internal', 'internal error; see the server log'), 500);
  });
  // Request durations by route pattern (bounded labels: patterns, never paths with host names).
  app.use('*', async (context, next) => {
    const started = performance.now();
    await next();
    const route = context.req.routePath === '/*' || !context.req.routePath ? 'other' : context.req.routePath;
    dependencies.metrics.requestDuration.observe({ route, status: String(context.res.status) }, (performance.now() - started) / 1000);
  });
  app.notFound((context) => context.json(errorBody('not-found', `no route for ${context.req.method} ${context.req.path}`), 404));

  /** Resolves the bearer secret to a principal (cached briefly: check-ins must stay cheap). */
  async function authenticate(context: Context<Env>): Promise<Principal> {
    const header = context.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <token>');
    const secret = match[1]!;
    const cached = authCache.get(secret);
    let principal = cached && cached.until > Date.now() ? cached.principal : undefined;
    if (!cached || cached.until <= Date.now()) {
      principal = await principalOf(pool, secret);
      authCache.set(secret, { principal, until: Date.now() + AUTH_CACHE_MS });
    }
    if (!principal) throw new ApiError(401, 'unauthenticated', 'unknown token or credential');
    context.set('principal', principal);
    return principal;
  }

  const requireRole = (role: Role) => async (context: Context<Env>, next: () => Promise<void>) => {
    const principal = await authenticate(context);
    if (principal.kind !== 'token' || ROLE_RANK[principal.role] < ROLE_RANK[role]) throw new ApiError(403, 'forbidden', `this needs the ${role} role`);
    await next();
  };

  /** An agent may write only its own host; operators may write any. */
  const requireHostWriter = async (context: Context<Env>, next: () => Promise<void>) => {
    const principal = await authenticate(context);
    const host = context.req.param('name');
    if (principal.kind === 'agent' && principal.hostName !== host) throw new ApiError(403, 'forbidden', `this credential belongs to ${principal.hostName} and cannot write ${host}`);
    if (principal.kind === 'token' && ROLE_RANK[principal.role] < ROLE_RANK.operator) throw new ApiError(403, 'forbidden', 'writing inventories needs the operator role or the host\'s own credential');
    await next();
  };

  async function body<T>(context: Context<Env>, schema: z.ZodType<T>): Promise<T> {
    const raw: unknown = await context.req.json();
    const result = schema.safeParse(raw);
    if (!result.success) throw validationError(result.error);
    return result.data;
  }

  const limitBody = (maxSize: number) => bodyLimit({ maxSize, onError: (context) => context.json(errorBody('payload-too-large', `the request body is larger than ${maxSize} bytes`), 413) });
  const staleAfterSeconds = controlPlane.options.staleAfterSeconds;
  const summaries = dependencies.summaries;

  app.get('/healthz', async (context) => {
    await pool.query('SELECT 1');
    return context.json({ status: 'ok' });
  });
  app.get('/openapi.json', (context) => context.json(OPENAPI_DOCUMENT));
  app.get('/metrics', async (context) => context.text(await dependencies.metrics.render(), 200, { 'content-type': dependencies.metrics.contentType }));
  app.get('/', (context) => context.html(dependencies.dashboard.html));
  app.get('/assets/:file', (context) => {
    const asset = dependencies.dashboard.assets.get(context.req.param('file'));
    if (!asset) throw new ApiError(404, 'not-found', 'no such asset');
    return context.body(asset.body, 200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
  });

  app.post('/api/v1/enroll', limitBody(MAX_BODY_BYTES), async (context) => {
    const request = await body(context, enrollSchema);
    return context.json(await controlPlane.enroll(request.token, request.hostname, request.labels), 201);
  });

  app.put('/api/v1/hosts/:name/inventory', limitBody(MAX_INVENTORY_BYTES), requireHostWriter, async (context) => {
    const checkIn = await body(context, checkInSchema);
    const result = await controlPlane.checkIn(context.req.param('name')!, checkIn, now());
    dependencies.metrics.checkIns.inc({ kind: checkIn.kind });
    return context.json(result);
  });

  app.post('/api/v1/hosts/:name/heartbeat', limitBody(MAX_BODY_BYTES), requireHostWriter, async (context) => {
    const name = context.req.param('name');
    if (!knownHosts.has(name)) {
      if (!(await hostExists(pool, name))) throw new ApiError(404, 'unknown-host', `${name} has not sent an inventory yet`);
      knownHosts.add(name);
    }
    controlPlane.heartbeat(name, await body(context, heartbeatSchema), now());
    dependencies.metrics.checkIns.inc({ kind: 'heartbeat' });
    return context.body(null, 204);
  });

  // Fleet numbers are aggregates over every host; dashboards and scrapes share one computation for
  // a few seconds instead of each re-reading 100,000 hosts. `?fresh=true` computes anew.
  app.get('/api/v1/fleet/summary', requireRole('viewer'), async (context) => {
    const fresh = context.req.query('fresh') === 'true';
    return context.json(fresh ? await summaries.refresh() : await summaries.get());
  });

  app.get('/api/v1/hosts', requireRole('viewer'), async (context) => {
    const query = hostQuery.safeParse(context.req.query());
    if (!query.success) throw validationError(query.error);
    const { page, pageSize, bucket, team, q, stale } = query.data;
    return context.json(await hostPage(pool, {
      offset: (page - 1) * pageSize,
      limit: pageSize,
      staleAfterSeconds,
      now: now(),
      ...(bucket ? { bucket } : {}),
      ...(team ? { team } : {}),
      ...(q ? { search: q } : {}),
      ...(stale !== undefined ? { stale: stale === 'true' } : {}),
    }));
  });

  app.get('/api/v1/hosts/:name', requireRole('viewer'), async (context) => {
    const name = context.req.param('name')!;
    const detail = await hostDetail(pool, name, { staleAfterSeconds, now: now() });
    if (!detail) throw new ApiError(404, 'unknown-host', `no host named ${name}`);
    const findings = await listFindings(pool, { host: name, states: ['vulnerable', 'pending-reboot', 'accepted'], limit: 2_000 });
    return context.json({ ...detail, findings });
  });

  app.get('/api/v1/hosts/:name/packages', requireRole('viewer'), async (context) => context.json(await hostPackages(pool, context.req.param('name')!)));

  app.get('/api/v1/findings', requireRole('viewer'), async (context) => {
    const query = findingQuery.safeParse(context.req.query());
    if (!query.success) throw validationError(query.error);
    const { host, advisory, severity, state, limit } = query.data;
    return context.json(await listFindings(pool, {
      limit,
      ...(host ? { host } : {}),
      ...(advisory ? { advisory } : {}),
      ...(severity ? { severity: severity.split(',') as Severity[] } : {}),
      ...(state ? { states: state.split(',') as FindingState[] } : {}),
    }));
  });

  app.get('/api/v1/advisories/:id', requireRole('viewer'), async (context) => {
    const id = context.req.param('id')!;
    const advisory = await pool.query<{ id: string; aliases: string[]; related: string[]; summary: string | null; severity: string; published: Date | null; references: string[] }>(
      `SELECT id, aliases, related, summary, severity, published, ARRAY(SELECT jsonb_array_elements_text(document -> 'references')) AS references
         FROM advisories WHERE id = $1 OR $1 = ANY(aliases) OR $1 = ANY(related) ORDER BY (id = $1) DESC LIMIT 1`,
      [id],
    );
    if (!advisory.rows[0]) throw new ApiError(404, 'unknown-advisory', `no advisory ${id}`);
    return context.json({ advisory: advisory.rows[0], impact: await advisoryImpact(pool, advisory.rows[0].id) });
  });

  app.post('/api/v1/advisories/sync', requireRole('operator'), async (context) => context.json(await controlPlane.syncAdvisories(await dependencies.openAdvisoryFeed())));

  app.post('/api/v1/tokens', limitBody(MAX_BODY_BYTES), requireRole('admin'), async (context) => {
    const request = await body(context, z.object({ name: z.string().min(1).max(128), role: z.enum(['viewer', 'operator', 'admin']) }));
    return context.json({ name: request.name, role: request.role, token: await createApiToken(pool, request.name, request.role) }, 201);
  });

  app.post('/api/v1/enrollment-tokens', limitBody(MAX_BODY_BYTES), requireRole('admin'), async (context) => {
    const request = await body(context, z.object({ name: z.string().min(1).max(128), labels: z.record(z.string(), z.string()).default({}), expiresInDays: z.number().int().positive().max(3650).optional() }));
    const expiresAt = request.expiresInDays ? new Date(now().getTime() + request.expiresInDays * 86_400_000) : undefined;
    return context.json({ name: request.name, token: await createEnrollmentToken(pool, request.name, request.labels, expiresAt) }, 201);
  });

  return app;
}

const hostQuery = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().positive().max(500).default(50),
  bucket: z.string().max(128).optional(),
  team: z.string().max(128).optional(),
  q: z.string().max(256).optional(),
  stale: z.enum(['true', 'false']).optional(),
});

const findingQuery = z.object({
  host: z.string().max(256).optional(),
  advisory: z.string().max(256).optional(),
  severity: z.string().regex(new RegExp(`^(${SEVERITY_ORDER.join('|')})(,(${SEVERITY_ORDER.join('|')}))*$`), 'a comma-separated list of severities').optional(),
  state: z.string().regex(/^(vulnerable|pending-reboot|fixed|accepted|not-applicable)(,(vulnerable|pending-reboot|fixed|accepted|not-applicable))*$/, 'a comma-separated list of states').optional(),
  limit: z.coerce.number().int().positive().max(10_000).default(1_000),
});

async function hostExists(pool: pg.Pool, name: string): Promise<boolean> {
  return ((await pool.query('SELECT 1 FROM hosts WHERE name = $1', [name])).rowCount ?? 0) > 0;
}
