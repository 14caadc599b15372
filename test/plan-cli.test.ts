// `fleetpatch plan` on a real PostgreSQL: real AlmaLinux hosts and advisories, the seed's policy,
// a fixed clock. The slots follow the databases' Tue/Thu evening window in Berlin; explain, CSV
// and the what-if read the same plan; bad input is exit 2 naming the option.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { repoRoot, sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const POLICY = `${repoRoot}/examples/fleetpatch.yaml`;
const FROM = '2026-12-01T12:00:00Z';

describe('fleetpatch plan', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
    expect((await runCli(['advisories', 'import', sharedData('osv/almalinux/almalinux9.zip')], env)).code).toBe(0);
    for (const host of ['pg-1', 'pg-2']) {
      const imported = await runCli(['inventory', 'import', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--host', host, '--distro', 'almalinux:9', '--running-kernel', '5.14.0-284.11.1.el9_2.x86_64', '--label', 'bucket=databases', '--label', 'team=data-platform', '--label', 'role=postgres'], env);
      expect(imported.code, imported.stderr).toBe(0);
    }
    // Seen just before the plan's clock, so the agents count as fresh.
    await database.pool.query('UPDATE hosts SET last_seen_at = $1', [new Date(Date.parse(FROM) - 60_000)]);
    // Found a month before the plan's clock: the high and medium findings' SLAs (7 and 30 days) have run out.
    await database.pool.query("UPDATE findings SET first_seen_at = '2026-11-01T00:00:00Z'");
  }, 120_000);
  afterAll(async () => database?.drop());

  it('needs a policy: an applied one or --policy FILE', async () => {
    const result = await runCli(['plan'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/field --policy: no policy has been applied/);
  });

  it('schedules both database hosts in the next evening windows, one wave each, and counts what will breach', async () => {
    const result = await runCli(['plan', '--policy', POLICY, '--from', FROM, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as { hosts: Array<{ host: string; status: string; slot: { window: string; wave: number; expectedStart: string }; changes: unknown[]; willReboot: boolean }>; buckets: Array<{ name: string; hostsToPatch: number; predictedBreaches: number; breached: number; openFindings: number }>; findings: Array<{ severity: string; dueAt?: string; predictedBreach: boolean }>; rollouts: Array<{ bucket: string; occurrenceStart: string }> };
    expect(plan.hosts.map((host) => [host.host, host.status, host.slot.window, host.slot.wave, host.slot.expectedStart])).toEqual([
      ['pg-1', 'scheduled', 'database-evenings', 1, '2026-12-01T21:00:00.000Z'],
      ['pg-2', 'scheduled', 'database-evenings', 2, '2026-12-03T21:00:00.000Z'],
    ]);
    // The 9.2 package list is years behind: hundreds of package changes, and a kernel, so each host reboots.
    expect(plan.hosts[0]!.changes.length).toBeGreaterThan(100);
    expect(plan.hosts[0]!.willReboot).toBe(true);
    const databases = plan.buckets.find((bucket) => bucket.name === 'databases')!;
    expect(databases.hostsToPatch).toBe(2);
    const findings = await database.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM findings WHERE state IN ('vulnerable', 'pending-reboot')");
    expect(databases.openFindings).toBe(findings.rows[0]!.n);
    // Every high finding was due on 11-08 and will be late; every finding with an SLA that ran out is counted as breached.
    const high = plan.findings.filter((finding) => finding.severity === 'high');
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((finding) => finding.dueAt === '2026-11-08T00:00:00.000Z' && finding.predictedBreach)).toBe(true);
    expect(databases.breached).toBe(plan.findings.filter((finding) => finding.dueAt !== undefined && finding.dueAt <= FROM.replace('Z', '.000Z')).length);
    expect(databases.predictedBreaches).toBe(plan.findings.filter((finding) => finding.predictedBreach).length);
    expect(plan.rollouts.map((rollout) => rollout.occurrenceStart)).toEqual(['2026-12-01T21:00:00.000Z', '2026-12-03T21:00:00.000Z']);
  });

  it('shows the same plan as a table, as CSV, and explained for one host', async () => {
    const table = await runCli(['plan', '--policy', POLICY, '--from', FROM], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/databases\s+2\s+2\s+2\s+0\s+2026-12-03 21:30/);
    const csv = await runCli(['plan', '--policy', POLICY, '--from', FROM, '--csv'], env);
    expect(csv.stdout.split('\r\n')[0]).toBe('host,bucket,team,status,reason,window,wave,expected_start,expected_finish,will_reboot,changes');
    expect(csv.stdout.split('\r\n')[1]).toMatch(/^pg-1,databases,data-platform,scheduled,,database-evenings,1,2026-12-01T21:00:00.000Z,2026-12-01T21:30:00.000Z,true,/);
    const explained = await runCli(['plan', 'explain', 'pg-2', '--policy', POLICY, '--from', FROM], env);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('pg-2 (databases, owned by data-platform): scheduled');
    expect(explained.stdout).toContain('wave 2, expected 2026-12-03 21:00 – 2026-12-03 21:30 UTC, reboots');
    expect(explained.stdout).toMatch(/kernel-core 5\.14\.0-284\.11\.1\.el9_2 → /);
    expect(explained.stdout).toMatch(/emergency/);
  });

  it('answers the what-if for a package the hosts run, on both paths', async () => {
    const result = await runCli(['plan', '--policy', POLICY, '--what-if', `package=openssl,severity=critical,at=${FROM}`, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { emergencyApplies: boolean; buckets: Array<{ bucket: string; affectedHosts: number; routine: { liveBy: string }; emergency: { liveBy: string } }> };
    expect(answer.emergencyApplies).toBe(true);
    // Routine: the two evening windows. Emergency: from publication, one at a time, 30 min soak between the waves.
    expect(answer.buckets).toEqual([{ bucket: 'databases', owner: 'data-platform', affectedHosts: 2, routine: { liveBy: '2026-12-03T21:30:00.000Z', patchedBy: '2026-12-03T21:30:00.000Z', unscheduled: 0 }, emergency: { liveBy: '2026-12-01T13:30:00.000Z', patchedBy: '2026-12-01T13:30:00.000Z', unscheduled: 0 } }]);
  });

  it('plans with the applied policy, whose bucket criticality also raises the findings\' risk scores', async () => {
    const applied = await runCli(['policy', 'apply', POLICY, '--message', 'the seed fleet'], env);
    expect(applied.code, applied.stderr).toBe(0);
    const plan = JSON.parse((await runCli(['plan', '--from', FROM, '--json'], env)).stdout) as { hosts: Array<{ host: string; bucket: string; status: string }> };
    expect(plan.hosts.map((host) => [host.host, host.bucket, host.status])).toEqual([['pg-1', 'databases', 'scheduled'], ['pg-2', 'databases', 'scheduled']]);
    const findings = JSON.parse((await runCli(['findings', '--host', 'pg-1', '--severity', 'high', '--limit', '1', '--json'], env)).stdout) as Array<{ riskScore: number; riskExplanation: string[] }>;
    expect(findings[0]!.riskExplanation).toContain('critical criticality bucket: +10');
    // An imported inventory is filed by the applied policy too: role=k8s-node is a Kubernetes node whatever its labels say.
    const imported = await runCli(['inventory', 'import', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--host', 'node-1', '--distro', 'almalinux:9', '--label', 'role=k8s-node', '--label', 'bucket=databases'], env);
    expect(imported.code, imported.stderr).toBe(0);
    const owner = await database.pool.query<{ bucket: string; team: string }>("SELECT bucket, team FROM hosts WHERE name = 'node-1'");
    expect(owner.rows[0]).toEqual({ bucket: 'kubernetes-nodes', team: 'platform' });
  });

  it('refuses bad options with exit 2, naming them', async () => {
    for (const [args, message] of [
      [['plan', '--policy', POLICY, '--from', '2026-13-01T00:00:00Z'], /--from: month 13/],
      [['plan', '--policy', POLICY, '--what-if', 'severity=critical'], /--what-if: the what-if needs package=NAME/],
      [['plan', '--policy', POLICY, '--what-if', 'package=x,sev=high'], /unknown what-if field "sev"/],
      [['plan', 'explain', 'nobody', '--policy', POLICY], /no host named "nobody"/],
    ] as const) {
      const result = await runCli([...args], env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
