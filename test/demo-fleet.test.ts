// The `--demo` fleet on a real PostgreSQL, loaded by the function `fleetpatch start --demo` uses:
// teams lag differently, kernels wait for reboots, findings have 90 days of history, and the plan
// and the what-if answer with the example policy's four cadences.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectHostFacts } from '../src/agent/host-facts.js';
import { planStoredFleet, whatIfStoredFleet } from '../src/app/plan-service.js';
import { applyPolicy } from '../src/app/policy-service.js';
import { loadDemo } from '../src/cli/demo.js';
import { judgePolicy } from '../src/domain/policy/policy-report.js';
import type { Policy } from '../src/domain/policy/policy-schema.js';
import type { HostInventory } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { fullCheckInOf } from '../src/protocol/agent-protocol.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { fleetSummary, type FleetRow } from '../src/store/fleet-queries.js';
import { debianRoot } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const DAY_MS = 86_400_000;
/** A Tuesday in winter: Berlin is UTC+1, so the database evenings start at 21:00 UTC. */
const NOW = new Date('2026-11-24T10:00:00Z');

/** A server on the test database with no advisory feed, as the demo's tests need it. */
function startDemoServer(database: TestDatabase) {
  return runServer({
    port: 0,
    host: '127.0.0.1',
    home: mkdtempSync(join(tmpdir(), 'fleetpatch-demo-')),
    databaseUrl: database.connectionString,
    staleAfterSeconds: 3600,
    openAdvisoryFeed: () => new MemoryFeed('none', []),
    syncIntervalSeconds: 0,
    log: () => undefined,
  });
}

describe('the demo fleet on PostgreSQL', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let policy: Policy;
  const log: string[] = [];
  let loadSeconds = 0;
  let base: HostInventory;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startDemoServer(database);
    base = await collectHostFacts({ root: debianRoot() });
    const started = performance.now();
    await loadDemo(server, { hosts: 200, base, now: NOW, log: (message) => log.push(message) });
    loadSeconds = (performance.now() - started) / 1000;
    policy = server.policy.current.policy!;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('applies the example policy as an audited revision by the demo and says so', async () => {
    expect(server.policy.current.revision?.author).toBe('system:demo');
    expect(policy.buckets.map((bucket) => bucket.name)).toEqual(['kubernetes-nodes', 'databases', 'stateless', 'physical']);
    const audit = await database.pool.query<{ actor: string; action: string }>("SELECT actor, action FROM audit_log WHERE action = 'policy.applied'");
    expect(audit.rows).toEqual([{ actor: 'system:demo', action: 'policy.applied' }]);
    expect(log[0]).toMatch(/^demo: applied examples\/fleetpatch\.yaml as policy revision 1 \(author system:demo\)/);
    expect(log.at(-1)).toMatch(/^demo: 200 simulated hosts and 40 simulated advisories loaded/);
    process.stderr.write(`demo fleet loaded in ${loadSeconds.toFixed(1)} s: ${log.at(-1)}\n`);
  });

  it('files the hosts into the four buckets, and teams lag differently', async () => {
    const summary = await fleetSummary(database.pool, { staleAfterSeconds: 3600, now: NOW });
    const team = (name: string): FleetRow => summary.teams.find((row) => row.name === name)!;
    const [nodes, web, databases, physical] = [team('platform'), team('web'), team('data-platform'), team('infrastructure')];
    process.stderr.write(`${summary.teams.map((row) => `${row.name}: ${row.hosts} hosts, coverage ${row.patchCoverage}, ${row.daysBehind} days behind, ${row.pendingReboots} pending reboots, open ${JSON.stringify(row.openFindings)}`).join('\n')}\n`);
    expect([nodes.hosts, web.hosts, databases.hosts, physical.hosts]).toEqual([104, 56, 34, 6]);
    // Databases are weeks behind, nodes and stateless hosts days.
    expect(databases.daysBehind).toBeGreaterThan(14);
    expect(databases.daysBehind).toBeGreaterThan(physical.daysBehind);
    expect(physical.daysBehind).toBeGreaterThan(Math.max(nodes.daysBehind, web.daysBehind));
    expect(Math.max(nodes.daysBehind, web.daysBehind)).toBeLessThan(7);
    // Coverage (hosts with nothing open) follows each cadence: the fast teams are clean between
    // advisories, the slow ones almost never.
    expect(databases.patchCoverage).toBeLessThanOrEqual(Math.min(nodes.patchCoverage, web.patchCoverage, physical.patchCoverage));
    expect(Math.max(nodes.patchCoverage, web.patchCoverage)).toBeGreaterThan(0.3);
    expect(summary.fleet.patchCoverage).toBeGreaterThan(0.1);
    expect(databases.pendingReboots).toBeGreaterThan(0);
    expect(summary.longestUptimes[0]).toMatchObject({ host: 'sim-colo-01', bucket: 'physical', rebootRequired: true });
    expect(summary.longestUptimes[0]!.uptimeDays).toBeGreaterThan(400);
  });

  it('keeps 90 days of history: findings first seen at publication and resolved at different dates', async () => {
    const history = await database.pool.query<{ first_seen: Date; last_resolved: Date; first_resolved: Date; resolved: number; pending_reboot: number; open: number }>(
      `SELECT min(first_seen_at) AS first_seen, min(resolved_at) AS first_resolved, max(resolved_at) AS last_resolved,
              count(*) FILTER (WHERE resolved_at IS NOT NULL)::integer AS resolved,
              count(*) FILTER (WHERE state = 'pending-reboot' AND resolved_at IS NULL)::integer AS pending_reboot,
              count(*) FILTER (WHERE state = 'vulnerable' AND resolved_at IS NULL)::integer AS open
         FROM findings f JOIN hosts h ON h.key = f.host_key WHERE h.name LIKE 'sim-%'`,
    );
    const row = history.rows[0]!;
    expect(row.first_seen.getTime()).toBeLessThan(NOW.getTime() - 80 * DAY_MS);
    expect(row.first_resolved.getTime()).toBeLessThan(NOW.getTime() - 75 * DAY_MS);
    expect(row.last_resolved.getTime()).toBeGreaterThan(NOW.getTime() - 7 * DAY_MS);
    expect(row.resolved).toBeGreaterThan(row.open);
    expect(row.pending_reboot).toBeGreaterThan(0);
    // A finding is first seen when its advisory is published, never before.
    const early = await database.pool.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM findings f JOIN advisories a ON a.key = f.advisory_key
        WHERE f.first_seen_at < a.published`,
    );
    expect(early.rows[0]!.n).toBe(0);
    // The machine the fleet is built around runs every simulated fix: it meets no simulated advisory.
    const real = await server.controlPlane.checkIn('this-machine', fullCheckInOf({ ...base, hostname: 'this-machine' }), NOW);
    expect(real.findings).toBe(0);
  });

  it('plans each bucket in its own window', async () => {
    const plan = await planStoredFleet(database.pool, { policy, now: NOW, horizonDays: 45, staleAfterSeconds: 3600 });
    const slots = (bucket: string) => plan.hosts.filter((host) => host.bucket === bucket && host.slot).map((host) => host.slot!);
    for (const bucket of ['kubernetes-nodes', 'databases', 'stateless', 'physical']) expect(slots(bucket).length, bucket).toBeGreaterThan(0);
    for (const slot of slots('kubernetes-nodes')) expect([slot.occurrenceStart.getUTCHours(), slot.occurrenceStart.getUTCMinutes(), slot.window]).toEqual([3, 0, 'nightly-nodes']);
    for (const slot of slots('stateless')) expect([slot.occurrenceStart.getUTCDay(), slot.occurrenceStart.getUTCHours()]).toEqual([0, 2]);
    for (const slot of slots('databases')) {
      expect([2, 4]).toContain(slot.occurrenceStart.getUTCDay());
      // 22:00 in Berlin: 21:00 UTC in winter, 20:00 UTC in summer.
      expect([20, 21]).toContain(slot.occurrenceStart.getUTCHours());
      expect(slot.localStart).toContain('22:00');
    }
    for (const slot of slots('physical')) {
      const start = slot.occurrenceStart;
      expect(start.getTime()).toBeGreaterThanOrEqual(NOW.getTime() + 14 * DAY_MS);
      // The Saturday after the second Tuesday: day 12–18 of the month.
      expect(start.getUTCDay()).toBe(6);
      expect(start.getUTCDate()).toBeGreaterThanOrEqual(12);
      expect(start.getUTCDate()).toBeLessThanOrEqual(18);
    }
    // Nodes at most 10% in one wave.
    const nodeRollout = plan.rollouts.find((rollout) => rollout.bucket === 'kubernetes-nodes')!;
    expect(nodeRollout.waves[0]!.hosts.length).toBe(1);
  });

  it('answers the what-if per bucket: a critical OpenSSL advisory', async () => {
    const answer = await whatIfStoredFleet(database.pool, policy, { packageName: 'openssl', severity: 'critical', publishedAt: NOW, needsReboot: false });
    expect(answer.emergencyApplies).toBe(true);
    const byBucket = new Map(answer.buckets.map((bucket) => [bucket.bucket, bucket]));
    expect([...byBucket.keys()].sort()).toEqual(['databases', 'kubernetes-nodes', 'physical', 'stateless']);
    expect(byBucket.get('kubernetes-nodes')!.affectedHosts).toBe(104);
    process.stderr.write(`${answer.buckets.map((bucket) => `${bucket.bucket}: ${bucket.affectedHosts} hosts, routine live by ${bucket.routine.liveBy?.toISOString()}, emergency live by ${bucket.emergency?.liveBy?.toISOString()}`).join('\n')}\n`);
    // Routine: nodes within the seed's 5–7 days (three waves of nights), stateless by Sunday,
    // physical weeks later; the emergency path within a day.
    const routine = (bucket: string) => byBucket.get(bucket)!.routine.liveBy!.getTime();
    expect(routine('kubernetes-nodes')).toBeLessThan(NOW.getTime() + 8 * DAY_MS);
    expect(routine('physical')).toBeGreaterThan(NOW.getTime() + 14 * DAY_MS);
    expect(routine('physical')).toBeGreaterThan(routine('stateless'));
    for (const bucket of byBucket.values()) {
      if (bucket.bucket !== 'physical') expect(bucket.emergency!.liveBy!.getTime(), bucket.bucket).toBeLessThanOrEqual(NOW.getTime() + DAY_MS);
    }
  });

  it('leaves a loaded demo fleet and the policy in force as they are', async () => {
    const more: string[] = [];
    await loadDemo(server, { hosts: 200, base, now: NOW, log: (message) => more.push(message) });
    expect(more).toEqual([
      'demo: examples/fleetpatch.yaml is in force (policy revision 1, applied by the demo)',
      'demo: the simulated fleet is already loaded (sim-node-001 exists); nothing added',
    ]);
  });
});

describe('the demo fleet beside a policy someone applied', () => {
  it('keeps their policy in force and files the simulated hosts by it', async () => {
    const database = await createTestDatabase();
    const server = await startDemoServer(database);
    try {
      const text = 'version: 1\nwindows:\n  daily:\n    timeZone: UTC\n    every: day\n    start: "01:00"\n    duration: 2h\nbuckets:\n  - name: everything\n    owner: ops\n    match: { labels: { simulated: "true" } }\n    strategy: { kind: in-place }\n    windows: [daily]\n';
      const applied = await applyPolicy(database.pool, { text, judgement: judgePolicy(text, { now: NOW }), author: 'cli:alice', message: 'one bucket', source: 'fleetpatch.yaml' });
      await server.policy.refresh();
      const log: string[] = [];
      await loadDemo(server, { hosts: 10, base: await collectHostFacts({ root: debianRoot() }), now: NOW, log: (message) => log.push(message) });
      expect(log[0]).toBe('demo: policy revision 1 by cli:alice stays in force; examples/fleetpatch.yaml is not applied over it');
      expect(server.policy.current.revision).toMatchObject({ revision: applied.revision.revision, author: 'cli:alice' });
      const buckets = await database.pool.query<{ bucket: string; team: string; n: number }>("SELECT bucket, team, count(*)::integer AS n FROM hosts WHERE name LIKE 'sim-%' GROUP BY bucket, team");
      expect(buckets.rows).toEqual([{ bucket: 'everything', team: 'ops', n: 10 }]);
    } finally {
      await server.stop();
      await database.drop();
    }
  }, 120_000);
});
