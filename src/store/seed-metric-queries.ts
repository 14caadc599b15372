/**
 * The facts the seed's metrics are computed from (src/domain/reporting/seed-metrics.ts), read in
 * a few set-based statements, each aggregated in PostgreSQL per bucket × team (and per day for
 * events) so only a few hundred rows cross over whatever the fleet's size: the hosts with their
 * open findings (one pass), the fixes installed and made live in the period (another), and the
 * rollouts, their hosts, events and gate measurements of the period.
 */
import type pg from 'pg';
import { withTransaction } from './transaction.js';
import { emptyFacts, HISTOGRAM_BOUNDS, type CanaryVerdicts, type DurationHistogram, type HistogramUnit, type SeedMetricFacts } from '../domain/reporting/seed-metrics.js';
import type { Policy } from '../domain/policy/policy-schema.js';

/**
 * The hosts' statement aggregates every open finding by its host: at 100,000 hosts its sorts and
 * hash tables outgrow PostgreSQL's default 4 MB of work memory and would spill to disk.
 */
const HOST_FACTS_WORK_MEMORY = '64MB';

function withWorkMemory<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query(`SET LOCAL work_mem = '${HOST_FACTS_WORK_MEMORY}'`);
    return work(client);
  });
}

export interface SeedMetricOptions {
  now: Date;
  /** The period the event metrics look back over. */
  days: number;
  staleAfterSeconds: number;
  bucket?: string;
  team?: string;
  /** The SLA clocks of the policy in force; without them no finding is ever due. */
  slas?: Policy['slas'];
}

const FAILED_STATES = ['failed', 'timed-out', 'reboot-stuck'];
/** Hosts a rollout never started on. */
const NOT_ATTEMPTED = ['pending', 'queued', 'waiting-for-window', 'deferred', 'skipped', 'no-agent'];
const ROLLED_BACK = ['rolled-back', 'rolling-back'];

/** width_bucket over the unit's bounds: 0 below the first bound, n above the last. */
const binOf = (expression: string, unit: HistogramUnit) => `width_bucket(${expression}, ARRAY[${HISTOGRAM_BOUNDS[unit].join(', ')}]::double precision[])`;
const binIndexes = (unit: HistogramUnit) => Array.from({ length: HISTOGRAM_BOUNDS[unit].length + 1 }, (_unused, index) => index);

/**
 * The hosts in scope with their open findings, each host reduced to what its metrics need: any
 * critical or known-exploited finding open (coverage), its oldest install waiting for a reboot, the
 * earliest due time of its open findings no accepted risk in force covers, whether one is
 * covered, and its open findings' ages in bins; then summed per bucket × team ('hosts' rows) and
 * counted per bucket × team × compliance kind ('compliance' rows). The due time is slaDueTime's
 * rule (src/domain/planning/sla.ts) in SQL: days per severity from the clock start, for a known
 * exploited finding the earlier of the KEV days and CISA's due date (least() skips NULLs).
 */
const HOST_FACTS_SQL = `
  WITH scoped_hosts AS (
    SELECT key, bucket, team, reboot_required, pending_reboot_findings,
           (last_seen_at IS NULL OR last_seen_at < $1::timestamptz - make_interval(secs => $2)) AS stale,
           findings_digest IS NOT NULL AS evaluated
      FROM hosts WHERE ($3::text IS NULL OR bucket = $3) AND ($4::text IS NULL OR team = $4)
  ),
  accepted AS MATERIALIZED (
    SELECT a.key AS advisory_key, r.host_name, r.package_name
      FROM risk_acceptances r JOIN advisories a ON r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases || a.related)
     WHERE r.expires_at > $1::timestamptz
  ),
  -- The known-exploited advisories with CISA's earliest due date: names hash-joined to the
  -- catalogue once, not looked up per finding.
  known_exploited AS MATERIALIZED (
    SELECT a.key, min(k.due_date) AS due_date
      FROM advisories a CROSS JOIN LATERAL unnest(a.aliases || a.related || a.id) AS name JOIN kev_entries k ON k.cve_id = name
     GROUP BY a.key
  ),
  -- What each advisory's findings share, worked out once per advisory rather than per finding.
  advisory_facts AS MATERIALIZED (
    SELECT a.key, a.severity = 'critical' OR k.key IS NOT NULL AS urgent,
           ($5::jsonb ->> a.severity)::double precision * interval '1 day' AS sla,
           CASE WHEN k.key IS NOT NULL THEN $6::double precision * interval '1 day' END AS kev_sla,
           k.due_date::timestamp AT TIME ZONE 'UTC' AS kev_due,
           CASE WHEN $7::text = 'published' THEN a.published END AS clock_start,
           a.key IN (SELECT advisory_key FROM accepted) AS has_acceptance
      FROM advisories a LEFT JOIN known_exploited k ON k.key = a.key
  ),
  -- Materialized: each finding's age bin, acceptance and due time computed once, not again in every
  -- aggregate that reads them.
  open_findings AS MATERIALIZED (
    SELECT f.host_key, f.state, f.installed_at, x.urgent, c.age_days, ${binOf('c.age_days', 'days')} AS age_bin,
           -- Only findings of an accepted advisory look for the acceptance's host and package.
           x.has_acceptance AND EXISTS (
             SELECT 1 FROM accepted r JOIN hosts hn ON hn.key = f.host_key
              WHERE r.advisory_key = f.advisory_key AND (r.host_name IS NULL OR r.host_name = hn.name)
                AND (r.package_name IS NULL OR r.package_name = f.package_name)) AS accepted,
           least(c.start + x.sla, c.start + x.kev_sla, x.kev_due) AS due_at
      FROM findings f
      JOIN advisory_facts x ON x.key = f.advisory_key
      CROSS JOIN LATERAL (SELECT coalesce(x.clock_start, f.first_seen_at) AS start, date_part('epoch', $1::timestamptz - f.first_seen_at) / 86400 AS age_days) c
     WHERE f.resolved_at IS NULL AND f.state IN ('vulnerable', 'pending-reboot') AND f.host_key IN (SELECT key FROM scoped_hosts)
  ),
  -- Reduced per host by its integer key first (one hash aggregate), joined to the hosts after.
  by_host AS (
    SELECT host_key, bool_or(urgent) AS urgent,
           min(installed_at) FILTER (WHERE state = 'pending-reboot') AS oldest_pending,
           min(due_at) FILTER (WHERE NOT accepted) AS earliest_due,
           bool_or(accepted) AS accepted,
           ${binIndexes('days').map((index) => `count(*) FILTER (WHERE age_bin = ${index}) AS age_${index}`).join(', ')},
           sum(age_days) AS age_sum
      FROM open_findings GROUP BY host_key
  ),
  per_host AS MATERIALIZED (
    SELECT h.bucket, h.team, h.stale, h.stale OR NOT h.evaluated AS unknown,
           h.reboot_required OR h.pending_reboot_findings > 0 AS pending_reboot,
           coalesce(o.urgent, false) AS urgent, o.oldest_pending, o.earliest_due, coalesce(o.accepted, false) AS accepted,
           ${binIndexes('days').map((index) => `coalesce(o.age_${index}, 0) AS age_${index}`).join(', ')},
           coalesce(o.age_sum, 0) AS age_sum
      FROM scoped_hosts h LEFT JOIN by_host o ON o.host_key = h.key
  )
  SELECT 'hosts' AS kind, bucket, team, count(*)::integer AS hosts,
         count(*) FILTER (WHERE NOT stale AND NOT urgent)::integer AS covered,
         count(*) FILTER (WHERE pending_reboot)::integer AS pending_reboots,
         min(oldest_pending) AS oldest_pending, NULL::timestamptz AS earliest_due, NULL::boolean AS accepted, NULL::boolean AS unknown,
         ARRAY[${binIndexes('days').map((index) => `sum(age_${index})`).join(', ')}]::double precision[] AS age_bins,
         sum(age_sum)::double precision AS age_sum
    FROM per_host GROUP BY bucket, team
  UNION ALL
  SELECT 'compliance', bucket, team, count(*)::integer, NULL, NULL, NULL, earliest_due, accepted, unknown, NULL, NULL
    FROM per_host GROUP BY bucket, team, unknown, earliest_due, accepted`;

interface HostFactsRow {
  kind: 'hosts' | 'compliance';
  bucket: string;
  team: string;
  hosts: number;
  covered: number | null;
  pending_reboots: number | null;
  oldest_pending: Date | null;
  earliest_due: Date | null;
  accepted: boolean | null;
  unknown: boolean | null;
  age_bins: number[] | null;
  age_sum: number | null;
}

/**
 * Fixes installed and fixes made live in the period, per bucket × team × day, in hour bins. Live is
 * resolved_at for a fixed finding; for a vulnerable kernel left idle (not-applicable) after its fix
 * was installed, the host's boot, as the incident scope counts it.
 */
const PATCH_FACTS_SQL = `
  WITH events AS (
    SELECT h.bucket, h.team, f.first_seen_at, f.installed_at,
           CASE WHEN f.state = 'fixed' THEN f.resolved_at
                WHEN f.state = 'not-applicable' AND f.installed_at IS NOT NULL AND h.boot_time >= f.installed_at THEN h.boot_time END AS live_at
      FROM findings f JOIN hosts h ON h.key = f.host_key
     WHERE (f.installed_at >= $1::timestamptz OR f.resolved_at >= $1::timestamptz OR f.state = 'not-applicable' AND f.installed_at IS NOT NULL)
       AND ($2::text IS NULL OR h.bucket = $2) AND ($3::text IS NULL OR h.team = $3)
  ),
  durations AS (
    SELECT 'installed' AS kind, bucket, team, installed_at AS at, date_part('epoch', installed_at - first_seen_at) / 3600 AS hours
      FROM events WHERE installed_at >= $1::timestamptz AND installed_at <= $4::timestamptz
    UNION ALL
    SELECT 'live', bucket, team, live_at, date_part('epoch', live_at - first_seen_at) / 3600
      FROM events WHERE live_at >= $1::timestamptz AND live_at <= $4::timestamptz
  )
  SELECT kind, bucket, team, to_char(day, 'YYYY-MM-DD') AS day, bin, count(*)::integer AS count, sum(hours)::double precision AS sum
    FROM (SELECT kind, bucket, team, (at AT TIME ZONE 'UTC')::date AS day, ${binOf('hours', 'hours')} AS bin, hours FROM durations) AS binned
   GROUP BY kind, bucket, team, binned.day, bin`;

interface HistogramRow {
  kind: string;
  bucket: string;
  team: string;
  day: string;
  bin: number;
  count: number;
  sum: number;
}

/** Rollouts finished in the period, per bucket × team × day: how many, how many rolled a host back, hosts attempted and rolled back. */
const ROLLOUT_FACTS_SQL = `
  SELECT r.bucket, r.team, to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         count(*)::integer AS finished,
         count(*) FILTER (WHERE x.rolled_back > 0)::integer AS rolled_back_rollouts,
         coalesce(sum(x.attempted), 0)::integer AS attempted_hosts,
         coalesce(sum(x.rolled_back), 0)::integer AS rolled_back_hosts
    FROM rollouts r
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE h.state <> ALL($4::text[])) AS attempted, count(*) FILTER (WHERE h.state = ANY($5::text[])) AS rolled_back
        FROM rollout_hosts h WHERE h.rollout_id = r.id
    ) x
   WHERE r.finished_at >= $1::timestamptz AND r.finished_at <= $6::timestamptz
     AND ($2::text IS NULL OR r.bucket = $2) AND ($3::text IS NULL OR r.team = $3)
   GROUP BY r.bucket, r.team, day`;

/**
 * Host failures recorded in the period, per bucket × team × day, in minute bins: from the host's
 * previous transition (the step that failed began) to the transition into the failed state.
 */
const FAILURE_FACTS_SQL = `
  WITH failures AS (
    SELECT r.bucket, r.team, e.at, date_part('epoch', e.at - p.at) / 60 AS minutes
      FROM rollout_events e
      JOIN rollouts r ON r.id = e.rollout_id
      CROSS JOIN LATERAL (
        SELECT at FROM rollout_events p WHERE p.host = e.host AND p.rollout_id = e.rollout_id AND p.kind = 'host' AND p.id < e.id ORDER BY p.id DESC LIMIT 1
      ) p
     WHERE e.kind = 'host' AND e.to_state = ANY($4::text[]) AND e.at >= $1::timestamptz AND e.at <= $5::timestamptz
       AND ($2::text IS NULL OR r.bucket = $2) AND ($3::text IS NULL OR r.team = $3)
  )
  SELECT 'failure' AS kind, bucket, team, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, ${binOf('minutes', 'minutes')} AS bin,
         count(*)::integer AS count, sum(minutes)::double precision AS sum
    FROM failures GROUP BY bucket, team, day, bin`;

/**
 * The rollouts created in the period: the verdict of each one's canary wave (its first, when it
 * has several) from the last measurement of every gate run of that wave, the worst deciding; and
 * each host's observability: checked in lately, watched by at least one gate run (its own post-host
 * runs, its wave's, the rollout's continuous ones), and none of those runs' last measurements blind
 * (an error, or no data however the gate judges it).
 */
const GATE_FACTS_SQL = `
  WITH scoped AS (
    SELECT id, bucket, team, wave_count FROM rollouts
     WHERE created_at >= $1::timestamptz AND created_at <= $4::timestamptz
       AND ($2::text IS NULL OR bucket = $2) AND ($3::text IS NULL OR team = $3)
  ),
  last_measurements AS (
    SELECT DISTINCT ON (m.rollout_id, m.gate, m.wave, m.host) m.rollout_id, m.wave, m.host, m.phase,
           m.phase = 'error' OR m.detail ->> 'detail' LIKE 'no data%' AS blind
      FROM gate_measurements m JOIN scoped s ON s.id = m.rollout_id
     ORDER BY m.rollout_id, m.gate, m.wave, m.host, m.taken_at DESC, m.id DESC
  ),
  canaries AS (
    SELECT s.bucket, s.team,
           CASE WHEN bool_or(l.phase = 'failed') THEN 'failed' WHEN bool_or(l.phase = 'error') THEN 'error'
                WHEN bool_or(l.phase = 'inconclusive') THEN 'inconclusive' ELSE 'successful' END AS verdict
      FROM scoped s JOIN last_measurements l ON l.rollout_id = s.id AND l.wave = 1
     WHERE s.wave_count > 1
     GROUP BY s.id, s.bucket, s.team
  ),
  -- The runs watching a host: its own (post-host), its wave's (post-wave) and the rollout's
  -- continuous ones (wave 0), each summed first so the hosts join them by equality.
  runs_by_host AS (
    SELECT rollout_id, host, count(*) AS runs, bool_or(blind) AS blind FROM last_measurements WHERE host <> '' GROUP BY rollout_id, host
  ),
  runs_by_wave AS (
    SELECT rollout_id, wave, count(*) AS runs, bool_or(blind) AS blind FROM last_measurements WHERE host = '' GROUP BY rollout_id, wave
  ),
  watched AS (
    SELECT s.bucket, s.team, rh.host,
           bool_and(coalesce(hs.last_seen_at >= $4::timestamptz - make_interval(secs => $5), false)
                    AND coalesce(h.runs, 0) + coalesce(w.runs, 0) + coalesce(c.runs, 0) > 0
                    AND NOT (coalesce(h.blind, false) OR coalesce(w.blind, false) OR coalesce(c.blind, false))) AS observed
      FROM scoped s
      JOIN rollout_hosts rh ON rh.rollout_id = s.id
      LEFT JOIN hosts hs ON hs.name = rh.host
      LEFT JOIN runs_by_host h ON h.rollout_id = s.id AND h.host = rh.host
      LEFT JOIN runs_by_wave w ON w.rollout_id = s.id AND w.wave = rh.wave
      LEFT JOIN runs_by_wave c ON c.rollout_id = s.id AND c.wave = 0
     GROUP BY s.bucket, s.team, rh.host
  )
  SELECT 'canary' AS kind, bucket, team, verdict, count(*)::integer AS count FROM canaries GROUP BY bucket, team, verdict
  UNION ALL
  SELECT 'observability', bucket, team, CASE WHEN coalesce(observed, false) THEN 'observed' ELSE 'blind' END, count(*)::integer
    FROM watched GROUP BY bucket, team, coalesce(observed, false)`;

interface GateFactsRow {
  kind: 'canary' | 'observability';
  bucket: string;
  team: string;
  verdict: string;
  count: number;
}

/**
 * The facts of the seed's metrics per bucket × team (and day, for events) over the last `days`.
 *
 * @example seedMetricsReport(await seedMetricFacts(pool, { now, days: 30, staleAfterSeconds: 3600 }), { now, days: 30 })
 */
export async function seedMetricFacts(pool: pg.Pool, options: SeedMetricOptions): Promise<SeedMetricFacts[]> {
  const from = new Date(options.now.getTime() - options.days * 86_400_000);
  const bucket = options.bucket ?? null;
  const team = options.team ?? null;
  const slas = options.slas;
  const [hostRows, patchRows, rolloutRows, failureRows, gateRows] = await Promise.all([
    withWorkMemory(pool, (client) => client.query<HostFactsRow>(HOST_FACTS_SQL, [options.now, options.staleAfterSeconds, bucket, team, slas ? JSON.stringify(slas.days) : null, slas?.kevDays ?? null, slas?.clockStart ?? 'first-seen'])),
    pool.query<HistogramRow>(PATCH_FACTS_SQL, [from, bucket, team, options.now]),
    pool.query<{ bucket: string; team: string; day: string; finished: number; rolled_back_rollouts: number; attempted_hosts: number; rolled_back_hosts: number }>(
      ROLLOUT_FACTS_SQL, [from, bucket, team, NOT_ATTEMPTED, ROLLED_BACK, options.now]),
    pool.query<HistogramRow>(FAILURE_FACTS_SQL, [from, bucket, team, FAILED_STATES, options.now]),
    pool.query<GateFactsRow>(GATE_FACTS_SQL, [from, bucket, team, options.now, options.staleAfterSeconds]),
  ]);
  const facts = new Map<string, SeedMetricFacts>();
  const factsOf = (row: { bucket: string; team: string }, day?: string) => {
    const key = `${row.bucket}\u0000${row.team}\u0000${day ?? ''}`;
    let found = facts.get(key);
    if (!found) facts.set(key, (found = emptyFacts(row.bucket, row.team, day)));
    return found;
  };
  for (const row of hostRows.rows) {
    const fact = factsOf(row);
    if (row.kind === 'compliance') {
      fact.compliance.push({ hosts: row.hosts, stale: row.unknown!, accepted: row.accepted!, ...(row.earliest_due ? { earliestDueAt: row.earliest_due } : {}) });
      continue;
    }
    fact.hosts = row.hosts;
    fact.coveredHosts = row.covered!;
    fact.pendingRebootHosts = row.pending_reboots!;
    if (row.oldest_pending) fact.oldestPendingInstallAt = row.oldest_pending;
    fact.openAgeDays = { bins: row.age_bins!.map(Number), sum: row.age_sum! };
  }
  const histograms: Record<string, (fact: SeedMetricFacts) => DurationHistogram> = {
    installed: (fact) => fact.timeToInstalledHours,
    live: (fact) => fact.timeToLiveHours,
    failure: (fact) => fact.failureDetectionMinutes,
  };
  for (const row of [...patchRows.rows, ...failureRows.rows]) {
    const histogram = histograms[row.kind]!(factsOf(row, row.day));
    histogram.bins[row.bin]! += row.count;
    histogram.sum += row.sum;
  }
  for (const row of rolloutRows.rows) {
    const fact = factsOf(row, row.day);
    fact.finishedRollouts = row.finished;
    fact.rolledBackRollouts = row.rolled_back_rollouts;
    fact.attemptedHosts = row.attempted_hosts;
    fact.rolledBackHosts = row.rolled_back_hosts;
  }
  for (const row of gateRows.rows) {
    const fact = factsOf(row);
    if (row.kind === 'canary') fact.canaryWaves[row.verdict as keyof CanaryVerdicts] += row.count;
    else {
      fact.hostsInRollouts += row.count;
      if (row.verdict === 'observed') fact.observedHosts += row.count;
    }
  }
  return [...facts.values()];
}
