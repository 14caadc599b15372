/**
 * `npm run bench:compliance`: what a compliance report and a VEX export cost at fleet scale (issue
 * 11), on an embedded PostgreSQL in a temp home: BENCH_HOSTS (100,000) hosts in 6 buckets and 11
 * teams with 3 findings each (vulnerable, pending reboot, fixed and live, not running), a rollout
 * that took a third of them through their steps, and a few dozen accepted risks; then BENCH_RUNS
 * (3) reports of one team, of one advisory and of the whole fleet (the one statement, and the
 * rows made into CSV), and a fleet-wide OpenVEX export. Prints the table with the machine's cores.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { complianceReport, vexExport } from '../src/app/compliance-service.js';
import { policySchema } from '../src/domain/policy/policy-schema.js';
import { complianceCsv } from '../src/domain/reporting/compliance-report.js';
import { openDatabase } from '../src/store/database.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ADVISORIES = 60;
const NOW = new Date('2026-12-01T00:05:00Z');
const POLICY = policySchema.parse({ version: 1, buckets: [{ name: 'databases', owner: 'team-0', strategy: { kind: 'in-place' } }] });

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-compliance-'));
// Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
chmodSync(home, 0o755);
const database = await openDatabase({ home, onProgress: log });
try {
  const { pool } = database;
  log(`storing ${HOSTS} hosts with 3 findings each`);
  await pool.query(
    `INSERT INTO advisories (id, modified, published, aliases, severity, source, document)
     SELECT 'BENCH-' || n, $1, $1::timestamptz - make_interval(days => n), ARRAY['CVE-2026-' || (1000 + n)], (ARRAY['critical', 'high', 'medium', 'low'])[1 + n % 4], 'bench', '{}'::jsonb
       FROM generate_series(1, $2::integer) AS n`,
    [NOW, ADVISORIES],
  );
  await pool.query(
    `INSERT INTO package_versions (ecosystem, name, version) SELECT 'AlmaLinux:9', 'package-' || n, '1.0-' || n FROM generate_series(1, $1::integer) AS n`,
    [ADVISORIES],
  );
  await pool.query(
    `INSERT INTO hosts (name, labels, os_ecosystem, bucket, team, last_seen_at, boot_time)
     SELECT 'bench-' || n, '{}'::jsonb, 'AlmaLinux:9', (ARRAY['kubernetes-nodes', 'databases', 'stateless', 'physical', 'batch', 'edge'])[1 + n % 6], 'team-' || (n % 11),
            $1::timestamptz - make_interval(secs => (n % 7200)), $1::timestamptz - make_interval(days => (n % 40))
       FROM generate_series(1, $2::integer) AS n`,
    [NOW, HOSTS],
  );
  await pool.query(
    `INSERT INTO findings (host_key, advisory_key, package_name, package_key, fixed_version, state, first_seen_at, installed_at, resolved_at)
     SELECT h.key, a.key, p.name, p.key, '2.0-1', s.state, $1::timestamptz - make_interval(days => 10 + (h.key + k) % 50),
            CASE WHEN s.state IN ('pending-reboot', 'fixed') THEN $1::timestamptz - make_interval(days => (h.key + k) % 9) END,
            CASE WHEN s.state = 'fixed' THEN $1::timestamptz - make_interval(days => (h.key + k) % 9) END
       FROM hosts h CROSS JOIN generate_series(0, 2) AS k
       JOIN advisories a ON a.key = 1 + (h.key * 7 + k * 13) % $2
       JOIN package_versions p ON p.key = a.key
       CROSS JOIN LATERAL (SELECT (ARRAY['vulnerable', 'pending-reboot', 'fixed', 'fixed', 'not-applicable'])[1 + (h.key + k) % 5] AS state) s`,
    [NOW, ADVISORIES],
  );
  const rollout = (await pool.query<{ id: number }>(
    `INSERT INTO rollouts (bucket, team, state, wave_count, snapshot, settings, origin, created_by, created_at, updated_at, next_pass_at)
     VALUES ('databases', 'team-0', 'succeeded', 1, '[]', '{}', 'operator', 'bench', $1::timestamptz - interval '30 days', $1, $1) RETURNING id`,
    [NOW],
  )).rows[0]!.id;
  await pool.query(
    `INSERT INTO rollout_hosts (rollout_id, host, wave, position, state, state_since)
     SELECT $1, name, 1, key, 'succeeded', $2::timestamptz FROM hosts WHERE key % 3 = 0`,
    [rollout, NOW],
  );
  await pool.query(
    `INSERT INTO risk_acceptances (advisory_id, host_name, reason, accepted_by, approved_by, expires_at)
     SELECT 'CVE-2026-' || (1000 + n), CASE WHEN n % 2 = 0 THEN 'bench-' || n END, 'bench', 'alice', 'bob', $1::timestamptz + interval '30 days' FROM generate_series(1, 40) AS n`,
    [NOW],
  );
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
  const findings = (await pool.query<{ count: number }>('SELECT count(*)::integer AS count FROM findings')).rows[0]!.count;

  const noCheckpoint = async () => undefined;
  const policy = { policy: POLICY };
  const measure = async (name: string, work: () => Promise<number>) => {
    const times: number[] = [];
    let rows = 0;
    for (let run = 0; run < RUNS; run++) {
      const { ms, result } = await timed(work);
      times.push(ms);
      rows = result;
    }
    log(`${name}: ${times.map((ms) => ms.toFixed(0)).join(', ')} ms, ${rows} rows`);
    return { name: `${name} (${rows} rows)`, times };
  };
  const report = (scope: Parameters<typeof complianceReport>[1]['scope']) => complianceReport(pool, { scope, now: NOW, policy, checkpoint: noCheckpoint });
  const results = [
    await measure('report of one team', async () => (await report({ team: 'team-3' })).rows.length),
    await measure('report of one advisory (by CVE)', async () => (await report({ advisory: 'CVE-2026-1007' })).rows.length),
    await measure('report of the fleet, November', async () => (await report({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-30T23:59:59Z') })).rows.length),
    await measure('report of the fleet as CSV', async () => complianceCsv(await report({})).split('\r\n').length - 2),
    await measure('OpenVEX export of the fleet', async () => ((await vexExport(pool, { format: 'openvex', now: NOW, policy, checkpoint: noCheckpoint, author: 'bench' })) as { statements: unknown[] }).statements.length),
  ];
  const row = ({ name, times }: { name: string; times: number[] }) => {
    const sorted = [...times].sort((a, b) => a - b);
    return `| ${name.padEnd(48)} | ${sorted[0]!.toFixed(0).padStart(7)} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0).padStart(7)} | ${sorted.at(-1)!.toFixed(0).padStart(7)} |`;
  };
  process.stdout.write(`
bench:compliance — ${availableParallelism()} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${HOSTS} hosts, ${findings} findings, ${RUNS} runs (ms)

| work                                             |     min |  median |     max |
|--------------------------------------------------|---------|---------|---------|
${results.map(row).join('\n')}
`);
} finally {
  await database.close();
  rmSync(home, { recursive: true, force: true });
}
