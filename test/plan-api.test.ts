// The plan through the API on a real PostgreSQL: 409 until a policy is in force, then the seed's
// policy (examples/fleetpatch.yaml, applied with PUT /api/v1/policy) planned from a fixed clock:
// forecasts per bucket and team, the next rollouts, the timeline's windows and freeze, paged host
// plans, urgent findings, one host explained, the what-if on both paths, and the three PostgreSQL
// patch levels as drift with the target marked. Repeated requests reuse the cached plan.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './data-path.js';
import { PLAN_FROM, PLAN_HOSTS, POSTGRES_LEVELS, startPlanFleet, type PlanFleet } from './plan-fleet.js';

interface Group { name: string; hosts: number; hostsToPatch: number; dueWithinSevenDays: number; breached: number; predictedBreaches: number }
interface PlanAnswer {
  generatedAt: string;
  horizonEnd: string;
  policyRevision: number;
  buckets: Group[];
  teams: Group[];
  rollouts: Array<{ bucket: string; window: string; occurrenceStart: string; hosts: number; waves: Array<{ wave: number; hostCount: number; hosts: string[] }> }>;
  rolloutsTotal: number;
  timeline: Array<{ bucket: string; owner: string; occurrences: Array<{ window: string; start: string; end: string; hosts: number }>; freezes: Array<{ name: string; start: string; end: string; allowEmergency: boolean }> }>;
  notScheduled: Record<string, number>;
  hosts: { total: number; offset: number; limit: number; items: Array<{ host: string; bucket: string; team: string; status: string; changesTotal: number; changes: unknown[] }> };
  findings: { total: number; items: Array<{ host: string; dueAt?: string; predictedBreach: boolean }> };
}

describe('plan API', () => {
  let fleet: PlanFleet;

  beforeAll(async () => {
    fleet = await startPlanFleet();
  }, 120_000);
  afterAll(async () => fleet?.stop());

  it('answers 409 with a hint while no policy is in force', async () => {
    for (const path of ['/api/v1/plan', '/api/v1/plan/hosts/db-1', '/api/v1/plan/what-if?package=openssl', '/api/v1/drift']) {
      const answer = await fleet.get<{ error: { code: string; hint?: string } }>(path);
      expect(answer.status, path).toBe(409);
      expect(answer.body.error.code).toBe('no-policy');
      expect(answer.body.error.hint).toMatch(/policy apply/);
    }
    // Drift of a named package needs no policy (there is just no target).
    const drift = await fleet.get<{ baselines: Array<{ packages: Array<{ packageName: string; target?: string }> }> }>('/api/v1/drift?package=postgresql-*');
    expect(drift.status).toBe(200);
    // The image's own postgresql-15 packages match the glob too.
    expect(drift.body.baselines[0]!.packages.map((entry) => entry.packageName)).toEqual(expect.arrayContaining(['postgresql-15', 'postgresql-16']));
    expect(drift.body.baselines[0]!.packages.every((entry) => entry.target === undefined)).toBe(true);
  });

  it('plans the fleet with the applied policy: buckets, teams, rollouts, timeline, hosts and urgent findings', async () => {
    const applied = await fleet.send<{ status: string; hostsMoved: number }>('PUT', '/api/v1/policy', { text: readFileSync(`${repoRoot}/examples/fleetpatch.yaml`, 'utf8'), message: 'the seed' });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    expect(applied.body.hostsMoved).toBe(Object.keys(PLAN_HOSTS).length);
    await fleet.ageFleet();

    const answer = await fleet.get<PlanAnswer>(`/api/v1/plan?from=${PLAN_FROM}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const plan = answer.body;
    expect(plan.generatedAt).toBe('2026-12-20T12:00:00.000Z');
    expect(plan.horizonEnd).toBe('2027-01-19T12:00:00.000Z');
    expect(plan.buckets.map((bucket) => [bucket.name, bucket.hosts])).toEqual(expect.arrayContaining([['databases', 4], ['kubernetes-nodes', 3], ['stateless', 2]]));
    expect(plan.teams.map((team) => team.name).sort()).toEqual(['data-platform', 'platform', 'web']);
    // Every host runs the image's old util-linux and bash: all nine are to be patched.
    expect(plan.hosts.total).toBe(9);
    expect(plan.hosts.items.every((host) => host.changesTotal >= host.changes.length && host.changes.length > 0)).toBe(true);

    // The database evenings are Tuesdays and Thursdays at 22:00 Berlin; the holidays freeze every bucket from 12-24 to the end of 12-26.
    const databases = plan.timeline.find((lane) => lane.bucket === 'databases')!;
    expect(databases.occurrences[0]).toMatchObject({ window: 'database-evenings', start: '2026-12-22T21:00:00.000Z', end: '2026-12-23T00:00:00.000Z' });
    expect(databases.freezes).toEqual([{ name: 'holidays', start: '2026-12-24T00:00:00.000Z', end: '2026-12-27T00:00:00.000Z', allowEmergency: true }]);
    const nodes = plan.timeline.find((lane) => lane.bucket === 'kubernetes-nodes')!;
    expect(nodes.occurrences.length).toBe(30);
    // No rollout starts inside the freeze, and each occurrence's host count is the rollouts' sum.
    for (const rollout of plan.rollouts) expect(rollout.occurrenceStart >= '2026-12-24T00:00:00.000Z' && rollout.occurrenceStart < '2026-12-27T00:00:00.000Z', rollout.occurrenceStart).toBe(false);
    const placed = plan.timeline.flatMap((lane) => lane.occurrences).reduce((sum, occurrence) => sum + occurrence.hosts, 0);
    expect(placed).toBe(plan.rollouts.reduce((sum, rollout) => sum + rollout.hosts, 0));
    expect(plan.rolloutsTotal).toBe(plan.rollouts.length);
    const firstDatabases = plan.rollouts.find((rollout) => rollout.bucket === 'databases')!;
    expect(firstDatabases.occurrenceStart).toBe('2026-12-22T21:00:00.000Z');
    expect(firstDatabases.waves[0]).toEqual({ wave: 1, hostCount: 1, hosts: [expect.stringMatching(/^db-/)] });

    // Findings first seen 2026-11-20: the high ones (7 days) are breached, and listed as urgent.
    const dataPlatform = plan.teams.find((team) => team.name === 'data-platform')!;
    expect(dataPlatform.breached).toBeGreaterThan(0);
    expect(plan.findings.total).toBeGreaterThanOrEqual(plan.teams.reduce((sum, team) => sum + team.predictedBreaches, 0));
    expect(plan.findings.items.length).toBe(plan.findings.total);
  });

  it('narrows to a team and pages the host plans', async () => {
    const team = (await fleet.get<PlanAnswer>(`/api/v1/plan?from=${PLAN_FROM}&team=web`)).body;
    expect(team.teams.map((group) => group.name)).toEqual(['web']);
    expect(team.hosts.items.map((host) => host.host).sort()).toEqual(['web-1', 'web-2']);
    expect(team.rollouts.every((rollout) => rollout.bucket === 'stateless')).toBe(true);
    const page = (await fleet.get<PlanAnswer>(`/api/v1/plan?from=${PLAN_FROM}&limit=2&offset=2`)).body;
    expect(page.hosts).toMatchObject({ total: 9, offset: 2, limit: 2 });
    expect(page.hosts.items).toHaveLength(2);
    const bad = await fleet.get<{ error: { field: string } }>('/api/v1/plan?days=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('days');
  });

  it('reuses the plan for a minute: the same from gives the same generatedAt without planning again', async () => {
    const first = (await fleet.get<PlanAnswer>('/api/v1/plan')).body.generatedAt;
    const second = (await fleet.get<PlanAnswer>('/api/v1/plan')).body.generatedAt;
    expect(second).toBe(first);
  });

  it('explains one host, and 404s an unknown one', async () => {
    const explained = await fleet.get<{ host: string; bucket: string; status: string; slot: { window: string; wave: number }; findings: Array<{ advisoryId: string; dueAt: string; liveAt?: string }> }>(`/api/v1/plan/hosts/db-1?from=${PLAN_FROM}`);
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({ host: 'db-1', bucket: 'databases', status: 'scheduled', slot: { window: 'database-evenings' } });
    expect(explained.body.findings.map((finding) => finding.advisoryId)).toContain('DSA-9100-1');
    const unknown = await fleet.get<{ error: { code: string } }>(`/api/v1/plan/hosts/nobody?from=${PLAN_FROM}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown-host');
  });

  it('answers the what-if per bucket, routine and emergency', async () => {
    const answer = await fleet.get<{ emergencyApplies: boolean; buckets: Array<{ bucket: string; affectedHosts: number; routine: { liveBy?: string }; emergency?: { liveBy?: string } }> }>(`/api/v1/plan/what-if?package=postgresql-16&severity=critical&at=${PLAN_FROM}`);
    expect(answer.status).toBe(200);
    expect(answer.body.emergencyApplies).toBe(true);
    expect(answer.body.buckets.map((bucket) => [bucket.bucket, bucket.affectedHosts])).toEqual([['databases', 4]]);
    const databases = answer.body.buckets[0]!;
    // Routine: the Tuesday and Thursday evenings around the freeze; emergency: from publication.
    expect(Date.parse(databases.emergency!.liveBy!)).toBeLessThan(Date.parse(databases.routine.liveBy!));
    const low = await fleet.get<{ emergencyApplies: boolean; buckets: Array<{ emergency?: unknown }> }>(`/api/v1/plan/what-if?package=bash&severity=low&at=${PLAN_FROM}`);
    expect(low.body.emergencyApplies).toBe(false);
    expect(low.body.buckets.length).toBe(3);
    expect(low.body.buckets.every((bucket) => bucket.emergency === undefined)).toBe(true);
  });

  it('shows the three PostgreSQL patch levels of data-platform as drift with the target marked', async () => {
    const answer = await fleet.get<{ baselines: Array<{ package: string; owner: string; targetRule: string; packages: Array<{ packageName: string; target?: string; distinctVersions: number; teams: Array<{ team: string; hosts: number; versions: Array<{ version: string; hosts: number; target: boolean }> }> }> }> }>('/api/v1/drift');
    expect(answer.status).toBe(200);
    expect(answer.body.baselines.map((baseline) => baseline.package)).toEqual(['postgresql-*', 'openssl', 'linux-image-*']);
    const postgres = answer.body.baselines[0]!;
    expect(postgres).toMatchObject({ owner: 'data-platform', targetRule: 'security' });
    const pg16 = postgres.packages.find((entry) => entry.packageName === 'postgresql-16');
    expect(pg16).toMatchObject({ packageName: 'postgresql-16', target: '16.4-1', distinctVersions: 3 });
    const team = pg16!.teams.find((entry) => entry.team === 'data-platform')!;
    expect(team.hosts).toBe(4);
    expect(team.versions.map((version) => version.version).sort()).toEqual([...POSTGRES_LEVELS].sort());
    expect(team.versions.filter((version) => version.target).map((version) => version.version)).toEqual(['16.4-1']);
    // openssl: one version everywhere, in all three teams.
    const openssl = answer.body.baselines[1]!.packages.find((entry) => entry.packageName === 'openssl')!;
    expect(openssl.distinctVersions).toBe(1);
    expect(openssl.teams.map((entry) => entry.team).sort()).toEqual(['data-platform', 'platform', 'web']);
  });
});
