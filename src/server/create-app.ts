/**
 * The HTTP API and dashboard of `fleetpatch server`, on Hono. Each API route is a `RouteSpec` (path,
 * access, zod schemas, example) with a handler that delegates to the control plane or the store in
 * a line or two; validation, authentication and the error shape are applied here, at the edge, from
 * the same specs that generate `/openapi.json`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { DeltaBaseMismatch, TooBusy, type ControlPlane } from '../app/control-plane.js';
import { enrollHost, EnrollmentRefused, retireHost } from '../app/host-access.js';
import type { PolicyReader } from '../app/policy-reader.js';
import { reassignHosts } from '../app/host-reassignment.js';
import { closeIncident, IncidentConflict, incidentDetail, incidentLabel, incidentScope, incidentTimeline, openIncident, UnknownAdvisory, UnknownIncident } from '../app/incident-service.js';
import { timelineEventWords, timelineToJson, timelineToMarkdown } from '../domain/incidents/incident-timeline.js';
import { approveRelaxation, completeRelaxationReview, draftIncidentUpdate, postIncidentUpdate } from '../app/incident-emergency.js';
import { RELAXATIONS, type Relaxation } from '../domain/rollout/rollout-model.js';
import { listIncidents, type IncidentState } from '../store/incident-store.js';
import { applyPolicy, PolicyRefused, type PolicyInForce } from '../app/policy-service.js';
import { confirmChecklistStep, createRollout, type DisruptionBlockers, draftStoredRollout, operateRollout, operateRolloutHost, RolloutConflict, rolloutDetail, UnknownRollout, type HostAction, type RolloutAction } from '../app/rollout-service.js';
import { ROLLOUT_STATES } from '../domain/rollout/rollout-model.js';
import { jobResultSchema, MAX_JOB_OUTPUT_BYTES, type JobResult } from '../protocol/job-protocol.js';
import { listRollouts, recordJobResults, requestHostPasses, rolloutEvents, type RecordedJobResult, type ReportedJobResult } from '../store/rollout-store.js';
import { retryingDeadlocks } from '../store/transaction.js';
import { CallBatcher } from '../app/call-batcher.js';
import { jobLongPoll, type JobLongPoll } from './job-long-poll.js';
import { policyJsonSchema } from '../domain/policy/policy-json-schema.js';
import { formatPolicyIssue } from '../domain/policy/policy-report.js';
import { InputError } from '../domain/errors.js';
import { hostNameSchema } from '../domain/host-name.js';
import { FINDING_STATES, SEVERITY_ORDER, type FindingState, type Severity } from '../domain/types.js';
import { isoDateTime, wellFormedString } from '../domain/well-formed-text.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { FeedUnreachableError } from '../feeds/advisory-feed.js';
import { MemoryFeed } from '../feeds/memory-feed.js';
import { readOsvRecord } from '../domain/advisories/osv-record.js';
import { checkInSchema, enrollSchema, heartbeatSchema, labelsSchema, packageListDigest } from '../protocol/agent-protocol.js';
import {
  approveReenrollment,
  createApiToken,
  createEnrollmentToken,
  hashSecret,
  listApiTokens,
  listEnrollmentTokens,
  principalOf,
  revokeAgentCredential,
  revokeApiToken,
  revokeEnrollmentToken,
  type Principal,
  type Role,
} from '../store/auth-store.js';
import type { ChangeListener } from '../store/change-notifications.js';
import { isDatabaseUnavailable, type DatabaseHealth } from '../store/database.js';
import { advisoryImpact, findingPage } from '../store/finding-queries.js';
import { hostDetail, hostPackages, hostPage } from '../store/fleet-queries.js';
import { fleetTrends } from '../store/fleet-snapshots.js';
import { baselineImages } from '../store/image-queries.js';
import { listNotifications, type NotificationState } from '../store/notification-store.js';
import { listPolicyRevisions } from '../store/policy-store.js';
import { ApiError, errorBody, respondWithError, validationError } from './api-error.js';
import type { DashboardAssets } from './dashboard-assets.js';
import type { FleetMetrics } from './fleet-metrics.js';
import { metricsRoutes } from './metrics-routes.js';
import { inlinePlanRunner, type PlanRunner } from './plan-runner.js';
import { PLAN_LIMITS } from './plan-view.js';
import type { ReplicaHealth } from './replica-health.js';
import type { SeedMetricsReport } from '../domain/reporting/seed-metrics.js';
import { honoPath, openApiDocument, type RouteSpec } from './route-spec.js';
import { complianceRoutes } from './compliance-routes.js';
import type { AuditCheckpointer } from '../app/compliance-service.js';
import type { SummaryCache } from './summary-cache.js';
import type pg from 'pg';

export interface AppDependencies {
  pool: pg.Pool;
  controlPlane: ControlPlane;
  metrics: FleetMetrics;
  summaries: SummaryCache;
  dashboard: DashboardAssets;
  /** Where `advisories/sync` reads from. */
  openAdvisoryFeed: () => Promise<AdvisoryFeed>;
  /** Whether the database answers (embedded: watched and restarted; external: probed). */
  databaseHealth?: () => DatabaseHealth;
  /**
   * Change notifications from every process on the database. Without them (or while they are not
   * heard) principals are not cached at all, so a revocation anywhere still takes effect at once.
   */
  changes?: ChangeListener;
  /** The policy in force and the (worker-thread) reader that judges a text before it is applied. */
  policy: { inForce: PolicyInForce; reader: PolicyReader };
  /** Where plans are computed: a worker thread in the server; on this thread when not given (tests). */
  planner?: PlanRunner;
  /**
   * The agents' job traffic, the long poll's looks and the results: a pool of its own, so a burst
   * of it never queues check-ins, whose commits need not wait for the WAL flush (a result lost in
   * a crash is reported again: the agent re-fetches the still-unreported job and answers it from
   * its journal). The main pool when not given.
   */
  jobPool?: pg.Pool;
  /** The agents' job long poll (made from the job pool and `changes` when not given). */
  jobs?: JobLongPoll;
  /** A rolling reboot's cluster: budgets that allow no disruption now, named in a rollout's draft before any drain. */
  disruptionBlockers?: () => Promise<DisruptionBlockers>;
  /** This replica's engine passes and advisory syncs, for the debug view. */
  replicaHealth?: ReplicaHealth;
  /** The fleet's seed metrics, computed at most every few minutes and shared with /metrics. */
  seedMetrics?: () => Promise<SeedMetricsReport>;
  /** Signs the audit log's head: each compliance report cites the checkpoint it was built from. */
  auditCheckpoint: AuditCheckpointer;
  now?: () => Date;
}

type Env = { Variables: { principal: Principal } };

interface RouteInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  principal: Principal | undefined;
  context: Context<Env>;
}

type Route = RouteSpec & { handle(input: RouteInput): Promise<Response> | Response };

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const MAX_INVENTORY_BYTES = 32 * 1024 * 1024;
const MAX_BODY_BYTES = 64 * 1024;
/** Principals cached per process; only known ones, so bogus tokens cannot grow it. */
const PRINCIPAL_CACHE_ENTRIES = 20_000;
const PRINCIPAL_CACHE_MS = 60_000;
/**
 * An entry used after this age is reloaded in the background while it is still served: a host
 * checking in every few seconds never waits for its lookup, and hosts loaded together do not all
 * queue for the database when their entries expire together.
 */
const PRINCIPAL_REFRESH_MS = 45_000;
/** What a fleetpatch secret looks like; anything else is refused without a database query. */
const SECRET_FORMAT = /^fp[aeh]_[A-Za-z0-9_-]{32}$/;

const EXAMPLE_PACKAGES = [{ ecosystem: 'Debian:12', name: 'openssl', version: '3.0.15-1~deb12u1', arch: 'amd64', sourceName: 'openssl', sourceVersion: '3.0.15-1~deb12u1', purl: 'pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64' }];
const EXAMPLE_CHECK_IN = {
  kind: 'full',
  rebootRequired: false,
  packageDigest: packageListDigest(EXAMPLE_PACKAGES),
  packages: EXAMPLE_PACKAGES,
  labels: { role: 'database' },
  os: { id: 'debian', idLike: ['debian'], versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)', cpeName: 'cpe:/o:debian:debian_linux:12' },
  osEcosystem: 'Debian:12',
  arch: 'amd64',
  runningKernel: '6.1.0-18-amd64',
  bootTime: '2026-11-30T08:00:00Z',
  bootId: '5f0c3a52-8a3e-4c1e-9b8e-0d6f1b2c3d4e',
  agentVersion: '0.1.0',
  availableUpdates: [{ name: 'openssl', arch: 'amd64', installedVersion: '3.0.15-1~deb12u1', candidateVersion: '3.0.15-1~deb12u2', repository: 'debian-security' }],
};

const text = (max: number, min = 0) => wellFormedString({ min, max });
const hostParams = z.object({ name: hostNameSchema });
/** Records one push may carry: a notice or a handful, not a feed (a feed is synced). */
const PUSHED_ADVISORIES_LIMIT = 1_000;
const idParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });
const listOf = <T extends string>(values: readonly T[], what: string) =>
  z.string().max(256).regex(new RegExp(`^(${values.join("|")})(,(${values.join("|")}))*$`), `a comma-separated list of ${what}: ${values.join(", ")}`);
const severityList = listOf(SEVERITY_ORDER, 'severities');
/** The largest policy text PUT /api/v1/policy takes (a 1000-bucket policy is about 300 KB). */
const MAX_POLICY_BYTES = 2 * 1024 * 1024;
const EXAMPLE_POLICY = [
  'version: 1',
  'windows:',
  '  nightly: { timeZone: Europe/Berlin, every: day, start: "03:00", duration: 2h }',
  'buckets:',
  '  - name: databases',
  '    owner: data-platform',
  '    match: { expressions: [{ key: role, operator: in, values: [postgres, mysql] }] }',
  '    strategy: { kind: in-place }',
  '    windows: [nightly]',
  '',
].join('\n');
const stateList = listOf(FINDING_STATES, 'states');
const dateTimeParameter = isoDateTime.max(64).meta({ format: 'date-time' });
const horizonDays = z.coerce.number().int().positive().max(366).default(30);
const EXAMPLE_FROM = '2026-12-01T12:00:00Z';

/** A plan, explain, what-if or drift asked of a server with no policy revision in force: a 409 with a hint. */
class NoPolicyInForce extends Error {}

export function createApp(dependencies: AppDependencies): Hono<Env> {
  const { pool, controlPlane } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const app = new Hono<Env>();
  const principals = principalCache(dependencies.changes);

  app.onError((error, context) => {
    if (error instanceof NoPolicyInForce) return context.json(errorBody('no-policy', error.message, { hint: 'apply one: fleetpatch policy apply fleetpatch.yaml, PUT /api/v1/policy, or fleetpatch server --policy FILE' }), 409);
    if (error instanceof ApiError) return respondWithError(context, error);
    if (error instanceof InputError) return context.json(errorBody('invalid-request', error.message, { ...(error.location.field ? { field: error.location.field } : {}), ...(error.hint ? { hint: error.hint } : {}) }), 400);
    if (error instanceof DeltaBaseMismatch) return context.json(errorBody('delta-base-mismatch', error.message, { hint: 'send a full inventory' }), 409);
    if (error instanceof EnrollmentRefused) {
      const status = error.reason === 'unknown-token' ? 401 : error.reason === 'host-already-enrolled' ? 409 : 403;
      return context.json(errorBody(error.reason, error.message, error.hint ? { hint: error.hint } : {}), status);
    }
    if (error instanceof TooBusy) {
      context.header('retry-after', String(error.retryAfterSeconds));
      return context.json(errorBody('busy', error.message, { hint: `retry in ${error.retryAfterSeconds} s` }), 503);
    }
    if (error instanceof FeedUnreachableError) return context.json(errorBody('feed-unreachable', error.message), 503);
    if (error instanceof SyntaxError) return context.json(errorBody('invalid-json', `the request body is not valid JSON: ${error.message}`), 400);
    if (isDatabaseUnavailable(error)) {
      context.header('retry-after', '5');
      return context.json(errorBody('database-unavailable', `the database is unavailable: ${databaseDownReason() ?? (error as Error).message}`), 503);
    }
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
  // Percent-encoding that is not UTF-8 (say %ED%A0%80, a lone surrogate) would reach the routes
  // undecoded; it is refused here, once for every path and query parameter.
  app.use('/api/*', async (context, next) => {
    const problem = undecodableUrlPart(context.req.url);
    if (problem) throw new ApiError(400, 'invalid-request', `${problem}: not valid percent-encoded UTF-8`, problem);
    await next();
  });
  app.notFound((context) => context.json(errorBody('not-found', `no route for ${context.req.method} ${context.req.path}`), 404));

  function databaseDownReason(): string | undefined {
    const health = dependencies.databaseHealth?.();
    return health?.state === 'down' ? `${health.reason} (since ${health.since.toISOString()})` : undefined;
  }

  /** Resolves the bearer secret to a principal; revoked or unknown secrets are a 401. */
  async function authenticate(context: Context<Env>): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(context.req.header('authorization') ?? '');
    if (!match) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <token>');
    const secret = match[1]!;
    if (!SECRET_FORMAT.test(secret)) throw new ApiError(401, 'unauthenticated', 'unknown token or credential');
    const principal = await principals.resolve(secret, () => principalOf(pool, secret));
    if (!principal) throw new ApiError(401, 'unauthenticated', 'unknown or revoked token or credential');
    context.set('principal', principal);
    return principal;
  }

  async function authorize(route: RouteSpec, context: Context<Env>, params: Record<string, unknown>): Promise<Principal | undefined> {
    if (route.access === 'public') return undefined;
    const principal = await authenticate(context);
    if (route.access === 'host-writer') {
      const host = String(params.name);
      if (principal.kind === 'agent' && principal.hostName !== host) throw new ApiError(403, 'forbidden', `this credential belongs to ${principal.hostName} and cannot write ${host}`);
      if (principal.kind === 'token' && ROLE_RANK[principal.role] < ROLE_RANK.operator) throw new ApiError(403, 'forbidden', 'writing a host needs the operator role or the host\'s own credential');
      return principal;
    }
    if (principal.kind !== 'token' || ROLE_RANK[principal.role] < ROLE_RANK[route.access]) throw new ApiError(403, 'forbidden', `this needs the ${route.access} role`);
    return principal;
  }

  const parse = <T>(schema: z.ZodType<T>, value: unknown): T => {
    const result = schema.safeParse(value);
    if (!result.success) throw validationError(result.error);
    return result.data;
  };

  const actor = (principal: Principal | undefined) => (principal?.kind === 'token' ? `token:${principal.name}` : principal?.kind === 'agent' ? `host:${principal.hostName}` : 'anonymous');
  const staleAfterSeconds = controlPlane.options.staleAfterSeconds;
  const policySchemaDocument = policyJsonSchema();
  const planner = dependencies.planner ?? inlinePlanRunner(pool, { staleAfterSeconds });
  const jobPool = dependencies.jobPool ?? pool;
  const jobs = dependencies.jobs ?? jobLongPoll(jobPool, dependencies.changes, now);
  // Results come by the thousand during a rollout: those that arrive while one batch is written go in the next.
  const jobResults = new CallBatcher<ReportedJobResult, RecordedJobResult>((reports) => retryingDeadlocks(() => recordJobResults(jobPool, reports)));
  // So do check-ins of hosts in flight: their news is written in batches, one statement at a time.
  const hostPasses = new CallBatcher<string, void>(async (hosts) => {
    await requestHostPasses(pool, [...new Set(hosts)]);
    return hosts.map(() => undefined);
  });
  const tellRollouts = (host: string) => hostPasses.call(host);
  /** A refused operator action is a 409, an unknown rollout or host a 404, each naming its field. */
  const asConflict = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof RolloutConflict) throw new ApiError(409, 'rollout-conflict', error.detail, error.field);
      if (error instanceof UnknownRollout) throw new ApiError(404, 'unknown-rollout', error.detail, error.field);
      throw error;
    }
  };
  /** The policy in force and its revision, or a 409 saying how to get one: the planner needs windows and SLAs. */
  /** The scope's clock and staleness, and the emergency target of the policy in force. */
  const scopeOptions = () => {
    const emergency = dependencies.policy.inForce.current.policy?.emergency;
    return { now: now(), staleAfterMs: staleAfterSeconds * 1000, ...(emergency ? { emergency } : {}) };
  };
  /** An unknown incident is a 404, a refused action a 409, each naming its field. */
  const asIncidentConflict = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UnknownIncident) throw new ApiError(404, 'unknown-incident', error.detail, 'id');
      if (error instanceof UnknownAdvisory) throw new ApiError(404, 'unknown-advisory', error.detail, 'advisory');
      if (error instanceof IncidentConflict) throw new ApiError(409, 'incident-conflict', error.detail, error.field);
      throw error;
    }
  };
  const policyInForce = () => {
    const { policy, revision } = dependencies.policy.inForce.current;
    if (!policy) throw new NoPolicyInForce('no policy is in force: the plan needs its buckets, windows and SLAs');
    return { policy, revision: revision?.revision };
  };

  const routes: Route[] = [
    {
      method: 'get', path: '/healthz', summary: 'Liveness and database reachability', access: 'public',
      responses: { 200: 'The server and its database answer', 503: 'The database is unavailable (the body says why)' },
      async handle({ context }) {
        const reason = databaseDownReason();
        if (reason) return context.json({ status: 'unavailable', reason }, 503);
        try {
          await pool.query('SELECT 1');
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          return context.json({ status: 'unavailable', reason: `the database does not answer: ${(error as Error).message}` }, 503);
        }
        return context.json({ status: 'ok' });
      },
    },
    {
      method: 'post', path: '/api/v1/enroll', summary: 'Enroll an agent with an enrollment token; a taken name needs its current credential (Authorization) or an operator\'s approval', access: 'public',
      body: enrollSchema, responses: { 201: 'The host credential, shown once', 401: 'Unknown enrollment token', 403: 'Token revoked, expired or used up', 409: 'The name is already enrolled' },
      example: { body: { token: 'fpe_exampleexampleexampleexampleexam', hostname: 'db-7', labels: { role: 'database' } } },
      async handle({ body, context }) {
        const request = body as z.infer<typeof enrollSchema>;
        const presented = /^Bearer\s+(fph_\S+)$/i.exec(context.req.header('authorization') ?? '')?.[1];
        const enrollment = await enrollHost(pool, { token: request.token, hostname: request.hostname, ...(presented ? { currentCredential: presented } : {}) }, now());
        principals.clear();
        return context.json({ hostname: enrollment.hostname, credential: enrollment.credential, labels: { ...request.labels, ...enrollment.labels } }, 201);
      },
    },
    {
      method: 'put', path: '/api/v1/hosts/{name}/inventory', summary: 'Check in a full inventory or a delta (the host\'s credential, or an operator)', access: 'host-writer',
      params: hostParams, body: checkInSchema, maxBodyBytes: MAX_INVENTORY_BYTES,
      responses: { 200: 'Stored and evaluated', 409: 'The delta\'s base is not the list the server holds: send a full inventory' },
      example: { params: { name: 'db-7' }, body: EXAMPLE_CHECK_IN },
      async handle({ params, body, principal, context }) {
        const checkIn = body as z.infer<typeof checkInSchema>;
        const granted = principal?.kind === 'agent' ? principal.grantedLabels : {};
        const result = await controlPlane.checkIn(String(params.name), checkIn, now(), granted);
        dependencies.metrics.checkIns.inc({ kind: checkIn.kind });
        // A rollout waiting on this host (after its upgrade, or for its return from a reboot) looks
        // now. Not awaited: the check-in's answer does not wait for it; a lost notification only
        // delays that rollout to its next pass.
        tellRollouts(String(params.name)).catch(() => undefined);
        return context.json(result);
      },
    },
    {
      method: 'post', path: '/api/v1/hosts/{name}/heartbeat', summary: 'Record that a host is alive (written within a second)', access: 'host-writer',
      params: hostParams, body: heartbeatSchema, responses: { 204: 'Recorded', 404: 'The host has not sent an inventory yet' },
      example: { params: { name: 'db-7' }, body: { rebootRequired: false, bootId: '5f0c3a52-8a3e-4c1e-9b8e-0d6f1b2c3d4e', packageDigest: EXAMPLE_CHECK_IN.packageDigest } },
      async handle({ params, body, context }) {
        const name = String(params.name);
        if (!(await controlPlane.hostExists(name))) throw new ApiError(404, 'unknown-host', `${name} has not sent an inventory yet`);
        controlPlane.heartbeats.record(name, body as z.infer<typeof heartbeatSchema>, now());
        dependencies.metrics.checkIns.inc({ kind: 'heartbeat' });
        return context.body(null, 204);
      },
    },
    {
      method: 'post', path: '/api/v1/hosts/{name}/retire', summary: 'Retire a host: its inventory, findings and credential go, a record stays (operator)', access: 'operator',
      params: hostParams, body: z.object({ reason: text(512, 1) }), responses: { 200: 'Retired', 404: 'No such host' },
      example: { params: { name: 'db-7' }, body: { reason: 'decommissioned' } },
      async handle({ params, body, principal, context }) {
        const name = String(params.name);
        const retired = await retireHost(pool, name, actor(principal), (body as { reason: string }).reason, now());
        if (!retired) throw new ApiError(404, 'unknown-host', `no host named ${name}`);
        controlPlane.forgetHost(name);
        principals.clear();
        return context.json({ retired });
      },
    },
    {
      method: 'post', path: '/api/v1/hosts/{name}/credential/revoke', summary: 'Revoke a host\'s credential at once; its agent is refused until a new enrollment is approved (operator)', access: 'operator',
      params: hostParams, responses: { 200: 'Revoked', 404: 'The host has no active credential' },
      example: { params: { name: 'db-7' } },
      async handle({ params, principal, context }) {
        const name = String(params.name);
        if (!(await revokeAgentCredential(pool, name, actor(principal)))) throw new ApiError(404, 'no-credential', `${name} has no active credential`);
        principals.clear();
        return context.json({ host: name, revoked: true });
      },
    },
    {
      method: 'post', path: '/api/v1/hosts/{name}/enrollment-approval', summary: 'Let an enrolled name be enrolled again (a reinstalled host), once, within the given minutes (operator)', access: 'operator',
      params: hostParams, body: z.object({ validForMinutes: z.number().int().positive().max(7 * 24 * 60).default(60) }), responses: { 200: 'Approved' },
      example: { params: { name: 'db-7' }, body: { validForMinutes: 60 } },
      async handle({ params, body, principal, context }) {
        const until = new Date(now().getTime() + (body as { validForMinutes: number }).validForMinutes * 60_000);
        await approveReenrollment(pool, String(params.name), until, actor(principal));
        return context.json({ host: params.name, approvedUntil: until.toISOString() });
      },
    },
    {
      method: 'get', path: '/api/v1/fleet/summary', summary: 'Fleet numbers per bucket and team', access: 'viewer',
      query: z.object({ fresh: z.enum(['true', 'false']).optional() }), responses: { 200: 'Summary' },
      example: { query: { fresh: 'true' } },
      async handle({ query, context }) {
        return context.json(query.fresh === 'true' ? await dependencies.summaries.refresh() : await dependencies.summaries.get());
      },
    },
    {
      method: 'get', path: '/api/v1/fleet/trends', summary: 'The daily fleet snapshots of the last `days` days per team or bucket (and the fleet): coverage, days behind, open findings by severity, pending reboots, stale hosts, uptime bands', access: 'viewer',
      query: z.object({ dimension: z.enum(['team', 'bucket']).default('team'), days: z.coerce.number().int().positive().max(400).default(90) }),
      responses: { 200: 'One series per team or bucket, a point per day with a snapshot, oldest first' },
      example: { query: { dimension: 'team', days: '90' } },
      async handle({ query, context }) {
        const { dimension, days } = query as { dimension: 'team' | 'bucket'; days: number };
        return context.json(await fleetTrends(pool, { dimension, days, until: now() }));
      },
    },
    {
      method: 'get', path: '/api/v1/hosts', summary: 'Hosts, worst first, paginated; q is a literal substring of the name', access: 'viewer',
      query: z.object({
        page: z.coerce.number().int().positive().max(1_000_000).default(1),
        pageSize: z.coerce.number().int().positive().max(500).default(50),
        bucket: text(128).optional(),
        team: text(128).optional(),
        q: text(256).optional(),
        stale: z.enum(['true', 'false']).optional(),
      }),
      responses: { 200: 'A page of hosts' },
      example: { query: { page: '1', pageSize: '50', bucket: 'databases', team: 'data-platform', q: 'db', stale: 'false' } },
      async handle({ query, context }) {
        const { page, pageSize, bucket, team, q, stale } = query as { page: number; pageSize: number; bucket?: string; team?: string; q?: string; stale?: 'true' | 'false' };
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
      },
    },
    {
      method: 'get', path: '/api/v1/hosts/{name}', summary: 'Host detail with a page of its open findings (findingsTotal counts them all) and available updates', access: 'viewer',
      params: hostParams,
      query: z.object({ findingsLimit: z.coerce.number().int().positive().max(10_000).default(2_000), findingsOffset: z.coerce.number().int().min(0).max(10_000_000).default(0) }),
      responses: { 200: 'Host', 404: 'Unknown host' },
      example: { params: { name: 'db-7' }, query: { findingsLimit: '100', findingsOffset: '0' } },
      async handle({ params, query, context }) {
        const name = String(params.name);
        const detail = await hostDetail(pool, name, { staleAfterSeconds, now: now() });
        if (!detail) throw new ApiError(404, 'unknown-host', `no host named ${name}`);
        const { findingsLimit, findingsOffset } = query as { findingsLimit: number; findingsOffset: number };
        const page = await findingPage(pool, { host: name, states: ['vulnerable', 'pending-reboot', 'accepted'], limit: findingsLimit, offset: findingsOffset });
        return context.json({ ...detail, findings: page.findings, findingsTotal: page.total, findingsOffset });
      },
    },
    {
      method: 'get', path: '/api/v1/hosts/{name}/packages', summary: 'Installed packages of a host', access: 'viewer',
      params: hostParams, responses: { 200: 'Packages', 404: 'Unknown host' },
      example: { params: { name: 'db-7' } },
      async handle({ params, context }) {
        const packages = await hostPackages(pool, String(params.name));
        if (!packages) throw new ApiError(404, 'unknown-host', `no host named ${String(params.name)}`);
        return context.json(packages);
      },
    },
    {
      method: 'get', path: '/api/v1/findings', summary: 'Findings (open by default), with the total that match', access: 'viewer',
      query: z.object({
        host: text(256).optional(),
        advisory: text(256).optional(),
        severity: severityList.optional(),
        state: stateList.optional(),
        limit: z.coerce.number().int().positive().max(10_000).default(1_000),
        offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
      }),
      responses: { 200: 'Findings' },
      example: { query: { host: 'db-7', advisory: 'CVE-2024-6387', severity: 'critical,high', state: 'vulnerable', limit: '100', offset: '0' } },
      async handle({ query, context }) {
        const { host, advisory, severity, state, limit, offset } = query as { host?: string; advisory?: string; severity?: string; state?: string; limit: number; offset: number };
        const page = await findingPage(pool, {
          limit,
          offset,
          ...(host ? { host } : {}),
          ...(advisory ? { advisory } : {}),
          ...(severity ? { severity: severity.split(',') as Severity[] } : {}),
          ...(state ? { states: state.split(',') as FindingState[] } : {}),
        });
        context.header('x-total-count', String(page.total));
        return context.json(page.findings);
      },
    },
    {
      method: 'get', path: '/api/v1/advisories/{id}', summary: 'An advisory (id or CVE) and who it affects, by bucket and owner', access: 'viewer',
      params: z.object({ id: text(256, 1) }), responses: { 200: 'Advisory and impact', 404: 'Unknown advisory' },
      example: { params: { id: 'CVE-2024-6387' } },
      async handle({ params, context }) {
        const id = String(params.id);
        const advisory = await pool.query<{ id: string; aliases: string[]; related: string[]; summary: string | null; severity: string; published: Date | null; references: string[] }>(
          `SELECT id, aliases, related, summary, severity, published, ARRAY(SELECT jsonb_array_elements_text(document -> 'references')) AS references
             FROM advisories WHERE id = $1 OR $1 = ANY(aliases) OR $1 = ANY(related) ORDER BY (id = $1) DESC LIMIT 1`,
          [id],
        );
        if (!advisory.rows[0]) throw new ApiError(404, 'unknown-advisory', `no advisory ${id}`);
        return context.json({ advisory: advisory.rows[0], impact: await advisoryImpact(pool, advisory.rows[0].id) });
      },
    },
    {
      method: 'post', path: '/api/v1/advisories/sync', summary: 'Sync advisories now (operator)', access: 'operator', responses: { 200: 'Import report' },
      async handle({ context }) {
        return context.json(await controlPlane.syncAdvisories(await dependencies.openAdvisoryFeed()));
      },
    },
    {
      method: 'post', path: '/api/v1/advisories', summary: 'Import OSV records pushed by an operator (a vendor\'s notice, an embargoed advisory, an internal scanner\'s finding), as a sync would: re-evaluating the hosts they name and opening the incidents the emergency triggers call for (operator)', access: 'operator',
      body: z.object({ advisories: z.array(z.unknown()).min(1).max(PUSHED_ADVISORIES_LIMIT) }),
      responses: { 200: 'Import report (incidentsOpened lists the incidents opened)', 400: 'A record is not valid OSV: the error names the record and its field; nothing is imported' },
      example: { body: { advisories: [{ id: 'VENDOR-2026-0001', modified: '2026-12-01T00:00:00Z', published: '2026-12-01T00:00:00Z', summary: 'libexample: remote code execution', database_specific: { severity: 'critical' }, affected: [{ package: { ecosystem: 'Debian:12', name: 'libexample' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2-1' }] }] }] }] } },
      async handle({ body, principal, context }) {
        const records = (body as { advisories: unknown[] }).advisories;
        const advisories = records.map((record, index) => {
          const reading = readOsvRecord(record, { file: `advisories[${index}]` });
          if ('errors' in reading) {
            const problem = reading.errors[0]!;
            throw new ApiError(400, 'invalid-advisory', problem.message, `advisories[${index}]${problem.location.field ? `.${problem.location.field}` : ''}`);
          }
          return reading.advisory;
        });
        return context.json(await controlPlane.syncAdvisories(new MemoryFeed(`pushed by ${actor(principal)}`, advisories)));
      },
    },
    {
      method: 'get', path: '/api/v1/hosts/{name}/job', summary: 'The host\'s current rollout job, waiting up to waitSeconds for one (the agent\'s long poll; the same job until its result is recorded)', access: 'host-writer',
      params: hostParams, query: z.object({ waitSeconds: z.coerce.number().int().min(0).max(60).default(0) }),
      responses: { 200: 'A job', 204: 'No job within the wait' },
      example: { params: { name: 'db-7' }, query: { waitSeconds: '0' } },
      async handle({ params, query, context }) {
        const job = await jobs.next(String(params.name), Number(query.waitSeconds) * 1000, context.req.raw.signal);
        return job ? context.json(job) : context.body(null, 204);
      },
    },
    {
      method: 'post', path: '/api/v1/hosts/{name}/jobs/{key}/result', summary: 'Report a job\'s result; a second report of the same key changes nothing', access: 'host-writer',
      params: z.object({ name: hostNameSchema, key: text(512, 1) }), body: jobResultSchema, maxBodyBytes: 2 * MAX_JOB_OUTPUT_BYTES + 64 * 1024,
      responses: { 200: 'Recorded (recorded: false when it already was)', 404: 'This host has no job with that key' },
      example: { params: { name: 'db-7', key: '1:db-7:pre-check:1' }, body: { outcome: 'succeeded', exitCode: 0, output: 'ok\n', replaced: [], startedAt: '2026-12-01T22:00:00Z', finishedAt: '2026-12-01T22:00:03Z' } },
      async handle({ params, body, context }) {
        const recorded = await jobResults.call({ host: String(params.name), key: String(params.key), result: body as JobResult, at: now() });
        if (!recorded) throw new ApiError(404, 'unknown-job', `${String(params.name)} has no job ${String(params.key)}`);
        return context.json(recorded);
      },
    },
    {
      method: 'get', path: '/api/v1/rollouts', summary: 'Rollouts, newest first, with their hosts counted by state', access: 'viewer',
      query: z.object({ state: z.enum(ROLLOUT_STATES).optional(), bucket: text(64).optional(), limit: z.coerce.number().int().positive().max(1_000).default(100) }),
      responses: { 200: 'Rollouts' },
      example: { query: { state: 'running', bucket: 'databases', limit: '20' } },
      async handle({ query, context }) {
        const { state, bucket, limit } = query as { state?: string; bucket?: string; limit: number };
        return context.json(await listRollouts(pool, { ...(state ? { state } : {}), ...(bucket ? { bucket } : {}), limit }));
      },
    },
    {
      method: 'post', path: '/api/v1/rollouts', summary: 'Create a rollout of a bucket (only the fix of one advisory, only the hosts with these labels or these names, if given) with the policy in force; dryRun answers what it would be (operator)', access: 'operator',
      body: z.object({ bucket: text(64, 1), advisory: text(128, 1).optional(), labels: labelsSchema.optional(), hosts: z.array(hostNameSchema).min(1).max(10_000).optional(), reason: text(512).optional(), dryRun: z.boolean().default(false) }),
      responses: { 200: 'The draft (dryRun)', 201: 'Created', 409: 'No policy is in force, or a rollout of the bucket is still under way' },
      example: { body: { bucket: 'databases', advisory: 'CVE-2026-0001', labels: { site: 'fra1' }, hosts: ['db-7'], reason: 'monthly patching', dryRun: true } },
      async handle({ body, principal, context }) {
        const request = body as { bucket: string; advisory?: string; labels?: Record<string, string>; hosts?: string[]; reason?: string; dryRun: boolean };
        const { policy, revision } = policyInForce();
        const creation = { policy, ...(revision !== undefined ? { policyRevision: revision } : {}), bucket: request.bucket, actor: actor(principal), now: now(), staleAfterSeconds, ...(request.advisory ? { advisoryId: request.advisory } : {}), ...(request.labels ? { labels: request.labels } : {}), ...(request.hosts ? { hosts: request.hosts } : {}), ...(request.reason ? { reason: request.reason } : {}), ...(dependencies.disruptionBlockers ? { disruptionBlockers: dependencies.disruptionBlockers } : {}) };
        if (request.dryRun) return context.json(await draftStoredRollout(pool, creation));
        return context.json(await asConflict(() => createRollout(pool, creation)), 201);
      },
    },
    {
      method: 'get', path: '/api/v1/rollouts/{id}', summary: 'One rollout: its settings and snapshot, the budget left, waves and hosts by state (with the actions an operator may take on each), their jobs, the timeline and every gate measurement', access: 'viewer',
      params: idParams, responses: { 200: 'The rollout', 404: 'No such rollout' },
      example: { params: { id: '1' } },
      async handle({ params, context }) {
        const id = Number(params.id);
        const rollout = await rolloutDetail(pool, id);
        if (!rollout) throw new ApiError(404, 'unknown-rollout', `no rollout ${id}`);
        return context.json(rollout);
      },
    },
    {
      method: 'post', path: '/api/v1/rollouts/{id}/{action}', summary: 'Pause, resume, abort or approve (the next wave of) a rollout, with a reason (operator; audited)', access: 'operator',
      params: z.object({ id: idParams.shape.id, action: z.enum(['pause', 'resume', 'abort', 'approve']) }), body: z.object({ reason: text(512, 1) }),
      responses: { 200: 'Done: the rollout\'s new state', 404: 'No such rollout', 409: 'The rollout is not in a state the action applies to' },
      example: { params: { id: '1', action: 'pause' }, body: { reason: 'incident INC-42' } },
      async handle({ params, body, principal, context }) {
        const state = await asConflict(() => operateRollout(pool, params.action as RolloutAction, { id: Number(params.id), actor: actor(principal), reason: (body as { reason: string }).reason, now: now() }));
        return context.json({ id: Number(params.id), state });
      },
    },
    {
      method: 'post', path: '/api/v1/rollouts/{id}/hosts/{host}/{action}', summary: 'Retry a failed host or skip a host of a rollout, with a reason (operator; audited)', access: 'operator',
      params: z.object({ id: idParams.shape.id, host: hostNameSchema, action: z.enum(['retry', 'skip']) }), body: z.object({ reason: text(512, 1) }),
      responses: { 200: 'Done: the host\'s new state', 404: 'No such rollout or host', 409: 'The host is not in a state the action applies to' },
      example: { params: { id: '1', host: 'db-7', action: 'retry' }, body: { reason: 'disk cleaned up' } },
      async handle({ params, body, principal, context }) {
        const state = await asConflict(() => operateRolloutHost(pool, params.action as HostAction, String(params.host), { id: Number(params.id), actor: actor(principal), reason: (body as { reason: string }).reason, now: now() }));
        return context.json({ id: Number(params.id), host: String(params.host), state });
      },
    },
    {
      method: 'post', path: '/api/v1/rollouts/{id}/hosts/{host}/checklist/{step}', summary: 'Confirm the next step of a manual window\'s checklist for a host, with a reason (operator; audited)', access: 'operator',
      params: z.object({ id: idParams.shape.id, host: hostNameSchema, step: z.string().max(3).regex(/^[1-9][0-9]{0,2}$/, 'a checklist step number from 1') }), body: z.object({ reason: text(512, 1) }),
      responses: { 200: 'Confirmed: the steps confirmed so far', 404: 'No such rollout or host', 409: 'Not a manual window, the host is not awaiting its operator, or another step comes first' },
      example: { params: { id: '9', host: 'colo-3', step: '2' }, body: { reason: 'traffic drained at the load balancer' } },
      async handle({ params, body, principal, context }) {
        const confirmed = await asConflict(() => confirmChecklistStep(pool, String(params.host), Number(params.step), { id: Number(params.id), actor: actor(principal), reason: (body as { reason: string }).reason, now: now() }));
        return context.json({ id: Number(params.id), host: String(params.host), ...confirmed });
      },
    },
    {
      method: 'get', path: '/api/v1/hosts/{name}/rollouts', summary: 'A host\'s rollout history: every transition of it in every rollout', access: 'viewer',
      params: hostParams, query: z.object({ limit: z.coerce.number().int().positive().max(10_000).default(500) }), responses: { 200: 'Events, oldest first' },
      example: { params: { name: 'db-7' }, query: { limit: '100' } },
      async handle({ params, query, context }) {
        return context.json(await rolloutEvents(pool, { host: String(params.name), limit: Number(query.limit) }));
      },
    },
    {
      method: 'get', path: '/api/v1/incidents', summary: 'Incidents, newest first, each with its live scope\'s counts and whether it may close', access: 'viewer',
      query: z.object({ state: z.enum(['open', 'closed']).optional(), limit: z.coerce.number().int().positive().max(1_000).default(100) }),
      responses: { 200: 'Incidents' },
      example: { query: { state: 'open', limit: '20' } },
      async handle({ query, context }) {
        const { state, limit } = query as { state?: IncidentState; limit: number };
        const incidents = await listIncidents(pool, { ...(state ? { state } : {}), limit });
        const scoped = [];
        for (const incident of incidents) {
          const { scope } = await incidentScope(pool, incident, scopeOptions());
          scoped.push({ ...incident, label: incidentLabel(incident.id), scope: { total: scope.total, closable: scope.closable } });
        }
        return context.json(scoped);
      },
    },
    {
      method: 'post', path: '/api/v1/incidents', summary: 'Open an incident for a stored advisory (id or CVE), whatever the emergency triggers say, with a reason (operator; audited)', access: 'operator',
      body: z.object({ advisory: text(128, 1), reason: text(512, 1), commander: text(128, 1).optional() }),
      responses: { 201: 'Opened', 404: 'No such advisory is stored', 409: 'An open incident already covers the advisory' },
      example: { body: { advisory: 'CVE-2026-1001', reason: 'exploited in the wild per the vendor', commander: 'alice' } },
      async handle({ body, principal, context }) {
        const request = body as { advisory: string; reason: string; commander?: string };
        const emergency = dependencies.policy.inForce.current.policy?.emergency;
        const id = await asIncidentConflict(() => openIncident(pool, { advisory: request.advisory, reason: request.reason, actor: actor(principal), now: now(), ...(emergency ? { emergency } : {}), ...(request.commander ? { commander: request.commander } : {}) }));
        return context.json({ id, label: incidentLabel(id) }, 201);
      },
    },
    {
      method: 'get', path: '/api/v1/incidents/{id}', summary: 'One incident: its live scope per bucket and team (every host\'s status, the close blockers), the timeline, the status updates and the measured durations', access: 'viewer',
      params: idParams, responses: { 200: 'The incident', 404: 'No such incident' },
      example: { params: { id: '1' } },
      async handle({ params, context }) {
        const detail = await asIncidentConflict(() => incidentDetail(pool, Number(params.id), scopeOptions()));
        const timeline = timelineToJson({ incident: { id: detail.label, title: detail.incident.title }, events: detail.events, durations: detail.durations });
        // Each event in words too (the dashboard shows them), in the export's chronological order.
        const words = [...detail.events].sort((a, b) => a.at.getTime() - b.at.getTime()).map(timelineEventWords);
        const allowedRelaxations = dependencies.policy.inForce.current.policy?.emergency.relaxes ?? [];
        return context.json({ ...detail, events: timeline.events.map((event, index) => ({ ...event, text: words[index] })), durations: timeline.durations, allowedRelaxations });
      },
    },
    {
      method: 'post', path: '/api/v1/incidents/{id}/close', summary: 'Close an incident whose every host in scope is live or excluded; otherwise a 409 listing the blockers (operator; audited)', access: 'operator',
      params: idParams, body: z.object({ reason: text(512, 1) }),
      responses: { 200: 'Closed', 404: 'No such incident', 409: 'Hosts in scope are not live yet (error.blockers lists them), or it is closed already' },
      example: { params: { id: '1' }, body: { reason: 'every host patched and live' } },
      async handle({ params, body, principal, context }) {
        try {
          const notifications = dependencies.policy.inForce.current.policy?.notifications;
          return context.json(await closeIncident(pool, { id: Number(params.id), actor: actor(principal), reason: (body as { reason: string }).reason, ...scopeOptions(), ...(notifications ? { notifications } : {}) }));
        } catch (error) {
          if (error instanceof IncidentConflict) return context.json({ error: { code: 'incident-conflict', message: error.detail, field: error.field, blockers: error.blockers } }, 409);
          if (error instanceof UnknownIncident) throw new ApiError(404, 'unknown-incident', error.detail, 'id');
          throw error;
        }
      },
    },
    {
      method: 'get', path: '/api/v1/incidents/{id}/draft', summary: 'The status update fleetpatch proposes now (per bucket and team, the change since the last update, blockers, the forecast), for the commander to post as is or edit', access: 'viewer',
      params: idParams, responses: { 200: 'The draft, structured and as Markdown', 404: 'No such incident', 409: 'The incident is closed' },
      example: { params: { id: '1' } },
      async handle({ params, context }) {
        const policy = dependencies.policy.inForce.current.policy;
        return context.json(await asIncidentConflict(() => draftIncidentUpdate(pool, { id: Number(params.id), ...scopeOptions(), ...(policy ? { policy } : {}) })));
      },
    },
    {
      method: 'post', path: '/api/v1/incidents/{id}/updates', summary: 'Post a status update: the draft as it stands, or the commander\'s edited Markdown, through the notification routes (operator; audited)', access: 'operator',
      params: idParams, body: z.object({ markdown: wellFormedString({ min: 1, max: 20_000, multiline: true }).optional() }),
      responses: { 201: 'Posted', 404: 'No such incident', 409: 'The incident is closed' },
      example: { params: { id: '1' }, body: { markdown: '### INC-1 status update\n\nDatabases patched; web reboots tonight.' } },
      async handle({ params, body, principal, context }) {
        const policy = dependencies.policy.inForce.current.policy;
        const markdown = (body as { markdown?: string }).markdown;
        const posted = await asIncidentConflict(() => postIncidentUpdate(pool, { id: Number(params.id), actor: actor(principal), ...scopeOptions(), ...(policy ? { policy } : {}), ...(markdown !== undefined ? { markdown } : {}) }));
        return context.json(posted, 201);
      },
    },
    {
      method: 'post', path: '/api/v1/incidents/{id}/relaxations', summary: 'Approve what a bucket\'s emergency rollout may skip (windows, freezes, cooldowns, as the policy\'s emergency.relaxes allows; never gates or budgets), scheduling a post-change review (operator; audited)', access: 'operator',
      params: idParams, body: z.object({ bucket: text(64, 1), relaxes: z.array(z.enum(RELAXATIONS)).min(1).max(3), reason: text(512, 1) }),
      responses: { 200: 'Approved: what the bucket may skip now, and when the review is due', 400: 'The policy does not allow relaxing that, or no such bucket', 404: 'No such incident', 409: 'The incident is closed' },
      example: { params: { id: '1' }, body: { bucket: 'databases', relaxes: ['windows'], reason: 'exploited in the wild: cannot wait for Tuesday' } },
      async handle({ params, body, principal, context }) {
        const policy = dependencies.policy.inForce.current.policy;
        const request = body as { bucket: string; relaxes: Relaxation[]; reason: string };
        return context.json(await asIncidentConflict(() => approveRelaxation(pool, { id: Number(params.id), actor: actor(principal), ...scopeOptions(), ...(policy ? { policy } : {}), bucket: request.bucket, relaxes: request.relaxes, why: request.reason })));
      },
    },
    {
      method: 'post', path: '/api/v1/incidents/{id}/reviews', summary: 'Record the post-change review a bucket\'s relaxation owes (operator; audited)', access: 'operator',
      params: idParams, body: z.object({ bucket: text(64, 1), notes: wellFormedString({ min: 1, max: 4_000, multiline: true }) }),
      responses: { 204: 'Recorded', 404: 'No such incident', 409: 'Nothing relaxed in the bucket awaits a review' },
      example: { params: { id: '1' }, body: { bucket: 'databases', notes: 'no regressions; the out-of-window patch was right' } },
      async handle({ params, body, principal, context }) {
        const request = body as { bucket: string; notes: string };
        await asIncidentConflict(() => completeRelaxationReview(pool, { id: Number(params.id), actor: actor(principal), now: now(), bucket: request.bucket, notes: request.notes }));
        return context.body(null, 204);
      },
    },
    {
      method: 'get', path: '/api/v1/incidents/{id}/timeline', summary: 'The incident\'s timeline for the postmortem, as Markdown or JSON (ISO timestamps), with time to detect, to patched and to live', access: 'viewer',
      params: idParams, query: z.object({ format: z.enum(['markdown', 'json']).default('json') }),
      responses: { 200: 'The timeline', 404: 'No such incident' },
      example: { params: { id: '1' }, query: { format: 'markdown' } },
      async handle({ params, query, context }) {
        const timeline = await asIncidentConflict(() => incidentTimeline(pool, Number(params.id), scopeOptions()));
        if (query.format === 'markdown') return context.body(timelineToMarkdown(timeline), 200, { 'content-type': 'text/markdown; charset=utf-8' });
        return context.json(timelineToJson(timeline));
      },
    },
    {
      method: 'get', path: '/api/v1/notifications', summary: 'Notifications queued or sent to PagerDuty, Slack and webhooks, newest first, each with its attempts', access: 'viewer',
      query: z.object({ state: z.enum(['pending', 'delivered', 'failed', 'suppressed']).optional(), limit: z.coerce.number().int().positive().max(1_000).default(50) }),
      responses: { 200: 'Notifications' },
      example: { query: { state: 'failed', limit: '20' } },
      async handle({ query, context }) {
        const { state, limit } = query as { state?: NotificationState; limit: number };
        return context.json(await listNotifications(pool, { ...(state ? { state } : {}), limit }));
      },
    },
    {
      method: 'get', path: '/api/v1/policy', summary: 'The policy in force: its revision, text and parsed form (origin labels or buckets-file before the first revision)', access: 'viewer',
      responses: { 200: 'Policy' },
      async handle({ context }) {
        const { origin, revision, text, policy } = dependencies.policy.inForce.current;
        return context.json({ origin, revision: revision ?? null, text: text ?? null, policy: policy ?? null });
      },
    },
    {
      method: 'get', path: '/api/v1/policy/revisions', summary: 'Every applied policy revision, newest first (hash, author, message, source; not the texts)', access: 'viewer',
      responses: { 200: 'Revisions' },
      async handle({ context }) {
        return context.json(await listPolicyRevisions(pool));
      },
    },
    {
      method: 'put', path: '/api/v1/policy', summary: 'Apply a policy text as the next revision, in force on every replica; identical content stores nothing; a bad text is a 400 listing every problem with line and column (operator)', access: 'operator',
      body: z.object({ text: wellFormedString({ min: 1, max: MAX_POLICY_BYTES, multiline: true }), message: text(512).default('') }), maxBodyBytes: MAX_POLICY_BYTES + 64 * 1024,
      responses: { 200: 'Identical to the latest revision: nothing stored', 201: 'Applied as a new revision' },
      example: { body: { text: EXAMPLE_POLICY, message: 'databases nightly' } },
      async handle({ body, principal, context }) {
        const request = body as { text: string; message: string };
        const judgement = await dependencies.policy.reader.judge(request.text, now());
        try {
          const result = await applyPolicy(pool, { text: request.text, judgement, author: actor(principal), message: request.message, source: 'api', reader: dependencies.policy.reader });
          dependencies.policy.inForce.adopt(result.revision, request.text, result.policy);
          const hosts = result.status === 'applied' ? await reassignHosts(pool, dependencies.policy.inForce) : undefined;
          return context.json({ status: result.status, revision: result.revision, warnings: result.warnings, ...(hosts ? { hostsMoved: hosts.moved } : {}) }, result.status === 'applied' ? 201 : 200);
        } catch (error) {
          if (!(error instanceof PolicyRefused)) throw error;
          const errors = error.issues.filter((issue) => issue.level === 'error');
          return context.json({ error: { code: 'invalid-policy', message: formatPolicyIssue('text', errors[0]!), field: 'text', hint: 'nothing was stored', problems: error.issues } }, 400);
        }
      },
    },
    {
      method: 'get', path: '/api/v1/policy/schema.json', summary: 'The JSON Schema of fleetpatch.yaml, for editors (# yaml-language-server: $schema=…)', access: 'public',
      responses: { 200: 'JSON Schema (draft 7)' },
      handle({ context }) {
        return context.json(policySchemaDocument);
      },
    },
    {
      method: 'get', path: '/api/v1/plan', summary: 'The plan of the policy in force: bucket and team forecasts, the next rollouts, the windows and freezes of the horizon, a page of the hosts to patch, and the findings that breach or fall due within 7 days (a plan is reused for 60 s; generatedAt says when it was computed)', access: 'viewer',
      query: z.object({
        bucket: text(128).optional(),
        team: text(128).optional(),
        host: text(256).optional(),
        days: horizonDays,
        from: dateTimeParameter.optional(),
        limit: z.coerce.number().int().positive().max(5_000).default(500),
        offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
      }),
      responses: { 200: 'Plan', 409: 'No policy is in force (apply one: fleetpatch policy apply FILE)' },
      example: { query: { bucket: 'databases', team: 'data-platform', host: 'db-7', days: '30', from: EXAMPLE_FROM, limit: '500', offset: '0' } },
      async handle({ query, context }) {
        const { bucket, team, host, days, from, limit, offset } = query as { bucket?: string; team?: string; host?: string; days: number; from?: string; limit: number; offset: number };
        const { policy, revision } = policyInForce();
        const view = await planner.view({ policy, revision, horizonDays: days, now: now(), ...(from ? { from: new Date(from) } : {}) }, { limit, offset, ...(bucket ? { bucket } : {}), ...(team ? { team } : {}), ...(host ? { host } : {}) });
        return context.json({ policyRevision: revision ?? null, ...view });
      },
    },
    {
      method: 'get', path: '/api/v1/plan/hosts/{name}', summary: 'One host\'s plan explained: its slot or why it has none, what will change, and each open finding\'s SLA and forecast', access: 'viewer',
      params: hostParams, query: z.object({ days: horizonDays, from: dateTimeParameter.optional() }),
      responses: { 200: 'Host plan with its findings', 404: 'Unknown host', 409: 'No policy is in force' },
      example: { params: { name: 'db-7' }, query: { days: '30', from: EXAMPLE_FROM } },
      async handle({ params, query, context }) {
        const name = String(params.name);
        const { days, from } = query as { days: number; from?: string };
        const { policy, revision } = policyInForce();
        const explained = await planner.explain({ policy, revision, horizonDays: days, now: now(), ...(from ? { from: new Date(from) } : {}) }, name);
        if (!explained) throw new ApiError(404, 'unknown-host', `no host named ${name}`);
        return context.json(explained);
      },
    },
    {
      method: 'get', path: '/api/v1/plan/what-if', summary: 'What if an advisory for a package is published at a time: per bucket, when the routine cadence and the emergency path would have every affected host patched and live', access: 'viewer',
      query: z.object({
        package: text(256, 1),
        severity: z.enum(SEVERITY_ORDER as unknown as [Severity, ...Severity[]]).default('critical'),
        at: dateTimeParameter.optional(),
        reboot: z.enum(['true', 'false']).default('false'),
        kev: z.enum(['true', 'false']).default('false'),
        epss: z.coerce.number().min(0).max(1).optional(),
        days: z.coerce.number().int().positive().max(366).default(60),
      }),
      responses: { 200: 'What-if answer per bucket', 409: 'No policy is in force' },
      example: { query: { package: 'openssl', severity: 'critical', at: EXAMPLE_FROM, reboot: 'true', kev: 'false', epss: '0.9', days: '60' } },
      async handle({ query, context }) {
        const scenario = query as { package: string; severity: Severity; at?: string; reboot: 'true' | 'false'; kev: 'true' | 'false'; epss?: number; days: number };
        const { policy } = policyInForce();
        return context.json(await planner.whatIf(policy, {
          packageName: scenario.package,
          severity: scenario.severity,
          publishedAt: scenario.at ? new Date(scenario.at) : now(),
          needsReboot: scenario.reboot === 'true',
          knownExploited: scenario.kev === 'true',
          ...(scenario.epss !== undefined ? { epss: scenario.epss } : {}),
          horizonDays: scenario.days,
        }));
      },
    },
    {
      method: 'get', path: '/api/v1/drift', summary: 'Canonical-level drift: for each baseline of the policy in force (or one package name or glob), per team, the installed versions with host counts and the target', access: 'viewer',
      query: z.object({ package: text(256, 1).optional(), ecosystem: text(128).optional() }),
      responses: { 200: 'Drift per baseline', 409: 'No policy is in force and no package was given' },
      example: { query: { package: 'postgresql-*', ecosystem: 'Debian' } },
      async handle({ query, context }) {
        const { package: packageGlob, ecosystem } = query as { package?: string; ecosystem?: string };
        const inForce = dependencies.policy.inForce.current;
        if (!packageGlob && !inForce.policy) policyInForce();
        const baselines = packageGlob
          ? [inForce.policy?.baselines.find((baseline) => baseline.package === packageGlob && (!ecosystem || baseline.ecosystem === ecosystem)) ?? { package: packageGlob, ...(ecosystem ? { ecosystem } : {}) }]
          : inForce.policy!.baselines.slice(0, PLAN_LIMITS.baselines);
        // The targets of `security` and `latest` baselines are the versions the plan moves hosts to.
        const planned = inForce.policy && baselines.some((baseline) => 'target' in baseline) ? { policy: inForce.policy, revision: inForce.revision?.revision, horizonDays: 30, now: now() } : undefined;
        const drift = await planner.drift(baselines, planned);
        return context.json({ generatedAt: drift.generatedAt ?? now(), baselines: drift.baselines, baselinesTotal: packageGlob ? 1 : inForce.policy!.baselines.length });
      },
    },
    {
      method: 'get', path: '/api/v1/images', summary: 'The baseline image of each replace bucket of the policy in force: its id, build date and age in days, and how many of the bucket\'s hosts report it, another image or none (their label named by imageFact); no buckets without a policy', access: 'viewer',
      responses: { 200: 'Baseline images per replace bucket, in policy order' },
      async handle({ context }) {
        const { policy, revision } = dependencies.policy.inForce.current;
        return context.json({ generatedAt: now(), revision: revision?.revision ?? null, buckets: policy ? await baselineImages(pool, policy.buckets, now()) : [] });
      },
    },
    {
      method: 'get', path: '/api/v1/tokens', summary: 'API tokens (never their secrets), revoked ones included (admin)', access: 'admin', responses: { 200: 'Tokens' },
      async handle({ context }) {
        return context.json(await listApiTokens(pool));
      },
    },
    {
      method: 'post', path: '/api/v1/tokens', summary: 'Create an API token (admin)', access: 'admin',
      body: z.object({ name: text(128, 1), role: z.enum(['viewer', 'operator', 'admin']) }), responses: { 201: 'Token, shown once' },
      example: { body: { name: 'grafana', role: 'viewer' } },
      async handle({ body, principal, context }) {
        const request = body as { name: string; role: Role };
        const created = await createApiToken(pool, request.name, request.role, actor(principal));
        return context.json({ id: created.id, name: request.name, role: request.role, token: created.token }, 201);
      },
    },
    {
      method: 'post', path: '/api/v1/tokens/{id}/revoke', summary: 'Revoke an API token at once, on every replica (admin)', access: 'admin',
      params: idParams, responses: { 200: 'Revoked', 404: 'No such active token' },
      example: { params: { id: '42' } },
      async handle({ params, principal, context }) {
        if (!(await revokeApiToken(pool, Number(params.id), actor(principal)))) throw new ApiError(404, 'unknown-token', `no active token ${String(params.id)}`);
        principals.clear();
        return context.json({ id: params.id, revoked: true });
      },
    },
    {
      method: 'get', path: '/api/v1/enrollment-tokens', summary: 'Enrollment tokens with their uses, expiry and revocation (admin)', access: 'admin', responses: { 200: 'Enrollment tokens' },
      async handle({ context }) {
        return context.json(await listEnrollmentTokens(pool));
      },
    },
    {
      method: 'post', path: '/api/v1/enrollment-tokens', summary: 'Create an enrollment token: it expires (default 24 hours) and allows maxUses enrollments (default 1) (admin)', access: 'admin',
      body: z.object({
        name: text(128, 1),
        labels: labelsSchema.default({}),
        expiresInHours: z.number().int().positive().max(24 * 365).default(24),
        maxUses: z.number().int().positive().max(1_000_000).default(1),
      }),
      responses: { 201: 'Token, shown once' },
      example: { body: { name: 'databases', labels: { bucket: 'databases', team: 'data-platform' }, expiresInHours: 24, maxUses: 50 } },
      async handle({ body, principal, context }) {
        const request = body as { name: string; labels: Record<string, string>; expiresInHours: number; maxUses: number };
        const expiresAt = new Date(now().getTime() + request.expiresInHours * 3_600_000);
        const created = await createEnrollmentToken(pool, { name: request.name, labels: request.labels, expiresAt, maxUses: request.maxUses, createdBy: actor(principal) });
        return context.json({ id: created.id, name: request.name, labels: request.labels, expiresAt: expiresAt.toISOString(), maxUses: request.maxUses, token: created.token }, 201);
      },
    },
    {
      method: 'post', path: '/api/v1/enrollment-tokens/{id}/revoke', summary: 'Revoke an enrollment token (hosts it enrolled keep their credentials) (admin)', access: 'admin',
      params: idParams, responses: { 200: 'Revoked', 404: 'No such active token' },
      example: { params: { id: '42' } },
      async handle({ params, principal, context }) {
        if (!(await revokeEnrollmentToken(pool, Number(params.id), actor(principal)))) throw new ApiError(404, 'unknown-token', `no active enrollment token ${String(params.id)}`);
        return context.json({ id: params.id, revoked: true });
      },
    },
    ...complianceRoutes({ pool, now, policy: () => ({ policy: dependencies.policy.inForce.current.policy, revision: dependencies.policy.inForce.current.revision?.revision }), checkpoint: dependencies.auditCheckpoint, actor }),
    ...metricsRoutes({
      pool, now, staleAfterSeconds, policy: () => dependencies.policy.inForce.current.policy,
      ...(dependencies.replicaHealth ? { replicaHealth: dependencies.replicaHealth } : {}), ...(dependencies.seedMetrics ? { fleetReport: dependencies.seedMetrics } : {}),
    }),
  ];

  const document = openApiDocument(routes, { title: 'fleetpatch', version: '0.1.0', description: 'Fleet patch management: inventory, findings, fleet numbers and access control.' });
  app.get('/openapi.json', (context) => context.json(document));
  app.get('/metrics', async (context) => context.text(await dependencies.metrics.render(), 200, { 'content-type': dependencies.metrics.contentType }));
  app.get('/', (context) => context.html(dependencies.dashboard.html));
  // Only the files loaded at start are served, looked up by their exact path: nothing is read from disk per request.
  app.get('/assets/*', (context) => {
    const asset = dependencies.dashboard.assets.get(context.req.path.slice('/assets/'.length));
    if (!asset) throw new ApiError(404, 'not-found', 'no such asset');
    return context.body(asset.body, 200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
  });

  for (const route of routes) {
    const maxSize = route.maxBodyBytes ?? MAX_BODY_BYTES;
    const tooLarge = (context: Context<Env>) => context.json(errorBody('payload-too-large', `the request body is larger than ${maxSize} bytes`), 413);
    const chunkedLimit = bodyLimit({ maxSize, onError: tooLarge });
    // Hono's bodyLimit looks at `req.raw.body`, which makes @hono/node-server build a whole web
    // Request (a ReadableStream, an AbortSignal) per request: most of a heartbeat's cost. A body of
    // declared length is checked against its header and then read directly; only a chunked one is
    // counted as it streams.
    const limit = async (context: Context<Env>, next: () => Promise<void>) => {
      const length = context.req.header('content-length');
      if (length === undefined || context.req.header('transfer-encoding') !== undefined) return chunkedLimit(context, next);
      if (Number.parseInt(length, 10) > maxSize) return tooLarge(context);
      await next();
    };
    const handler = async (context: Context<Env>) => {
      // Path and query first: the principal check needs the host name, and a bad name is a 400.
      const params = route.params ? parse(route.params, context.req.param()) : {};
      const principal = await authorize(route, context, params as Record<string, unknown>);
      const query = route.query ? parse(route.query, context.req.query()) : {};
      const body = route.body ? parse(route.body, await context.req.json()) : undefined;
      return route.handle({ params: params as Record<string, unknown>, query: query as Record<string, unknown>, body, principal, context });
    };
    const path = honoPath(route.path);
    if (route.body) app.on(route.method.toUpperCase(), path, limit, handler);
    else app.on(route.method.toUpperCase(), path, handler);
  }
  return app;
}

/** The part of a URL (`path`, or a query parameter's name) whose percent-encoding is not UTF-8. */
function undecodableUrlPart(url: string): string | undefined {
  // Only a percent sign can be badly encoded: most requests (every check-in) skip parsing the URL.
  if (!url.includes('%')) return undefined;
  const { pathname, search } = new URL(url);
  try {
    decodeURIComponent(pathname);
  } catch {
    return 'path';
  }
  for (const pair of search.slice(1).split('&')) {
    const [name = '', value = ''] = pair.split('=', 2);
    try {
      decodeURIComponent(name.replaceAll('+', ' '));
    } catch {
      return 'query';
    }
    try {
      decodeURIComponent(value.replaceAll('+', ' '));
    } catch {
      return decodeURIComponent(name.replaceAll('+', ' '));
    }
  }
  return undefined;
}

/**
 * Known principals, cached briefly so check-ins stay cheap. Access changes on any replica notify
 * `fleetpatch_access`, which empties the cache; while notifications cannot be heard nothing is
 * cached, so a revocation is never outlived by a cache entry.
 */
function principalCache(changes: ChangeListener | undefined) {
  const entries = new Map<string, { principal: Principal; until: number; refreshing?: true }>();
  // Bumped by every invalidation: a lookup that started before one must not cache its answer.
  let generation = 0;
  const clear = () => {
    entries.clear();
    generation++;
  };
  changes?.subscribe('fleetpatch_access', clear);
  changes?.onReset(clear);
  return {
    async resolve(secret: string, load: () => Promise<Principal | undefined>): Promise<Principal | undefined> {
      const key = hashSecret(secret);
      const cached = entries.get(key);
      if (cached && cached.until > Date.now()) {
        // Least recently used last: re-inserting keeps the Map's order an LRU order.
        entries.delete(key);
        entries.set(key, cached);
        if (!cached.refreshing && cached.until - Date.now() < PRINCIPAL_CACHE_MS - PRINCIPAL_REFRESH_MS) {
          cached.refreshing = true;
          const startedAt = generation;
          // Replaces the entry unless it was invalidated meanwhile; a principal gone since is forgotten at once.
          load().then((principal) => {
            if (entries.get(key) !== cached) return;
            entries.delete(key);
            if (principal && changes?.listening && generation === startedAt) entries.set(key, { principal, until: Date.now() + PRINCIPAL_CACHE_MS });
          }, () => delete cached.refreshing);
        }
        return cached.principal;
      }
      if (cached) entries.delete(key);
      const startedAt = generation;
      const principal = await load();
      if (principal && changes?.listening && generation === startedAt) {
        entries.set(key, { principal, until: Date.now() + PRINCIPAL_CACHE_MS });
        if (entries.size > PRINCIPAL_CACHE_ENTRIES) entries.delete(entries.keys().next().value!);
      }
      return principal;
    },
    clear,
  };
}
