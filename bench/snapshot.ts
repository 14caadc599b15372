/**
 * `npm run bench:snapshot`: the cost of the daily fleet snapshot (issue 11) at fleet scale, on an
 * embedded PostgreSQL in a temp home: BENCH_HOSTS (100,000) hosts in 6 buckets and 11 teams (66 groups) with
 * open findings, fixes waiting and boot times spread as a real fleet's, then BENCH_RUNS (5)
 * snapshots of distinct days (each is one aggregate over the hosts and a few dozen rows written),
 * then the trends query over 400 days of them as the dashboard asks for 90 and 400. Prints the
 * table with the machine's cores, and the snapshot's size on disk per day.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { fleetTrends, takeFleetSnapshot } from '../src/store/fleet-snapshots.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DAY_MS = 86_400_000;
const NOW = new Date('2026-12-01T00:05:00Z');

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-snapshot-'));
// Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
chmodSync(home, 0o755);
const database = await openDatabase({ home, onProgress: log });
try {
  const { pool } = database;
  log(`storing ${HOSTS} hosts`);
  await pool.query(
    `INSERT INTO hosts (name, labels, os_id, os_id_like, os_version, bucket, team, last_seen_at, boot_time, reboot_required,
                        open_critical, open_high, open_medium, open_low, pending_reboot_findings, open_fixes, open_fix_available_day_sum, available_update_count)
     SELECT 'bench-' || n, '{}'::jsonb, 'almalinux', '["rhel"]'::jsonb, '9',
            (ARRAY['kubernetes-nodes', 'databases', 'stateless', 'physical', 'batch', 'edge'])[1 + n % 6], 'team-' || (n % 11),
            $1::timestamptz - make_interval(secs => (n % 7200)), $1::timestamptz - make_interval(days => (n % 400)), n % 13 = 0,
            (n % 97 = 0)::int, n % 4, n % 7, n % 3, (n % 13 = 0)::int, n % 11, (n % 11) * ($2::double precision - (n % 60)), 5 + n % 20
       FROM generate_series(1, $3::integer) AS n`,
    [NOW, NOW.getTime() / DAY_MS, HOSTS],
  );
  await pool.query('VACUUM ANALYZE hosts');
  await pool.query('CHECKPOINT');

  const snapshotTimes: number[] = [];
  let groups = 0;
  for (let run = 0; run < RUNS; run++) {
    const now = new Date(NOW.getTime() - run * DAY_MS);
    snapshotTimes.push(await timed(async () => {
      groups = (await takeFleetSnapshot(pool, { now, staleAfterSeconds: 3600 })).groups;
    }));
    log(`snapshot ${run + 1}/${RUNS}: ${snapshotTimes.at(-1)!.toFixed(0)} ms, ${groups} groups`);
  }
  // 400 days of history, as a server kept for 13 months would have, for the trends queries.
  await pool.query(
    `INSERT INTO fleet_snapshots SELECT (day - make_interval(days => d))::date, bucket, team, taken_at - make_interval(days => d), hosts, stale, clean, critical, high, medium, low, other,
            pending_reboots, fixes, fix_day_sum, available_updates, under7, under30, under90, under365, over365, max_uptime_days
       FROM fleet_snapshots, generate_series(${RUNS}, 399) AS d WHERE day = $1::date`,
    [NOW.toISOString().slice(0, 10)],
  );
  await pool.query('VACUUM ANALYZE fleet_snapshots');
  const size = (await pool.query<{ bytes: string; days: number }>("SELECT pg_total_relation_size('fleet_snapshots')::text AS bytes, count(DISTINCT day)::int AS days FROM fleet_snapshots")).rows[0]!;
  const trendTimes = async (days: number) => {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push(await timed(() => fleetTrends(pool, { dimension: 'team', days, until: NOW })));
    return times;
  };
  const trends90 = await trendTimes(90);
  const trends400 = await trendTimes(400);

  const row = (name: string, times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return `| ${name.padEnd(44)} | ${sorted[0]!.toFixed(0).padStart(7)} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0).padStart(7)} | ${sorted.at(-1)!.toFixed(0).padStart(7)} |`;
  };
  process.stdout.write(`
bench:snapshot — ${availableParallelism()} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${RUNS} runs (ms)

| work                                         |     min |  median |     max |
|----------------------------------------------|---------|---------|---------|
${row(`daily snapshot, ${HOSTS} hosts, ${groups} groups`, snapshotTimes)}
${row('trends per team, 90 days', trends90)}
${row('trends per team, 400 days', trends400)}

${size.days} days of snapshots take ${(Number(size.bytes) / 1024).toFixed(0)} KiB on disk (${(Number(size.bytes) / size.days / 1024).toFixed(1)} KiB a day, whatever the fleet's size).
`);
} finally {
  await database.close();
  rmSync(home, { recursive: true, force: true });
}
