/**
 * The planner over the stored fleet: reads the hosts, their open findings and pending upgrades,
 * and hands them with the policy and a clock to the pure planner; the what-if reads the hosts that
 * run the package. Shared by `fleetpatch plan`, the API and the dashboard.
 */
import type pg from 'pg';
import { planFleet } from '../domain/planning/planner.js';
import type { FleetPlan } from '../domain/planning/plan-types.js';
import { whatIf, type WhatIfAnswer, type WhatIfScenario } from '../domain/planning/what-if.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { hostsRunningPackage, loadPlanHosts, type PlanHostFilter } from '../store/plan-queries.js';

export interface PlanRequest {
  policy: Policy;
  now: Date;
  horizonDays: number;
  staleAfterSeconds: number;
  filter?: PlanHostFilter;
  progress?: (message: string) => void;
}

/**
 * @example const plan = await planStoredFleet(pool, { policy, now: new Date(), horizonDays: 30, staleAfterSeconds: 3600 })
 */
export async function planStoredFleet(pool: pg.Pool, request: PlanRequest): Promise<FleetPlan> {
  const started = performance.now();
  const hosts = await loadPlanHosts(pool, request.filter ?? {}, (loaded) => request.progress?.(`read ${loaded} hosts`));
  const read = performance.now();
  const plan = planFleet(request.policy, hosts, { now: request.now, horizonDays: request.horizonDays, staleAfterMs: request.staleAfterSeconds * 1000 });
  request.progress?.(`planned ${hosts.length} hosts (read ${((read - started) / 1000).toFixed(2)} s, planned ${((performance.now() - read) / 1000).toFixed(2)} s)`);
  return plan;
}

/** "A CVE in `packageName` is published at T": per bucket, when the routine and emergency paths finish. */
export async function whatIfStoredFleet(pool: pg.Pool, policy: Policy, scenario: WhatIfScenario): Promise<WhatIfAnswer> {
  return whatIf(policy, await hostsRunningPackage(pool, scenario.packageName), scenario);
}
