/**
 * A plan seen through a filter: the hosts, findings and rollouts of one bucket, team or host, and
 * the bucket and team forecasts of the chosen ones. `fleetpatch plan` and the API's views share it.
 */
import type { FleetPlan } from './plan-types.js';

export interface PlanFilter {
  bucket?: string;
  team?: string;
  host?: string;
}

/**
 * @example narrowPlan(plan, { team: 'data-platform' }).hosts.every((host) => host.team === 'data-platform') // true
 */
export function narrowPlan(plan: FleetPlan, { bucket, team, host }: PlanFilter): FleetPlan {
  if (!bucket && !team && !host) return plan;
  const keep = (item: { bucket: string; team: string; host: string }) => (!bucket || item.bucket === bucket) && (!team || item.team === team) && (!host || item.host === host);
  const hosts = plan.hosts.filter(keep);
  const names = new Set(hosts.map((item) => item.host));
  return {
    ...plan,
    hosts,
    findings: plan.findings.narrow(keep),
    buckets: bucket ? plan.buckets.filter((group) => group.name === bucket) : plan.buckets,
    teams: team ? plan.teams.filter((group) => group.name === team) : plan.teams,
    rollouts: plan.rollouts
      .filter((rollout) => !bucket || rollout.bucket === bucket)
      .map((rollout) => ({ ...rollout, waves: rollout.waves.map((wave) => ({ ...wave, hosts: wave.hosts.filter((name) => names.has(name)) })).filter((wave) => wave.hosts.length > 0) }))
      .filter((rollout) => rollout.waves.length > 0),
  };
}
