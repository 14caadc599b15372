// `fleetpatch policy …` as users run it, against a real PostgreSQL: compiler-style problem lines and
// exit codes, window occurrences with DST notes, apply/history/show/diff with audit entries, a
// malformed policy that changes nothing, and stored hosts' ownership following the applied policy.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const POLICY_V1 = `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "03:00", duration: 2h }
buckets:
  - name: databases
    owner: data-platform
    match:
      expressions: [{ key: role, operator: in, values: [postgres, mysql] }]
    strategy: { kind: in-place }
    windows: [nightly]
  - name: debian-hosts
    owner: platform
    match: { os: { family: debian } }
    strategy: { kind: in-place }
    windows: [nightly]
fallback: { bucket: leftovers, owner: sre }
`;
const POLICY_V2 = POLICY_V1.replace('owner: data-platform', 'owner: dba');

describe('fleetpatch policy', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let directory: string;
  const file = (name: string, text: string) => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };
  const hosts = async () => Object.fromEntries((await database.pool.query<{ name: string; bucket: string; team: string }>('SELECT name, bucket, team FROM hosts ORDER BY name')).rows.map((row) => [row.name, `${row.bucket}/${row.team}`]));
  const revisions = async () => (await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM policy_revisions')).rows[0]!.count;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString, USER: 'alice' };
    directory = mkdtempSync(join(tmpdir(), 'fleetpatch-policy-'));
    // Stored hosts as check-ins leave them (label-based ownership before any policy).
    await database.pool.query(`INSERT INTO hosts (name, labels, os_id, os_id_like, os_version, bucket, team) VALUES
      ('pg-1', '{"role":"postgres"}', 'debian', '[]', '12', 'unassigned', 'unowned'),
      ('web-1', '{"role":"web"}', 'ubuntu', '["debian"]', '24.04', 'unassigned', 'unowned'),
      ('alma-1', '{"role":"batch"}', 'almalinux', '["rhel","centos","fedora"]', '9.4', 'physical', 'infra')`);
  });
  afterAll(async () => database.drop());

  it('checks the example fleet clean', async () => {
    const result = await runCli(['policy', 'check', 'examples/fleetpatch.yaml']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/examples\/fleetpatch\.yaml: ok \(4 buckets, 4 windows\)/);
  });

  it('prints every problem as FILE:LINE:COLUMN: level: field: message and exits 2 on errors', async () => {
    const bad = file('bad.yaml', POLICY_V1.replace('    strategy: { kind: in-place }\n    windows: [nightly]\n  - name: debian', '    stratgy: { kind: in-place }\n    windows: [nightly]\n  - name: debian').replace('duration: 2h', 'duration: 2 hours'));
    const result = await runCli(['policy', 'check', bad]);
    expect(result.code).toBe(2);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: (error|warning): `));
    expect(result.stdout).toContain(`${bad}:9:5: error: buckets[0].stratgy: unknown key "stratgy"; did you mean "strategy"?`);
    expect(result.stdout).toMatch(/:3:\d+: error: windows\.nightly\.duration: /);

    const json = await runCli(['policy', 'check', bad, '--json']);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout) as { ok: boolean; errors: number; issues: Array<{ level: string; line: number; column: number; field: string }> };
    expect(report.ok).toBe(false);
    expect(report.issues.find((issue) => issue.field === 'buckets[0].stratgy')).toMatchObject({ level: 'error', line: 9, column: 5 });
  });

  it('exits 0 with only warnings, 1 under --strict, and checks the stored fleet with --against-fleet', async () => {
    // A catch-all first bucket shadows the second (a warning), and alma-1 matches no bucket.
    const shadowed = file('shadowed.yaml', POLICY_V1.replace("match: { os: { family: debian } }", "match: { expressions: [{ key: role, operator: in, values: [postgres, mysql] }] }"));
    const plain = await runCli(['policy', 'check', shadowed]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/shadowed\.yaml:\d+:\d+: warning: buckets\[1\]\.match: bucket debian-hosts can never match a host/);
    expect((await runCli(['policy', 'check', shadowed, '--strict'])).code).toBe(1);

    const fleet = await runCli(['policy', 'check', file('fleet.yaml', POLICY_V1), '--against-fleet'], env);
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(fleet.stdout).toMatch(/fleet\.yaml:\d+:\d+: warning: buckets: 1 of 3 hosts match no bucket and fall to leftovers \(alma-1\)/);
  });

  it('lists window occurrences in local time and UTC, noting DST gaps', async () => {
    const policy = file('dst.yaml', POLICY_V1.replace('nightly: { timeZone: UTC, every: day, start: "03:00", duration: 2h }', 'nightly: { timeZone: America/New_York, every: day, start: "02:30", duration: 2h, admissionCutoff: 30m }'));
    const table = await runCli(['policy', 'windows', policy, '--from', '2026-03-07T00:00:00Z', '--count', '3']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^WINDOW\s+ZONE\s+LOCAL START\s+LOCAL END\s+UTC START\s+UTC END\s+ADMITS UNTIL \(UTC\)\s+NOTE/);
    expect(table.stdout).toMatch(/nightly\s+America\/New_York\s+2026-03-08T03:00-04:00\s+2026-03-08T05:00-04:00\s+2026-03-08T07:00Z\s+2026-03-08T09:00Z\s+2026-03-08T08:30Z\s+DST gap: 02:30 does not exist on 2026-03-08/);
    const json = await runCli(['policy', 'windows', policy, '--from', '2026-03-07T00:00:00Z', '--count', '2', '--window', 'nightly', '--json']);
    const [window] = JSON.parse(json.stdout) as Array<{ name: string; occurrences: Array<{ start: string; localStart: string; transition?: string }> }>;
    expect(window!.occurrences.map((occurrence) => [occurrence.localStart, occurrence.start, occurrence.transition])).toEqual([
      ['2026-03-07T02:30-05:00', '2026-03-07T07:30:00.000Z', undefined],
      ['2026-03-08T03:00-04:00', '2026-03-08T07:00:00.000Z', 'gap'],
    ]);
    const unknown = await runCli(['policy', 'windows', policy, '--window', 'nightyl']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no window named "nightyl".*did you mean "nightly"/);
  });

  it('refuses a malformed policy whole: no revision, no host moves', async () => {
    const before = await hosts();
    const result = await runCli(['policy', 'apply', file('broken.yaml', POLICY_V1.replace('owner: platform', 'owner: [platform]'))], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.yaml:\d+:\d+: error: buckets\[1\]\.owner: /);
    expect(result.stderr).toMatch(/not applied; nothing was stored/);
    expect(await revisions()).toBe(0);
    expect(await hosts()).toEqual(before);
  });

  it('applies revisions with hash, author, message and diff, audited; identical content is a no-op; hosts follow', async () => {
    const v1 = file('fleetpatch.yaml', POLICY_V1);
    const first = await runCli(['policy', 'apply', v1, '--message', 'first policy'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied .*fleetpatch\.yaml as revision 1 \([0-9a-f]{12}\); 3 of 3 hosts changed bucket or team/);
    expect(await hosts()).toEqual({ 'alma-1': 'leftovers/sre', 'pg-1': 'databases/data-platform', 'web-1': 'debian-hosts/platform' });

    const again = await runCli(['policy', 'apply', v1], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is identical to revision 1 .*nothing stored/);
    expect(await revisions()).toBe(1);

    writeFileSync(v1, POLICY_V2);
    const second = await runCli(['policy', 'apply', v1, '--message', 'dba owns the databases'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/as revision 2 .*; 1 of 3 hosts changed/);
    expect((await hosts())['pg-1']).toBe('databases/dba');

    const history = JSON.parse((await runCli(['policy', 'history', '--json'], env)).stdout) as Array<{ revision: number; author: string; message: string; contentHash: string }>;
    expect(history.map((revision) => [revision.revision, revision.author, revision.message])).toEqual([[2, 'cli:alice', 'dba owns the databases'], [1, 'cli:alice', 'first policy']]);
    expect(history[0]!.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const table = await runCli(['policy', 'history'], env);
    expect(table.stdout).toMatch(/^REV\s+APPLIED \(UTC\)\s+AUTHOR\s+SOURCE\s+HASH\s+MESSAGE\n\s*2\s/);

    const diff = await runCli(['policy', 'diff'], env);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('--- revision 1');
    expect(diff.stdout).toContain('+++ revision 2');
    expect(diff.stdout).toContain('-    owner: data-platform\n+    owner: dba\n');
    const backwards = await runCli(['policy', 'diff', '2', '1'], env);
    expect(backwards.stdout).toContain('-    owner: dba\n+    owner: data-platform\n');
    const againstFile = await runCli(['policy', 'diff', file('next.yaml', POLICY_V2.replace('start: "03:00"', 'start: "04:00"'))], env);
    expect(againstFile.stdout).toMatch(/-[^\n]*start: "04:00"[^\n]*\n\+[^\n]*start: "03:00"/);

    const shown = await runCli(['policy', 'show', '--revision', '1'], env);
    expect(shown.stdout).toBe(POLICY_V1);
    expect((await runCli(['policy', 'show'], env)).stdout).toBe(readFileSync(v1, 'utf8'));
    expect((await runCli(['policy', 'show', '--revision', '9'], env)).code).toBe(2);

    const audit = await database.pool.query<{ entry: string }>("SELECT entry FROM audit_log WHERE action = 'policy.applied' ORDER BY seq");
    expect(audit.rows.map((row) => JSON.parse(row.entry) as { actor: string; subject: string; reason?: string })).toMatchObject([
      { actor: 'cli:alice', subject: 'policy-revision:1', reason: 'first policy' },
      { actor: 'cli:alice', subject: 'policy-revision:2', reason: 'dba owns the databases' },
    ]);
  });
});
