// The planner on the seed's own policy (examples/fleetpatch.yaml) and a hand-built fleet, at a
// fixed clock: Tuesday 2026-12-01 12:00 UTC. Every expected slot below is worked out by hand from
// the policy's windows, waves, in-flight limits, soak, approval and freezes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../policy/policy-document.js';
import type { Policy } from '../policy/policy-schema.js';
import { planFleet } from './planner.js';
import type { PlanFinding, PlanHost } from './plan-types.js';
import { whatIf } from './what-if.js';

const policy = parsePolicy(readFileSync(new URL('../../../examples/fleetpatch.yaml', import.meta.url), 'utf8'), 'examples/fleetpatch.yaml');
const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const options = { now: NOW, staleAfterMs: 2 * HOUR };

function finding(overrides: Partial<PlanFinding> = {}): PlanFinding {
  return {
    advisoryId: 'DSA-1-1',
    severity: 'high',
    packageName: 'openssl',
    ecosystem: 'Debian:12',
    installedVersion: '3.0.14-1~deb12u1',
    fixedVersion: '3.0.15-1~deb12u1',
    state: 'vulnerable',
    firstSeenAt: new Date('2026-11-30T00:00:00Z'),
    knownExploited: false,
    needsReboot: false,
    ...overrides,
  };
}

function host(name: string, bucket: string, team: string, overrides: Partial<PlanHost> = {}): PlanHost {
  return { name, bucket, team, labels: {}, lastSeenAt: new Date(NOW.getTime() - 60_000), rebootRequired: false, findings: [finding()], availableUpdates: [], ...overrides };
}

const at = (iso: string) => new Date(iso);

describe('planner', () => {
  it('schedules databases one at a time, one wave per evening (promotion needs approval), inside the admission cutoff', () => {
    // database-evenings: Tue/Thu 22:00 Europe/Berlin (21:00 UTC), 3 h, cutoff 30 min → admits until 22:30 UTC.
    // A host needs 25 min + a 5 min reboot timeout = 30 min; waves [1, 1, 50%, 100%] of 4 hosts = 1, 1, 2.
    const hosts = ['db-1', 'db-2', 'db-3', 'db-4'].map((name) => host(name, 'databases', 'data-platform'));
    const plan = planFleet(policy, hosts, options);
    const slots = Object.fromEntries(plan.hosts.map((item) => [item.host, [item.slot?.wave, item.slot?.expectedStart.toISOString(), item.slot?.expectedFinish.toISOString()]]));
    expect(slots).toEqual({
      'db-1': [1, '2026-12-01T21:00:00.000Z', '2026-12-01T21:30:00.000Z'],
      'db-2': [2, '2026-12-03T21:00:00.000Z', '2026-12-03T21:30:00.000Z'],
      'db-3': [3, '2026-12-08T21:00:00.000Z', '2026-12-08T21:30:00.000Z'],
      'db-4': [3, '2026-12-08T21:30:00.000Z', '2026-12-08T22:00:00.000Z'],
    });
    expect(plan.rollouts.filter((rollout) => rollout.bucket === 'databases').map((rollout) => [rollout.occurrenceStart.toISOString(), rollout.waves])).toEqual([
      ['2026-12-01T21:00:00.000Z', [{ wave: 1, hosts: ['db-1'] }]],
      ['2026-12-03T21:00:00.000Z', [{ wave: 2, hosts: ['db-2'] }]],
      ['2026-12-08T21:00:00.000Z', [{ wave: 3, hosts: ['db-3', 'db-4'] }]],
    ]);
    expect(plan.hosts[0]!.changes).toEqual([{ packageName: 'openssl', ecosystem: 'Debian:12', from: '3.0.14-1~deb12u1', to: '3.0.15-1~deb12u1', because: 'advisory', advisories: ['DSA-1-1'] }]);
  });

  it('keeps Kubernetes nodes at 10% in flight with a soak between waves, inside 03:00–03:50 UTC', () => {
    // 20 nodes → 2 in flight; a node needs 12 min + a 10 min reboot timeout = 22 min; waves 1, 2, then 17.
    const hosts = Array.from({ length: 20 }, (_, index) => host(`node-${String(index).padStart(2, '0')}`, 'kubernetes-nodes', 'platform'));
    const plan = planFleet(policy, hosts, options);
    const byHost = new Map(plan.hosts.map((item) => [item.host, item.slot!]));
    expect(byHost.get('node-00')).toMatchObject({ wave: 1, expectedStart: at('2026-12-02T03:00:00Z') });
    // Wave 2 would start after the 10 min soak at 03:32 and end at 03:54, past the cutoff: the next night.
    expect([byHost.get('node-01'), byHost.get('node-02')].map((slot) => [slot!.wave, slot!.expectedStart.toISOString()])).toEqual([[2, '2026-12-03T03:00:00.000Z'], [2, '2026-12-03T03:00:00.000Z']]);
    // Then 4 a night (two lanes, 03:00 and 03:22) for the 17 left: 12-04 … 12-07 take 16, 12-08 the last.
    const nights = new Map<string, number>();
    for (const slot of byHost.values()) if (slot.wave === 3) nights.set(slot.occurrenceStart.toISOString().slice(0, 10), (nights.get(slot.occurrenceStart.toISOString().slice(0, 10)) ?? 0) + 1);
    expect(Object.fromEntries(nights)).toEqual({ '2026-12-04': 4, '2026-12-05': 4, '2026-12-06': 4, '2026-12-07': 4, '2026-12-08': 1 });
    expect(plan.buckets.find((bucket) => bucket.name === 'kubernetes-nodes')).toMatchObject({ hosts: 20, hostsToPatch: 20, scheduled: 20, forecastCompletion: at('2026-12-08T03:22:00Z') });
  });

  it('admits nothing during a freeze and says why a host waits', () => {
    const christmas = { ...options, now: new Date('2026-12-23T12:00:00Z') };
    const node = host('node-1', 'kubernetes-nodes', 'platform', { lastSeenAt: new Date('2026-12-23T11:55:00Z') });
    const plan = planFleet(policy, [node], christmas);
    // holidays: 12-24 … 12-26 (UTC): the nights of the 24th, 25th and 26th are frozen.
    expect(plan.hosts[0]!.slot!.expectedStart).toEqual(at('2026-12-27T03:00:00Z'));
    const frozenHorizon = planFleet(policy, [node], { ...christmas, horizonDays: 3 });
    expect(frozenHorizon.hosts[0]).toMatchObject({ status: 'not-scheduled', reason: 'freeze', detail: 'in the freeze holidays until 2026-12-27T00:00:00.000Z' });
  });

  it('does not schedule hosts whose agent is stale where the agent does the work, and says since when', () => {
    const staleNode = planFleet(policy, [host('node-9', 'kubernetes-nodes', 'platform', { lastSeenAt: new Date('2026-11-30T00:00:00Z') })], options);
    expect(staleNode.hosts[0]).toMatchObject({ status: 'not-scheduled', reason: 'stale-agent', detail: 'its agent was last seen 2026-11-30T00:00:00.000Z' });
    // The databases' executor is the command hook, run where the server runs: it can act on a stale host.
    const staleDatabase = planFleet(policy, [host('db-9', 'databases', 'data-platform', { lastSeenAt: new Date('2026-11-30T00:00:00Z') })], options);
    expect(staleDatabase.hosts[0]!.status).toBe('scheduled');
  });

  it('announces manual windows 14 days ahead, so the next physical window it can take is the one after', () => {
    // monthly-physical: the Saturday after the second Tuesday, 08:00 New York. December 2026: Tuesday 8 + 4 = Saturday 12,
    // less than 14 days away; January 2027: Tuesday 12 + 4 = Saturday 16, 13:00 UTC.
    const plan = planFleet(policy, [host('colo-1', 'physical', 'infrastructure', { labels: { location: 'colo' } })], { ...options, horizonDays: 60 });
    expect(plan.hosts[0]!.slot).toMatchObject({ window: 'monthly-physical', expectedStart: at('2027-01-16T13:00:00Z') });
    const soon = planFleet(policy, [host('colo-1', 'physical', 'infrastructure')], { ...options, horizonDays: 30 });
    expect(soon.hosts[0]).toMatchObject({ status: 'not-scheduled', reason: 'awaiting-notice' });
  });

  it('dates every finding: SLA due, forecast installed and live, predicted breaches; emergencies take the faster path', () => {
    const hosts = [
      host('db-1', 'databases', 'data-platform', {
        findings: [
          finding({ advisoryId: 'DSA-HIGH', severity: 'high', firstSeenAt: new Date('2026-11-20T00:00:00Z') }),
          finding({ advisoryId: 'DSA-CRIT', severity: 'critical', packageName: 'libssl3', firstSeenAt: NOW }),
          finding({ advisoryId: 'DSA-KERNEL', severity: 'medium', packageName: 'linux-image-6.1.0-18-amd64', state: 'pending-reboot', needsReboot: true, firstSeenAt: new Date('2026-11-25T00:00:00Z') }),
        ],
      }),
    ];
    const plan = planFleet(policy, hosts, options);
    const byAdvisory = Object.fromEntries(plan.findings.list().map((item) => [item.advisoryId, item]));
    // high: due 7 days after 11-20 = 11-27, already past; fixed tonight at 21:30 → breach predicted (and breached).
    expect(byAdvisory['DSA-HIGH']).toMatchObject({ dueAt: at('2026-11-27T00:00:00Z'), installedAt: at('2026-12-01T21:30:00Z'), liveAt: at('2026-12-01T21:30:00Z'), predictedBreach: true, emergency: false });
    // critical: due in 1 day; the emergency path starts now (windows relaxed), done by 12:30.
    expect(byAdvisory['DSA-CRIT']).toMatchObject({ dueAt: at('2026-12-02T12:00:00Z'), liveAt: at('2026-12-01T12:30:00Z'), predictedBreach: false, emergency: true });
    // pending reboot: installed when first seen, live when the host reboots in its slot (the emergency one here).
    expect(byAdvisory['DSA-KERNEL']).toMatchObject({ installedAt: at('2026-11-25T00:00:00Z'), liveAt: at('2026-12-01T12:30:00Z') });
    expect(plan.hosts[0]!.willReboot).toBe(true);
    expect(plan.teams).toEqual([expect.objectContaining({ name: 'data-platform', openFindings: 3, breached: 1, predictedBreaches: 1 })]);
  });

  it('makes forecast objects only for what is asked: a host, the ones a test picks, a narrowed view', () => {
    const hosts = [
      host('db-1', 'databases', 'data-platform', { findings: [finding({ advisoryId: 'DSA-OLD', severity: 'high', firstSeenAt: new Date('2026-11-20T00:00:00Z') }), finding({ advisoryId: 'DSA-NEW', severity: 'low', firstSeenAt: NOW })] }),
      host('web-1', 'stateless', 'web', { findings: [finding({ advisoryId: 'DSA-WEB', severity: 'medium', firstSeenAt: NOW })] }),
    ];
    const plan = planFleet(policy, hosts, options);
    expect(plan.findings.length).toBe(3);
    expect(plan.findings.forHost('db-1').map((item) => item.advisoryId)).toEqual(['DSA-OLD', 'DSA-NEW']);
    expect(plan.findings.forHost('nobody')).toEqual([]);
    expect(plan.findings.where((times) => times.predictedBreach).map((item) => item.advisoryId)).toEqual(['DSA-OLD']);
    expect([...plan.findings]).toEqual(plan.findings.list());
    const web = plan.findings.narrow((hostPlan) => hostPlan.team === 'web');
    expect(web.length).toBe(1);
    expect(JSON.parse(JSON.stringify({ findings: web }))).toEqual({ findings: [expect.objectContaining({ host: 'web-1', advisoryId: 'DSA-WEB' })] });
    expect(web.forHost('db-1')).toEqual([]);
  });

  it('never counts a pending-reboot fix as live where the policy never reboots', () => {
    const noReboot: Policy = { ...policy, buckets: policy.buckets.map((bucket) => (bucket.name === 'stateless' ? { ...bucket, reboot: { ...bucket.reboot, policy: 'never' } } : bucket)) };
    const plan = planFleet(noReboot, [host('web-1', 'stateless', 'web', { rebootRequired: true, findings: [finding({ state: 'pending-reboot', needsReboot: true, severity: 'low', firstSeenAt: NOW })] })], options);
    expect(plan.hosts[0]).toMatchObject({ status: 'up-to-date', willReboot: false });
    expect(plan.findings.list()[0]).toMatchObject({ installedAt: NOW, predictedBreach: false });
    expect(plan.findings.list()[0]!.liveAt).toBeUndefined();
  });

  it('takes the canonical patch level from baselines: the highest fix, exact versions, latest after its cooldown, never a rejected one', () => {
    const withBaselines = parsePolicy(`${readFileSync(new URL('../../../examples/fleetpatch.yaml', import.meta.url), 'utf8').replace(/baselines:[\s\S]*?emergency:/, `baselines:
  - { package: postgresql-*, owner: data-platform, target: security }
  - { package: redis-server, owner: data-platform, target: { version: "5:7.0.15-1~deb12u1" } }
  - { package: nginx, owner: web, target: { latest: { cooldownDays: 7 } } }
  - { package: curl, owner: web, target: security, rejected: ["7.88.1-10+deb12u9"] }
emergency:`)}`, 'p.yaml');
    const plan = planFleet(withBaselines, [
      host('db-1', 'databases', 'data-platform', {
        findings: [
          finding({ advisoryId: 'A', packageName: 'postgresql-15', installedVersion: '15.6-0+deb12u1', fixedVersion: '15.7-0+deb12u1' }),
          finding({ advisoryId: 'B', packageName: 'postgresql-15', installedVersion: '15.6-0+deb12u1', fixedVersion: '15.10-0+deb12u1' }),
          finding({ advisoryId: 'C', packageName: 'curl', installedVersion: '7.88.1-10+deb12u5', fixedVersion: '7.88.1-10+deb12u9' }),
        ],
        availableUpdates: [
          { name: 'nginx', ecosystem: 'Debian:12', installedVersion: '1.22.1-9', candidateVersion: '1.22.1-9+deb12u1', availableSince: new Date('2026-11-20T00:00:00Z') },
          { name: 'nginx-common', ecosystem: 'Debian:12', installedVersion: '1.22.1-9', candidateVersion: '1.22.1-9+deb12u1', availableSince: new Date('2026-11-30T00:00:00Z') },
        ],
        baselinePackages: [{ name: 'redis-server', ecosystem: 'Debian:12', version: '5:7.0.11-1' }],
      }),
    ], options);
    expect(plan.hosts[0]!.changes.map((change) => [change.packageName, change.to, change.because])).toEqual([
      ['nginx', '1.22.1-9+deb12u1', 'baseline'],
      ['postgresql-15', '15.10-0+deb12u1', 'advisory'],
      ['redis-server', '5:7.0.15-1~deb12u1', 'baseline'],
    ]);
  });

  it('answers the what-if per bucket: routine cadence against the emergency path', () => {
    const affected = [
      ...Array.from({ length: 4 }, (_, index) => ({ name: `db-${index}`, bucket: 'databases', labels: {} })),
      ...Array.from({ length: 20 }, (_, index) => ({ name: `node-${index}`, bucket: 'kubernetes-nodes', labels: {} })),
    ];
    const answer = whatIf(policy, affected, { packageName: 'openssl', severity: 'critical', publishedAt: NOW, needsReboot: false });
    expect(answer.emergencyApplies).toBe(true);
    const databases = answer.buckets.find((bucket) => bucket.bucket === 'databases')!;
    // Routine: waves over three evenings (as above). Emergency: from publication, no window to wait for, but still
    // one host at a time in waves 1, 1, 2 with the 30 min soak after each: 12:00–12:30, 13:00–13:30, 14:00–15:00.
    expect(databases.routine.liveBy).toEqual(at('2026-12-08T22:00:00Z'));
    expect(databases.emergency!.liveBy).toEqual(at('2026-12-01T15:00:00Z'));
    expect(answer.routineLiveBy).toEqual(at('2026-12-08T22:00:00Z'));
    const notTriggered = whatIf(policy, affected, { packageName: 'zlib', severity: 'medium', publishedAt: NOW, needsReboot: false });
    expect(notTriggered.emergencyApplies).toBe(false);
    expect(notTriggered.buckets.every((bucket) => bucket.emergency === undefined)).toBe(true);
  });
});
