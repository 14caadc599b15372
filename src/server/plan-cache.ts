/**
 * The fleet plan the API serves. Planning 100,000 hosts takes about two seconds, so a plan is kept
 * for a minute per (policy revision, horizon days, start rounded to the minute) and shared by every
 * request for it; once it is older, the last plan is still served while a new one is computed in
 * the background (the answer's `generatedAt` says how old it is), up to a limit past which the
 * request waits for the new one. Concurrent requests for one key share one computation.
 */
import type pg from 'pg';
import { planStoredFleet } from '../app/plan-service.js';
import type { FleetPlan } from '../domain/planning/plan-types.js';
import type { Policy } from '../domain/policy/policy-schema.js';

export interface PlanCacheOptions {
  staleAfterSeconds: number;
  now: () => Date;
  /** How long a plan is served as it is (default 60 s). */
  maxAgeMs?: number;
  /** Past this age a request waits for a new plan instead of getting the old one (default 10 min). */
  servableAgeMs?: number;
  /** Distinct keys kept (`from` is the caller's choice, so the cache must not grow with it). */
  entries?: number;
}

export interface PlanRequestKey {
  policy: Policy;
  /** Undefined before the first revision (a policy given some other way is not cached apart). */
  revision: number | undefined;
  horizonDays: number;
  /** Plan from this instant (rounded down to the minute); default: now. */
  from?: Date;
  /** The caller's clock, when `from` is not given (the server's injected clock in tests). */
  now?: Date;
}

interface Entry {
  plan?: FleetPlan;
  computedAt: number;
  pending?: Promise<FleetPlan>;
}

const MINUTE_MS = 60_000;

export interface PlanCache {
  get(request: PlanRequestKey): Promise<FleetPlan>;
}

/**
 * @example const plans = createPlanCache(pool, { staleAfterSeconds: 3600, now: () => new Date() }); const plan = await plans.get({ policy, revision: 3, horizonDays: 30 })
 */
export function createPlanCache(pool: pg.Pool, options: PlanCacheOptions): PlanCache {
  const maxAgeMs = options.maxAgeMs ?? MINUTE_MS;
  const servableAgeMs = options.servableAgeMs ?? 10 * MINUTE_MS;
  const capacity = options.entries ?? 8;
  const entries = new Map<string, Entry>();

  const compute = (key: string, entry: Entry, request: PlanRequestKey): Promise<FleetPlan> => {
    const now = request.from ? new Date(Math.floor(request.from.getTime() / MINUTE_MS) * MINUTE_MS) : (request.now ?? options.now());
    entry.pending ??= planStoredFleet(pool, { policy: request.policy, now, horizonDays: request.horizonDays, staleAfterSeconds: options.staleAfterSeconds }).then(
      (plan) => {
        entry.plan = plan;
        entry.computedAt = Date.now();
        entry.pending = undefined;
        return plan;
      },
      (error: unknown) => {
        entry.pending = undefined;
        if (!entry.plan) entries.delete(key);
        throw error;
      },
    );
    return entry.pending;
  };

  return {
    async get(request) {
      const start = request.from ? String(Math.floor(request.from.getTime() / MINUTE_MS)) : 'now';
      const key = `${request.revision ?? '-'}|${request.horizonDays}|${start}`;
      let entry = entries.get(key);
      if (!entry) {
        entry = { computedAt: 0 };
        entries.set(key, entry);
        if (entries.size > capacity) entries.delete(entries.keys().next().value!);
      } else {
        // Least recently used first in the Map's order.
        entries.delete(key);
        entries.set(key, entry);
      }
      const age = Date.now() - entry.computedAt;
      if (entry.plan && age < maxAgeMs) return entry.plan;
      if (entry.plan && age < servableAgeMs) {
        // The failure of a background refresh leaves the last plan in place; the next request tries again.
        compute(key, entry, request).catch(() => undefined);
        return entry.plan;
      }
      return compute(key, entry, request);
    },
  };
}
