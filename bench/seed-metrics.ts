/**
 * `npm run bench:metrics`: the cost of the seed's metrics (issue 11) at fleet scale, on an embedded
 * PostgreSQL in a temp home: BENCH_HOSTS (100,000) hosts in 6 buckets and 11 teams with
 * BENCH_FINDINGS (10) findings each over 2,000 advisories (1 in 40 critical, 1 in 50 known
 * exploited, a few accepted risks), a fifth of them fixed in the last 30 days (installed, some through a reboot), and 60
 * rollouts of 500 hosts with their events and gate measurements. Then BENCH_RUNS (5) reports over
 * 30 days (the whole fleet, and one team), and the on-call and health queries. Prints the table
 * with the machine's cores and the findings' count.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedMetricsReport } from '../src/domain/reporting/seed-metrics.js';
import { openDatabase } from '../src/store/database.js';
import { onCallSnapshot, storedHealth } from '../src/store/operations-queries.js';
import { seedMetricFacts } from '../src/store/seed-metric-queries.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ADVISORIES = 2_000;
const ROLLOUTS = 60;
const ROLLOUT_HOSTS = 500;
const NOW = new Date('2026-12-01T12:00:00Z');
const SLAS = { days: { critical: 1, high: 7, medium: 30, low: 90 }, clockStart: 'first-seen' as const };

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-metrics-'));
// Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
chmodSync(home, 0o755);
const database = await openDatabase({ home, onProgress: log });
try {
  const { pool } = database;
  log(`storing ${HOSTS} hosts, ${ADVISORIES} advisories, ${HOSTS * FINDINGS} findings`);
  await pool.query(
    `INSERT INTO hosts (name, labels, bucket, team, last_seen_at, boot_time, reboot_required, findings_digest, open_critical, open_high, pending_reboot_findings)
     SELECT 'bench-' || n, '{}'::jsonb, (ARRAY['kubernetes-nodes', 'databases', 'stateless', 'physical', 'batch', 'edge'])[1 + n % 6], 'team-' || (n % 11),
            $1::timestamptz - make_interval(secs => (n % 7200)), $1::timestamptz - make_interval(days => (n % 400)), n % 13 = 0, 'digest',
            (n % 97 = 0)::int, n % 4, (n % 13 = 0)::int
       FROM generate_series(1, $2::integer) AS n`,
    [NOW, HOSTS],
  );
  await pool.query(
    `INSERT INTO advisories (id, modified, published, aliases, severity, source, document)
     SELECT 'BENCH-' || n, $1::timestamptz, $1::timestamptz - make_interval(days => n % 300), ARRAY['CVE-2026-' || n],
            CASE WHEN n % 40 = 0 THEN 'critical' WHEN n % 40 < 10 THEN 'high' WHEN n % 40 < 24 THEN 'medium' ELSE 'low' END, 'bench', '{}'::jsonb
       FROM generate_series(1, $2::integer) AS n`,
    [NOW, ADVISORIES],
  );
  await pool.query("INSERT INTO kev_entries (cve_id, date_added, due_date) SELECT 'CVE-2026-' || n, '2026-11-01', '2026-11-15' FROM generate_series(1, $1::integer, 50) AS n", [ADVISORIES]);
  await pool.query("INSERT INTO risk_acceptances (advisory_id, reason, accepted_by, expires_at) SELECT 'BENCH-' || n, 'bench', 'bench', $1::timestamptz + interval '30 days' FROM generate_series(3, 60, 3) AS n", [NOW]);
  // Every fifth finding was fixed in the last 30 days (a third of those through a reboot: installed before it went live).
  await pool.query(
    `INSERT INTO findings (host_key, advisory_key, package_name, package_key, state, first_seen_at, installed_at, resolved_at)
     SELECT h, a, 'pkg-' || f, f, CASE WHEN fixed THEN 'fixed' WHEN f % 17 = 0 THEN 'pending-reboot' ELSE 'vulnerable' END,
            first_seen, CASE WHEN fixed THEN first_seen + make_interval(hours => 2 + f % 40) WHEN f % 17 = 0 THEN first_seen + interval '1 day' END,
            CASE WHEN fixed THEN first_seen + make_interval(hours => 2 + f % 40 + (f % 3) * 12) END
       FROM (SELECT h, f, 1 + (h * 7 + f * 131) % ${ADVISORIES} AS a, (h + f) % 5 = 0 AS fixed,
                    $1::timestamptz - make_interval(days => 2 + (h + f * 3) % 25) AS first_seen
               FROM generate_series(1, $2::integer) AS h, generate_series(1, $3::integer) AS f) AS x`,
    [NOW, HOSTS, FINDINGS],
  );
  log('storing rollouts');
  await pool.query(
    `INSERT INTO rollouts (bucket, team, state, wave_count, current_wave, snapshot, settings, origin, created_by, created_at, updated_at, finished_at, next_pass_at)
     SELECT (ARRAY['kubernetes-nodes', 'databases', 'stateless', 'physical', 'batch', 'edge'])[1 + r % 6], 'team-' || (r % 11),
            CASE WHEN r % 10 = 0 THEN 'halted' WHEN r % 4 = 0 THEN 'completed-with-errors' ELSE 'succeeded' END, 3, 3, '{}', '{}', 'schedule', 'bench',
            $1::timestamptz - make_interval(days => r % 28), $1::timestamptz - make_interval(days => r % 28),
            CASE WHEN r % 10 <> 0 THEN $1::timestamptz - make_interval(days => r % 28) + interval '5 hours' END, $1::timestamptz
       FROM generate_series(1, $2::integer) AS r`,
    [NOW, ROLLOUTS],
  );
  await pool.query(
    `INSERT INTO rollout_hosts (rollout_id, host, wave, position, state, state_since)
     SELECT r, 'bench-' || (1 + ((r - 1) * $2::integer + p) % $3::integer), 1 + (p * 3) / $2::integer, p,
            CASE WHEN p % 97 = 0 THEN 'rolled-back' WHEN p % 89 = 0 THEN 'failed' ELSE 'succeeded' END, $1::timestamptz
       FROM generate_series(1, $4::integer) AS r, generate_series(0, $2::integer - 1) AS p`,
    [NOW, ROLLOUT_HOSTS, HOSTS, ROLLOUTS],
  );
  await pool.query(
    `INSERT INTO rollout_events (rollout_id, at, host, kind, from_state, to_state)
     SELECT rollout_id, $1::timestamptz - interval '1 day' + make_interval(mins => step * 10), host, 'host', NULL,
            CASE step WHEN 1 THEN 'applying' WHEN 2 THEN 'post-check' ELSE state END
       FROM rollout_hosts, generate_series(1, 3) AS step ORDER BY rollout_id, host, step`,
    [NOW],
  );
  await pool.query(
    `INSERT INTO gate_measurements (rollout_id, gate, wave, host, taken_at, phase, detail)
     SELECT rollout_id, 'error-rate', wave, host, $1::timestamptz - interval '1 day', CASE WHEN position % 31 = 0 THEN 'inconclusive' ELSE 'successful' END,
            CASE WHEN position % 31 = 0 THEN '{"detail":"no data: the query returned no samples"}'::jsonb ELSE '{"detail":"ok"}'::jsonb END
       FROM rollout_hosts`,
    [NOW],
  );
  for (const table of ['hosts', 'advisories', 'findings', 'rollouts', 'rollout_hosts', 'rollout_events', 'gate_measurements']) await pool.query(`VACUUM ANALYZE ${table}`);
  await pool.query('CHECKPOINT');

  const options = { now: NOW, days: 30, staleAfterSeconds: 3600, slas: SLAS };
  const fleet: number[] = [];
  const team: number[] = [];
  let rows = 0;
  let report: ReturnType<typeof seedMetricsReport> | undefined;
  for (let run = 0; run < RUNS; run++) {
    fleet.push(await timed(async () => {
      const facts = await seedMetricFacts(pool, options);
      rows = facts.length;
      report = seedMetricsReport(facts, options);
    }));
    team.push(await timed(async () => seedMetricsReport(await seedMetricFacts(pool, { ...options, team: 'team-3' }), options)));
    log(`report ${run + 1}/${RUNS}: fleet ${fleet.at(-1)!.toFixed(0)} ms, one team ${team.at(-1)!.toFixed(0)} ms`);
  }
  const onCall: number[] = [];
  const health: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    onCall.push(await timed(() => onCallSnapshot(pool, options)));
    health.push(await timed(() => storedHealth(pool, options)));
  }
  const findings = (await pool.query<{ n: number }>('SELECT count(*)::integer AS n FROM findings')).rows[0]!.n;

  const row = (name: string, times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return `| ${name.padEnd(52)} | ${sorted[0]!.toFixed(0).padStart(7)} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0).padStart(7)} | ${sorted.at(-1)!.toFixed(0).padStart(7)} |`;
  };
  const values = report!.fleet;
  process.stdout.write(`
bench:metrics — ${availableParallelism()} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${RUNS} runs (ms)

| work                                                 |     min |  median |     max |
|------------------------------------------------------|---------|---------|---------|
${row(`seed metrics, ${HOSTS} hosts, ${findings} findings (${rows} fact rows)`, fleet)}
${row('seed metrics of one team', team)}
${row('on-call snapshot', onCall)}
${row('agent, feed and engine health', health)}

fleet: coverage ${values.patchCoverage.ratio?.toFixed(3)}, compliance ${values.compliancePassRate.ratio?.toFixed(3)}, ${values.timeToLive.count} fixes live (median ${values.timeToLive.median?.toFixed(1)} h), rollback rate ${values.rollbackRate.ratio?.toFixed(3)}, observability ${values.observabilityCoverage.ratio?.toFixed(3)}
`);
} finally {
  await database.close();
  rmSync(home, { recursive: true, force: true });
}
