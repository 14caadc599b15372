/**
 * The seed's metrics and the operations views' routes, as RouteSpecs that `create-app.ts` serves
 * with the rest (validated, authorised and documented in `/openapi.json` by the same code): the
 * metrics report per bucket and team, what on-call must look at now, and the health of agents,
 * feeds and the engine.
 */
import type { Context } from 'hono';
import type pg from 'pg';
import { z } from 'zod';
import type { Policy } from '../domain/policy/policy-schema.js';
import { seedMetricsReport, type SeedMetricsReport } from '../domain/reporting/seed-metrics.js';
import { wellFormedString } from '../domain/well-formed-text.js';
import { onCallSnapshot, storedHealth } from '../store/operations-queries.js';
import { seedMetricFacts, type SeedMetricOptions } from '../store/seed-metric-queries.js';
import type { ReplicaHealth } from './replica-health.js';
import type { RouteSpec } from './route-spec.js';

export interface MetricsRouteDependencies {
  pool: pg.Pool;
  now: () => Date;
  staleAfterSeconds: number;
  /** The policy in force now, whose SLA clocks decide compliance. */
  policy: () => Policy | undefined;
  /** This replica's own engine passes and advisory syncs; absent in servers that run neither. */
  replicaHealth?: ReplicaHealth;
  /** The fleet's report over METRICS_DAYS, shared with /metrics (cachedSeedMetrics); computed per request without it. */
  fleetReport?: () => Promise<SeedMetricsReport>;
}

export type MetricsRoute = RouteSpec & { handle(input: { query: Record<string, unknown>; context: Context }): Promise<Response> };

const name = wellFormedString({ min: 1, max: 128 });
/** The period /metrics and the dashboard report the event metrics over. */
export const METRICS_DAYS = 30;

/**
 * @example await seedMetrics(pool, { now: new Date(), days: 30, staleAfterSeconds: 3600, slas: policy?.slas })
 */
export async function seedMetrics(pool: pg.Pool, options: SeedMetricOptions): Promise<SeedMetricsReport> {
  return seedMetricsReport(await seedMetricFacts(pool, options), { now: options.now, days: options.days });
}

export function metricsRoutes(dependencies: MetricsRouteDependencies): MetricsRoute[] {
  const { pool, now, staleAfterSeconds } = dependencies;
  return [
    {
      method: 'get', path: '/api/v1/metrics/seed',
      summary: 'The seed\'s metrics over the last `days` (the fleet\'s over 30 days at most 5 minutes old; time to installed and to live, patch coverage, rollback rate, time to detect a failed patch, pending reboots, vulnerability age, compliance pass rate, canary success rate, observability coverage) for the fleet, each bucket and each team, with their definitions and the event metrics per day; bucket and team narrow the hosts and rollouts counted',
      access: 'viewer',
      query: z.object({ bucket: name.optional(), team: name.optional(), days: z.coerce.number().int().positive().max(400).default(METRICS_DAYS) }),
      responses: { 200: 'The metrics, their definitions and the daily series' },
      example: { query: { bucket: 'databases', team: 'data-platform', days: '30' } },
      async handle({ query, context }) {
        const { bucket, team, days } = query as { bucket?: string; team?: string; days: number };
        // The dashboard's question, every 30 s from every open page: the report /metrics shares.
        if (dependencies.fleetReport && !bucket && !team && days === METRICS_DAYS) return context.json(await dependencies.fleetReport());
        const slas = dependencies.policy()?.slas;
        return context.json(await seedMetrics(pool, { now: now(), days, staleAfterSeconds, ...(bucket ? { bucket } : {}), ...(team ? { team } : {}), ...(slas ? { slas } : {}) }));
      },
    },
    {
      method: 'get', path: '/api/v1/operations/on-call',
      summary: 'What is failing, stuck or paging now: hosts failed, rolling back or reboot-stuck in rollouts that have not ended, halted and paused rollouts, notifications pending or failed in the outbox, agents that missed their check-ins',
      access: 'viewer',
      responses: { 200: 'The lists (at most 50 rows each) and their counts' },
      async handle({ context }) {
        return context.json(await onCallSnapshot(pool, { now: now(), staleAfterSeconds }));
      },
    },
    {
      method: 'get', path: '/api/v1/operations/health',
      summary: 'Agent, feed and engine health: check-ins by recency, the feeds\' last syncs and this replica\'s sync errors, the engine\'s leases, overdue passes, waiting jobs, the outbox backlog and this replica\'s pass durations',
      access: 'viewer',
      responses: { 200: 'The health as the database and this replica see it' },
      async handle({ context }) {
        const stored = await storedHealth(pool, { now: now(), staleAfterSeconds });
        return context.json({ generatedAt: now().toISOString(), staleAfterSeconds, ...stored, replica: dependencies.replicaHealth?.view() ?? null });
      },
    },
  ];
}

/**
 * The fleet's report (30 days) computed at most once per `maxAgeMs` and shared by /metrics (every
 * scrape) and the dashboard: an older one is served while a fresh one is computed in the background.
 */
export function cachedSeedMetrics(pool: pg.Pool, options: { staleAfterSeconds: number; maxAgeMs: number; now: () => Date; policy: () => Policy | undefined }): () => Promise<SeedMetricsReport> {
  let cached: { report: SeedMetricsReport; at: number } | undefined;
  let inFlight: Promise<SeedMetricsReport> | undefined;
  const refresh = () => {
    const slas = options.policy()?.slas;
    inFlight ??= seedMetrics(pool, { now: options.now(), days: METRICS_DAYS, staleAfterSeconds: options.staleAfterSeconds, ...(slas ? { slas } : {}) })
      .then((report) => {
        cached = { report, at: Date.now() };
        return report;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return async () => {
    if (!cached) return refresh();
    if (Date.now() - cached.at >= options.maxAgeMs) void refresh().catch(() => undefined);
    return cached.report;
  };
}
