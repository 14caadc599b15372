/**
 * Rollouts in PostgreSQL: rows per rollout, host, job, event and gate measurement (migration
 * 0008). A replica drives a rollout while it holds its lease (`claimDueRollouts`, renewed by
 * `renewLease`); each pass runs in one transaction that locks the rollout row and re-checks the
 * lease (`lockForPass`), so a replica whose lease expired mid-pass writes nothing, and two replicas
 * never apply a pass to one rollout at the same time.
 */
import type pg from 'pg';
import { NO_OTHER_HOSTS, type HostChange, type OtherHosts, type RolloutChange, type RolloutEvent } from '../domain/rollout/rollout-machine.js';
import type { HostJobState, HostState, PackageTarget, Relaxation, Rollout, RolloutHost, RolloutOrigin, RolloutSettings } from '../domain/rollout/rollout-model.js';
import { FAILED_HOST_STATES, TERMINAL_HOST_STATES, TERMINAL_ROLLOUT_STATES } from '../domain/rollout/rollout-model.js';
import { jobKey, type HostJob, type JobResult } from '../protocol/job-protocol.js';
import { preparedStatement } from './prepared-statement.js';

type Queryable = pg.Pool | pg.PoolClient;

const TERMINAL = [...TERMINAL_ROLLOUT_STATES];

interface RolloutRow {
  id: number;
  bucket: string;
  team: string;
  state: Rollout['state'];
  pause_reason: Rollout['pauseReason'] | null;
  halt_reason: Rollout['haltReason'] | null;
  reason: string | null;
  current_wave: number;
  wave_count: number;
  bake_until: Date | null;
  snapshot: PackageTarget[];
  settings: RolloutSettings;
  gates: unknown[];
  windows: string[];
  origin: RolloutOrigin;
  advisory_id: string | null;
  incident_id: number | null;
  relaxations: Relaxation[];
  window_name: string | null;
  occurrence_start: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  lease_holder: string | null;
  lease_expires_at: Date | null;
  memo: Record<string, string | number | boolean>;
}

export interface StoredRollout extends Rollout {
  gates: unknown[];
  windows: string[];
  origin: RolloutOrigin;
  advisoryId?: string | undefined;
  /** An emergency rollout's incident, and what a person approved it may skip. */
  incidentId?: number | undefined;
  relaxations: Relaxation[];
  windowName?: string | undefined;
  occurrenceStart?: Date | undefined;
  createdBy: string;
  updatedAt: Date;
  finishedAt?: Date | undefined;
  leaseHolder?: string | undefined;
  leaseExpiresAt?: Date | undefined;
}

const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function rolloutOf(row: RolloutRow): StoredRollout {
  return {
    id: row.id,
    bucket: row.bucket,
    team: row.team,
    state: row.state,
    pauseReason: orUndefined(row.pause_reason),
    haltReason: orUndefined(row.halt_reason),
    reason: orUndefined(row.reason),
    currentWave: row.current_wave,
    waveCount: row.wave_count,
    bakeUntil: orUndefined(row.bake_until),
    snapshot: row.snapshot,
    settings: row.settings,
    gates: row.gates,
    windows: row.windows,
    origin: row.origin,
    advisoryId: orUndefined(row.advisory_id),
    incidentId: orUndefined(row.incident_id),
    relaxations: row.relaxations,
    windowName: orUndefined(row.window_name),
    occurrenceStart: orUndefined(row.occurrence_start),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: orUndefined(row.finished_at),
    leaseHolder: orUndefined(row.lease_holder),
    leaseExpiresAt: orUndefined(row.lease_expires_at),
    memo: row.memo,
  };
}

export interface NewRollout {
  bucket: string;
  team: string;
  waveCount: number;
  snapshot: PackageTarget[];
  settings: RolloutSettings;
  gates: unknown[];
  windows: string[];
  origin: RolloutOrigin;
  advisoryId?: string;
  incidentId?: number;
  relaxations?: Relaxation[];
  windowName?: string;
  occurrenceStart?: Date;
  policyRevision?: number;
  createdBy: string;
  /** In admission order, with their waves. */
  hosts: Array<{ host: string; wave: number }>;
}

/**
 * Stores a rollout and its hosts (all `pending`); undefined when the schedule already made the
 * rollout of this window occurrence (another replica was first).
 */
export async function insertRollout(client: pg.PoolClient, rollout: NewRollout, now: Date): Promise<number | undefined> {
  const inserted = await client.query<{ id: number }>(
    `INSERT INTO rollouts (bucket, team, state, wave_count, snapshot, settings, gates, windows, origin, advisory_id, window_name, occurrence_start, policy_revision, created_by, created_at, updated_at, next_pass_at, incident_id, relaxations)
     VALUES ($1, $2, 'created', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14, $15, $16)
     ON CONFLICT (bucket, window_name, occurrence_start) DO NOTHING RETURNING id`,
    [rollout.bucket, rollout.team, rollout.waveCount, JSON.stringify(rollout.snapshot), JSON.stringify(rollout.settings), JSON.stringify(rollout.gates), JSON.stringify(rollout.windows), rollout.origin, rollout.advisoryId ?? null, rollout.windowName ?? null, rollout.occurrenceStart ?? null, rollout.policyRevision ?? null, rollout.createdBy, now, rollout.incidentId ?? null, rollout.relaxations ?? []],
  );
  const id = inserted.rows[0]?.id;
  if (id === undefined) return undefined;
  await client.query(
    `INSERT INTO rollout_hosts (rollout_id, host, wave, position, state, state_since)
     SELECT $1, host, wave, position, 'pending', $2 FROM unnest($3::text[], $4::integer[]) WITH ORDINALITY AS h(host, wave, position)`,
    [id, now, rollout.hosts.map((host) => host.host), rollout.hosts.map((host) => host.wave)],
  );
  await client.query("INSERT INTO rollout_events (rollout_id, at, kind, to_state, actor, detail) VALUES ($1, $2, 'rollout', 'created', $3, $4)", [id, now, rollout.createdBy, `${rollout.hosts.length} hosts in ${rollout.waveCount} waves`]);
  // The passes' prepared statements are planned from these statistics: they must know the new hosts.
  await client.query('ANALYZE rollout_hosts');
  return id;
}

/**
 * Leases up to `limit` rollouts whose next pass is due and whose lease is free, expired or ours.
 *
 * @example await claimDueRollouts(pool, 'replica-a', new Date(), 15_000, 10) // [3, 7]
 */
export async function claimDueRollouts(db: Queryable, holder: string, now: Date, leaseMs: number, limit: number, woken: readonly number[] = []): Promise<number[]> {
  // Not prepared: a generic plan could not use the partial index on due rollouts (its predicate names the states).
  const claimed = await db.query<{ id: number }>(
    `UPDATE rollouts SET lease_holder = $1, lease_expires_at = $2::timestamptz + make_interval(secs => $3::double precision / 1000)
      WHERE id IN (SELECT id FROM rollouts
                    WHERE state <> ALL($4::text[]) AND (next_pass_at <= $2 OR id = ANY($6::integer[])) AND (lease_holder IS NULL OR lease_holder = $1 OR lease_expires_at < $2)
                    ORDER BY next_pass_at LIMIT $5 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [holder, now, leaseMs, TERMINAL, limit, woken],
  );
  return claimed.rows.map((row) => row.id).sort((a, b) => a - b);
}

/** Gives the lease back (a replica stopping): another replica may take the rollout at once. */
export async function releaseLeases(db: Queryable, holder: string): Promise<void> {
  await db.query('UPDATE rollouts SET lease_holder = NULL, lease_expires_at = NULL WHERE lease_holder = $1', [holder]);
}

/** The rollout, locked for this pass, if `holder` still holds its lease; undefined otherwise. */
export async function lockForPass(client: pg.PoolClient, id: number, holder: string, now: Date): Promise<StoredRollout | undefined> {
  const row = await client.query<RolloutRow>('SELECT * FROM rollouts WHERE id = $1 AND lease_holder = $2 AND lease_expires_at >= $3 FOR UPDATE', [id, holder, now]);
  return row.rows[0] ? rolloutOf(row.rows[0]) : undefined;
}

/** The rollout locked for an operator's change, whoever drives it. */
export async function lockRollout(client: pg.PoolClient, id: number): Promise<StoredRollout | undefined> {
  const row = await client.query<RolloutRow>('SELECT * FROM rollouts WHERE id = $1 FOR UPDATE', [id]);
  return row.rows[0] ? rolloutOf(row.rows[0]) : undefined;
}

interface HostRow {
  host: string;
  wave: number;
  state: RolloutHost['state'];
  attempt: number;
  state_since: Date;
  deadline: Date | null;
  slot_held: boolean;
  last_error: string | null;
  replaced: RolloutHost['replaced'];
  boot_id_before: string | null;
  reboot_requested_at: Date | null;
  job_key: string | null;
  memo: RolloutHost['memo'];
  job_step: HostJobState['step'] | null;
  job_dispatched_at: Date | null;
  job_deadline: Date | null;
  job_result: (JobResult & { replaced: RolloutHost['replaced'] }) | null;
  last_seen_at: Date | null;
  inventory_updated_at: Date | null;
  boot_id: string | null;
  running_kernel: string | null;
  reboot_required: boolean | null;
  package_set_key: number | null;
  labels: Record<string, string> | null;
  replacement_name: string | null;
  replacement_enrolled_at: Date | null;
  replacement_last_seen_at: Date | null;
  replacement_labels: Record<string, string> | null;
  /** Where the rollout_news rows of this host the read saw are (row addresses, as text). */
  news_rows: string[];
}

/** A host as a pass reads it: its row, its current job, its check-in facts. */
const HOST_FIELDS = `rh.host, rh.wave, rh.state, rh.attempt, rh.state_since, rh.deadline, rh.slot_held, rh.last_error, rh.replaced,
            rh.boot_id_before, rh.reboot_requested_at, rh.job_key, rh.memo,
            ARRAY(SELECT n.ctid::text FROM rollout_news n WHERE n.rollout_id = rh.rollout_id AND n.host = rh.host) AS news_rows,
            j.step AS job_step, j.dispatched_at AS job_dispatched_at, j.deadline AS job_deadline, j.result AS job_result,
            h.last_seen_at, h.inventory_updated_at, h.boot_id, h.running_kernel, h.reboot_required, h.package_set_key, h.labels,
            rep.name AS replacement_name, rep.created_at AS replacement_enrolled_at, rep.last_seen_at AS replacement_last_seen_at, rep.labels AS replacement_labels`;
// A replacement (replace strategy) is the host the provision hook named, as its own check-ins describe it.
const HOST_JOINS = `LEFT JOIN rollout_jobs j ON j.key = rh.job_key
       LEFT JOIN hosts h ON h.name = rh.host
       LEFT JOIN hosts rep ON rep.name = rh.memo->>'replacement'`;

function hostOf(row: HostRow, installed: Record<string, string>): RolloutHost {
  return {
    name: row.host,
    wave: row.wave,
    state: row.state,
    attempt: row.attempt,
    stateSince: row.state_since,
    deadline: orUndefined(row.deadline),
    slotHeld: row.slot_held,
    lastError: orUndefined(row.last_error),
    replaced: row.replaced,
    bootIdBefore: orUndefined(row.boot_id_before),
    rebootRequestedAt: orUndefined(row.reboot_requested_at),
    memo: row.memo,
    ...(row.replacement_name ? { replacement: { name: row.replacement_name, enrolledAt: orUndefined(row.replacement_enrolled_at), lastSeenAt: orUndefined(row.replacement_last_seen_at), labels: row.replacement_labels ?? {} } } : {}),
    job: row.job_key && row.job_step
      ? {
          key: row.job_key,
          step: row.job_step,
          dispatchedAt: row.job_dispatched_at!,
          deadline: row.job_deadline!,
          result: row.job_result ? { outcome: row.job_result.outcome, error: row.job_result.error, output: row.job_result.output, exitCode: row.job_result.exitCode, replaced: row.job_result.replaced ?? [], details: row.job_result.details, finishedAt: new Date(row.job_result.finishedAt) } : undefined,
        }
      : undefined,
    facts: {
      lastSeenAt: orUndefined(row.last_seen_at),
      inventoryAt: orUndefined(row.inventory_updated_at),
      bootId: orUndefined(row.boot_id),
      runningKernel: orUndefined(row.running_kernel),
      rebootRequired: row.reboot_required ?? false,
      installed,
      labels: row.labels ?? {},
    },
  };
}

/**
 * Installed versions of a snapshot's packages per package set. A package set's key names one
 * content for good (sets are content-addressed, keys never reused), so what it holds of a
 * snapshot is read once per process, not once per host and pass. Bounded: emptied when full.
 */
const installedBySnapshot = new Map<string, Map<number, Record<string, string>>>();
const INSTALLED_CACHE_SETS = 50_000;

async function installedVersions(db: Queryable, snapshot: readonly PackageTarget[], setKeys: ReadonlyArray<number | null>): Promise<Map<number, Record<string, string>>> {
  const names = snapshot.map((target) => target.name);
  const cacheKey = JSON.stringify(names);
  let cached = installedBySnapshot.get(cacheKey);
  if (!cached || cached.size > INSTALLED_CACHE_SETS) {
    if (installedBySnapshot.size > 16) installedBySnapshot.clear();
    installedBySnapshot.set(cacheKey, (cached = new Map()));
  }
  const missing = [...new Set(setKeys.filter((key): key is number => key !== null && !cached.has(key)))];
  if (missing.length > 0) {
    const rows = await db.query<{ key: number; installed: Record<string, string> | null }>(
      `SELECT s.key, (SELECT jsonb_object_agg(p.name, p.version) FROM package_versions p WHERE p.key = ANY(s.package_keys) AND p.name = ANY($2::text[])) AS installed
         FROM package_sets s WHERE s.key = ANY($1::integer[])`,
      [missing, names],
    );
    for (const row of rows.rows) cached.set(row.key, row.installed ?? {});
  }
  return cached;
}

async function hostsOf(db: Queryable, rollout: Pick<Rollout, 'snapshot'>, rows: readonly HostRow[]): Promise<RolloutHost[]> {
  const installed = await installedVersions(db, rollout.snapshot, rows.map((row) => row.package_set_key));
  // A set pruned after its host moved on reads as nothing installed, as the join it replaces did.
  return rows.map((row) => hostOf(row, (row.package_set_key !== null ? installed.get(row.package_set_key) : undefined) ?? {}));
}

// The statements below run hundreds of times a second during a rollout: prepared once per connection.

/**
 * A pass's reads in one statement and one snapshot: every host counted by wave, state and slot
 * (the counts the triggers of migration 0018 keep), and the hosts the pass may change, at most $7 (each kind through its own index; hosts in a step
 * first, admissions last, the pending ones cut at the slots admission could fill), in admission
 * order. The counts and the number of candidates ride on the first row (there is always one:
 * with no host read, a row of nulls).
 */
const READ_PASS = preparedStatement('read-pass', `WITH counted AS (
       SELECT wave, state, slot_held, n FROM rollout_host_counts WHERE rollout_id = $1 AND n > 0
     ), room AS (
       SELECT least($7::integer, greatest(0, $5::integer - coalesce(sum(n) FILTER (WHERE slot_held), 0)
                                                 + coalesce(sum(n) FILTER (WHERE slot_held AND state IN ('monitoring', 'rolling-back')), 0)))::integer AS admissible
         FROM counted
     ), candidates AS (
       (SELECT ctid, position, 'news' AS kind FROM rollout_hosts WHERE rollout_id = $1 AND host IN (SELECT host FROM rollout_news WHERE rollout_id = $1) ORDER BY position LIMIT $7)
       UNION ALL
       (SELECT ctid, position, 'deadline' FROM rollout_hosts WHERE rollout_id = $1 AND deadline <= $6 AND state <> ALL($2::text[]) ORDER BY deadline LIMIT $7)
       UNION ALL
       (SELECT ctid, position, 'state' FROM rollout_hosts WHERE rollout_id = $1 AND state = ANY($8::text[]) ORDER BY position LIMIT $7)
       UNION ALL
       (SELECT ctid, position, 'pending' FROM rollout_hosts WHERE rollout_id = $1 AND state = 'pending' AND wave BETWEEN $3 AND $4 ORDER BY position LIMIT (SELECT admissible FROM room))
     ), kinds AS (
       -- Hosts in a step first (their news, their deadlines), then states that move on their own, then admissions.
       SELECT ctid, position, array_agg(kind) AS kinds, min(CASE kind WHEN 'pending' THEN 2 WHEN 'state' THEN 1 ELSE 0 END) AS priority FROM candidates GROUP BY ctid, position
     ), chosen AS (
       SELECT ctid, kinds FROM kinds ORDER BY priority, position LIMIT $7
     ), read AS (
       -- The chosen rows fetched by their row address, in this statement's snapshot: joined on the
       -- host's name, the planner hashed every host of the rollout to find the few hundred chosen.
       SELECT k.kinds, rh.position, ${HOST_FIELDS}
         FROM rollout_hosts rh JOIN chosen k ON k.ctid = rh.ctid
         ${HOST_JOINS}
        WHERE rh.ctid = ANY(ARRAY(SELECT ctid FROM chosen))
     )
     SELECT CASE WHEN row_number() OVER (ORDER BY r.position) = 1 THEN (SELECT jsonb_agg(c) FROM counted c) END AS counts,
            CASE WHEN row_number() OVER (ORDER BY r.position) = 1 THEN (SELECT count(*) FROM kinds) END::integer AS candidates, r.*
       FROM (SELECT 1) AS always LEFT JOIN read r ON true
      ORDER BY r.position`);
const REQUEST_HOST_PASSES = preparedStatement('request-host-passes', `WITH told AS (
       INSERT INTO rollout_news (rollout_id, host)
       SELECT rollout_id, host FROM rollout_hosts WHERE host = ANY($1::text[]) AND state <> ALL($2::text[])
       RETURNING rollout_id
     )
   SELECT count(pg_notify('fleetpatch_rollouts', rollout_id::text))::int AS notified FROM (SELECT DISTINCT rollout_id FROM told) t`);
// Not prepared, like the long poll's look-up: its plan, made while a rollout's first jobs were all
// the table held, stayed a scan of the whole table once it held 30,000 (2 ms a batch, not 0.2).
const RECORD_JOB_RESULTS = `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[]) AS u(key, host, result, at)
     ), reported AS (
       UPDATE rollout_jobs j SET result = i.result, reported_at = i.at FROM input i
        WHERE j.key = i.key AND j.host = i.host AND j.reported_at IS NULL
       RETURNING j.key, j.host, j.rollout_id
     ), told AS (
       INSERT INTO rollout_news (rollout_id, host)
       SELECT r.rollout_id, r.host FROM reported r JOIN rollout_hosts rh ON rh.rollout_id = r.rollout_id AND rh.host = r.host AND rh.job_key = r.key
     )
     SELECT i.key, i.host, coalesce(r.rollout_id, j.rollout_id) AS rollout_id, r.key IS NOT NULL AS recorded,
            CASE WHEN r.key IS NOT NULL THEN pg_notify('fleetpatch_rollouts', r.rollout_id::text) END AS notified
       FROM input i
       LEFT JOIN reported r ON r.key = i.key AND r.host = i.host
       LEFT JOIN rollout_jobs j ON j.key = i.key AND j.host = i.host`;

interface CountRow {
  wave: number;
  state: HostState;
  slot_held: boolean;
  n: number;
}

const TERMINAL_OR_PENDING = [...TERMINAL_HOST_STATES, 'pending'];
const SUCCEEDED_STATES: ReadonlySet<HostState> = new Set(['succeeded', 'succeeded-reboot-pending']);

/** Hosts read by one pass, and what they mean for the rest of it. */
export interface PassHosts {
  /** The hosts the pass may change, in admission order. */
  hosts: RolloutHost[];
  /** Every other host, counted. */
  others: OtherHosts;
  /** The news rows each host read had, where it had any: the pass deletes them (`writePass`). */
  news: ReadonlyMap<string, readonly string[]>;
  /** Candidates were left unread (the bite is `maxHosts`): another pass should follow at once. */
  more: boolean;
}

/** The states a pass reads without news: they move on their own (a gate's verdict, a reboot's return, another host's check-in, a deadline). */
const READ_ALWAYS = ['notified', 'monitoring', 'rebooting', 'awaiting-return', 'reboot-stuck', 'awaiting-replacement'];

/**
 * The hosts a pass can change, in admission order, and the others counted. Read are: the hosts
 * with news (a job result or a check-in since a pass last read them), those whose deadline has
 * passed, those in a state that moves on its own (notified, monitoring, rebooting, awaiting
 * return, reboot-stuck, awaiting a replacement), and the first pending hosts of the current wave (and the next one while baking), as many
 * as admission could take this pass (the free slots and the slots that may free up: hosts
 * monitoring or rolling back). Each kind is read through its own index, and at most `maxHosts`
 * in all (hosts in a step first, admissions last), so a pass of a 10,000-host rollout reads what
 * moved, in bounded bites. The rest only count, slots included. `all` reads every host (a gate's
 * rollback reaches every succeeded host).
 */
export async function loadPassHosts(db: Queryable, rollout: Pick<Rollout, 'id' | 'state' | 'snapshot' | 'currentWave' | 'settings'>, now: Date, options: { all?: boolean; maxHosts?: number } = {}): Promise<PassHosts> {
  if (options.all) {
    const rows = await db.query<HostRow>(`SELECT ${HOST_FIELDS} FROM rollout_hosts rh ${HOST_JOINS} WHERE rh.rollout_id = $1 ORDER BY rh.position`, [rollout.id]);
    return { hosts: await hostsOf(db, rollout, rows.rows), others: NO_OTHER_HOSTS, news: newsOf(rows.rows), more: false };
  }
  const maxHosts = options.maxHosts ?? DEFAULT_MAX_PASS_HOSTS;
  const firstWave = Math.max(1, rollout.currentWave);
  // The next wave's hosts only while the rollout bakes, the one pass that may promote and admit
  // them at once. Read while the current wave ran, they filled the bites and none could be
  // admitted: in bench:rollout pending hosts were 70% of all the hosts passes read, and the passes
  // followed each other at once, since candidates were always left.
  const lastWave = rollout.state === 'baking' ? rollout.currentWave + 1 : firstWave;
  const result = await db.query<(HostRow & { kinds: string[] }) | { host: null; kinds: null; counts: CountRow[] | null; candidates: number | null }>(
    READ_PASS([rollout.id, TERMINAL_OR_PENDING, firstWave, lastWave, rollout.settings.maxInFlight, now, maxHosts, READ_ALWAYS]),
  );
  const first = result.rows[0] as { counts: CountRow[] | null; candidates: number | null };
  const counted = first.counts ?? [];
  const rows = result.rows.filter((row): row is HostRow & { kinds: string[] } => row.host !== null);
  let held = 0;
  for (const row of counted) if (row.slot_held) held += row.n;
  const perKind = new Map<string, number>();
  for (const row of rows) for (const kind of row.kinds) perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
  // More are left when the bite left candidates out, or a kind was cut at its own limit.
  const more = (first.candidates ?? 0) > rows.length || [...perKind.values()].some((n) => n >= maxHosts);
  const hosts = await hostsOf(db, rollout, rows);
  // The others: every host counted, less the ones read.
  const rest = new Map<string, number>();
  for (const row of counted) rest.set(`${row.wave} ${row.state}`, (rest.get(`${row.wave} ${row.state}`) ?? 0) + row.n);
  for (const host of hosts) rest.set(`${host.wave} ${host.state}`, (rest.get(`${host.wave} ${host.state}`) ?? 0) - 1);
  const others = { failed: 0, noAgent: 0, succeeded: 0, unfinishedByWave: new Map<number, number>(), slotsHeld: held - hosts.filter((host) => host.slotHeld).length, inFlight: 0 };
  for (const [key, n] of rest) {
    if (n <= 0) continue;
    const [wave, state] = [Number(key.slice(0, key.indexOf(' '))), key.slice(key.indexOf(' ') + 1) as HostState];
    if (FAILED_HOST_STATES.has(state)) others.failed += n;
    if (state === 'no-agent') others.noAgent += n;
    if (SUCCEEDED_STATES.has(state)) others.succeeded += n;
    if (!TERMINAL_HOST_STATES.has(state)) others.unfinishedByWave.set(wave, (others.unfinishedByWave.get(wave) ?? 0) + n);
    if (!TERMINAL_HOST_STATES.has(state) && state !== 'pending') others.inFlight += n;
  }
  return { hosts, others, news: newsOf(rows), more };
}

/**
 * Hosts a pass reads at most (hosts in a step first, then states that move on their own, then
 * admissions). bench:rollout, 10,000 hosts on 2 cores: 100 a pass, p99 28 ms at 2,650–2,700
 * transitions/s; 200 a pass, p99 47–55 ms at about the same rate.
 */
export const DEFAULT_MAX_PASS_HOSTS = 100;

function newsOf(rows: readonly HostRow[]): Map<string, readonly string[]> {
  return new Map(rows.filter((row) => row.news_rows.length > 0).map((row) => [row.host, row.news_rows]));
}

/** The patch fields a transition may write, with their columns and types. */
const HOST_COLUMNS: Record<string, { column: string; type: string }> = {
  stateSince: { column: 'state_since', type: 'timestamptz' }, deadline: { column: 'deadline', type: 'timestamptz' }, slotHeld: { column: 'slot_held', type: 'boolean' },
  lastError: { column: 'last_error', type: 'text' }, replaced: { column: 'replaced', type: 'jsonb' }, bootIdBefore: { column: 'boot_id_before', type: 'text' },
  rebootRequestedAt: { column: 'reboot_requested_at', type: 'timestamptz' }, attempt: { column: 'attempt', type: 'integer' }, wave: { column: 'wave', type: 'integer' },
  memo: { column: 'memo', type: 'jsonb' },
};

/**
 * A whole pass's writes in one statement (one round trip): the hosts' transitions (each column set
 * from the patch when the patch names its field, a field present as undefined clearing it, kept
 * otherwise), the news rows read deleted (all the rollout's when it ends), the new jobs (a key already written, by a pass
 * repeated after a crash between commit and reply, stays as it was), the timeline, the rollout's
 * change or next pass, and the wake-up of the hosts' long polls (sent on commit).
 */
const WRITE_PASS = preparedStatement('write-pass', `WITH host_changes AS (
       UPDATE rollout_hosts rh SET state = u.state, job_key = COALESCE(u.job_key, rh.job_key),
         ${Object.entries(HOST_COLUMNS).map(([field, { column, type }]) => `${column} = CASE WHEN u.patch ? '${field}' THEN ${type === 'jsonb' ? `u.patch->'${field}'` : type === 'text' ? `u.patch->>'${field}'` : `(u.patch->>'${field}')::${type}`} ELSE rh.${column} END`).join(',\n         ')}
         FROM jsonb_to_recordset($2::jsonb) AS u(host text, state text, patch jsonb, job_key text)
        -- The hosts' names once more, as an array: the planner then finds their rows by the primary
        -- key. Joined only on the record set (estimated at 100 rows), it hashed every host row of
        -- the rollout, dead versions included, to find a pass's few hundred.
        WHERE rh.rollout_id = $1 AND rh.host = ANY($17::text[]) AND rh.host = u.host
       RETURNING 1
     ), new_jobs AS (
       INSERT INTO rollout_jobs (key, rollout_id, host, step, attempt, job, executor, dispatched_at, deadline)
       SELECT key, $1, host, step, attempt, job, executor, $3, (job->>'deadline')::timestamptz
         FROM jsonb_to_recordset($4::jsonb) AS j(key text, host text, step text, attempt integer, job jsonb, executor text)
       ON CONFLICT (key) DO NOTHING
       RETURNING 1
     ), timeline AS (
       INSERT INTO rollout_events (rollout_id, at, host, kind, from_state, to_state, detail)
       SELECT $1, $3, host, kind, "from", "to", detail FROM jsonb_to_recordset($5::jsonb) AS e(host text, kind text, "from" text, "to" text, detail text)
       RETURNING 1
     ), rollout AS (
       UPDATE rollouts SET
         state = COALESCE($6::text, state),
         pause_reason = CASE WHEN $6::text IS NULL THEN pause_reason ELSE $7::text END,
         halt_reason = CASE WHEN $6::text IS NULL THEN halt_reason ELSE $8::text END,
         reason = CASE WHEN $6::text IS NULL THEN reason ELSE $9::text END,
         current_wave = COALESCE($10::integer, current_wave),
         bake_until = CASE WHEN $6::text IS NULL THEN bake_until ELSE $11::timestamptz END,
         updated_at = CASE WHEN $6::text IS NOT NULL OR $12::boolean THEN $3 ELSE updated_at END,
         finished_at = CASE WHEN $13::boolean THEN $3 ELSE finished_at END,
         memo = COALESCE($16::jsonb, memo),
         next_pass_at = $14
        WHERE id = $1
       RETURNING 1
     ), news_read AS (
       -- By row address: news rows are never updated, and only this rollout's pass (or an operator
       -- holding its lock) deletes them. By a key column, the plan made while the table was empty
       -- stayed a scan of the whole table, dead rows included (5 ms a pass in bench:rollout).
       DELETE FROM rollout_news WHERE ctid = ANY($18::tid[]) AND rollout_id = $1
     ), news_of_ended AS (
       DELETE FROM rollout_news WHERE $13::boolean AND rollout_id = $1
     ), woken AS (
       SELECT pg_notify('fleetpatch_jobs', payload) FROM unnest($15::text[]) AS payload
     )
     SELECT count(*)::int AS woken FROM woken`);

/**
 * Writes one pass in one statement (`WRITE_PASS`): host transitions with their jobs (dispatched by
 * being written: the agent fetches them), the news read deleted, the rollout's change, the
 * timeline, and when the next pass is due.
 */
export async function writePass(client: pg.PoolClient, rollout: Rollout, pass: { rollout?: RolloutChange; hosts: HostChange[]; events: RolloutEvent[]; memo?: Rollout['memo'] }, read: Pick<PassHosts, 'hosts' | 'news'>, now: Date, nextPassAt: Date): Promise<void> {
  const { hosts } = read;
  const attempts = new Map(hosts.map((host) => [host.name, host.attempt]));
  const jobs: Array<{ key: string; host: string; step: string; attempt: number; job: HostJob; executor: string }> = [];
  // One row per host: a host changed twice in a pass (a gate's rollback of a host that has just
  // succeeded) ends as its last change left it, the earlier change's other fields kept.
  const updates = new Map<string, { host: string; state: string; patch: Record<string, unknown>; job_key: string | null }>();
  for (const change of pass.hosts) {
    const attempt = change.patch.attempt ?? attempts.get(change.name) ?? 1;
    const key = change.job ? jobKey(rollout.id, change.name, change.job.step, attempt) : undefined;
    if (change.job && key) {
      const { step, commands, packages, previous, deadline, drain, executor } = change.job;
      const { image, replacement } = change.job;
      jobs.push({ key, host: change.name, step, attempt, executor, job: { key, rolloutId: rollout.id, step, commands, packages, previous, deadline: deadline.toISOString(), ...(drain ? { drain } : {}), ...(image ? { image } : {}), ...(replacement ? { replacement } : {}) } });
    }
    const patch: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(change.patch)) if (HOST_COLUMNS[field]) patch[field] = value ?? null;
    const earlier = updates.get(change.name);
    updates.set(change.name, { host: change.name, state: change.to, patch: { ...earlier?.patch, ...patch }, job_key: key ?? earlier?.job_key ?? null });
  }
  const events = [
    ...pass.hosts.map((change) => ({ host: change.name, kind: 'host', from: change.from, to: change.to, detail: change.note ?? change.patch.lastError ?? null })),
    ...(pass.rollout ? [{ host: null, kind: 'rollout', from: rollout.state, to: pass.rollout.state, detail: pass.rollout.reason ?? null }] : []),
    ...pass.events.map((event) => ({ host: event.host ?? null, kind: event.kind, from: null, to: null, detail: event.summary })),
  ];
  const change = pass.rollout;
  // Unordered: nothing but a pass, or an operator holding the rollout's lock, writes these rows.
  const rows = [...updates.values()];
  await client.query(WRITE_PASS([
    rollout.id, JSON.stringify(rows), now, JSON.stringify(jobs), JSON.stringify(events),
    change?.state ?? null,
    change?.state === 'paused' ? (change.pauseReason ?? rollout.pauseReason ?? null) : null,
    change?.state === 'halted' ? (change.haltReason ?? rollout.haltReason ?? null) : null,
    change ? ('reason' in change ? (change.reason ?? null) : (rollout.reason ?? null)) : null,
    change?.currentWave ?? null,
    change ? ('bakeUntil' in change ? (change.bakeUntil ?? null) : (rollout.bakeUntil ?? null)) : null,
    pass.hosts.length > 0,
    change ? TERMINAL_ROLLOUT_STATES.has(change.state) : false,
    nextPassAt,
    notifyPayloads(jobs.map((job) => job.host)),
    pass.memo ? JSON.stringify(pass.memo) : null,
    rows.map((row) => row.host),
    [...read.news.values()].flat(),
  ]));
}

/** Payloads stay under PostgreSQL's 8,000-byte NOTIFY limit. */
const NOTIFY_PAYLOAD_BYTES = 7_000;

/** The hosts' names in notification payloads, each under PostgreSQL's 8,000-byte NOTIFY limit. */
function notifyPayloads(hosts: readonly string[]): string[] {
  const payloads: string[] = [];
  let payload = '';
  for (const host of hosts) {
    if (payload && payload.length + host.length + 1 > NOTIFY_PAYLOAD_BYTES) {
      payloads.push(payload);
      payload = '';
    }
    payload = payload ? `${payload}\n${host}` : host;
  }
  if (payload) payloads.push(payload);
  return payloads;
}

/**
 * Sorts reports by host name, the order a batch of job results locks its jobs' rows in: two
 * batches (two replicas') that share rows mostly wait for each other instead of deadlocking.
 * Mostly: PostgreSQL need not take the rows in the order given, so a deadlock stays possible;
 * PostgreSQL breaks it and the statement that lost retries.
 */
function inLockOrder<T extends { host: string }>(rows: T[]): T[] {
  return rows.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * Check-ins of hosts some rollout is working on: their facts may be what that rollout waits for.
 * Each becomes a news row of that rollout and a notification, waiting for no pass (a pass running
 * now reads it next time). Returns how many rollouts were told.
 */
export async function requestHostPasses(db: Queryable, hosts: readonly string[]): Promise<number> {
  const result = await db.query<{ notified: number }>(REQUEST_HOST_PASSES([hosts, TERMINAL_OR_PENDING]));
  return result.rows[0]?.notified ?? 0;
}

/** Each host's unreported agent job, oldest first (a host runs one job at a time), marked fetched; hosts without one are absent. */
export async function fetchHostJobs(db: Queryable, hosts: readonly string[], now: Date): Promise<Map<string, HostJob>> {
  // Not prepared: the table grows through a rollout, and a plan made while it was small would stay.
  const rows = await db.query<{ host: string; job: HostJob }>(
    `UPDATE rollout_jobs SET fetched_at = COALESCE(fetched_at, $2)
      WHERE key IN (SELECT DISTINCT ON (host) key FROM rollout_jobs WHERE host = ANY($1::text[]) AND reported_at IS NULL AND executor = 'agent' ORDER BY host, dispatched_at, key)
      RETURNING host, job`,
    [hosts, now],
  );
  return new Map(rows.rows.map((row) => [row.host, row.job]));
}

/** A job's result as its host reported it. */
export interface ReportedJobResult {
  host: string;
  key: string;
  result: JobResult;
  at: Date;
}

/** What recording a result did: `recorded: false` when the key was reported already; undefined for a key this host does not have. */
export type RecordedJobResult = { recorded: boolean; rolloutId: number } | undefined;

/**
 * Records a job's result once; a second report of the key changes nothing. Returns the rollout
 * the job belongs to (so its pass can be brought forward), or undefined for a key this host does
 * not have.
 */
export async function recordJobResult(db: Queryable, host: string, key: string, result: JobResult, now: Date): Promise<RecordedJobResult> {
  return (await recordJobResults(db, [{ host, key, result, at: now }]))[0];
}

/**
 * `recordJobResult` for many reports in one statement, answered in their order. Of two reports of
 * one key the first is recorded and the second changes nothing, as if it came after.
 */
export async function recordJobResults(db: Queryable, reports: readonly ReportedJobResult[]): Promise<RecordedJobResult[]> {
  const firstOf = new Map<string, number>();
  const unique: ReportedJobResult[] = [];
  for (const [index, report] of reports.entries()) {
    const id = `${report.host}\n${report.key}`;
    if (firstOf.has(id)) continue;
    firstOf.set(id, index);
    unique.push(report);
  }
  inLockOrder(unique);
  // One statement: the results, their hosts' news (where each is still the host's job) and the
  // engines' wake-up, a notification rather than an update of the rollout's row: results arrive
  // by the thousand during a rollout, and each would queue on the row lock the engine's pass holds.
  const rows = await db.query<{ key: string; host: string; rollout_id: number | null; recorded: boolean }>(RECORD_JOB_RESULTS, [
    unique.map((report) => report.key), unique.map((report) => report.host), unique.map((report) => JSON.stringify(report.result)), unique.map((report) => report.at),
  ]);
  const answers = new Map(rows.rows.map((row) => [`${row.host}\n${row.key}`, row.rollout_id === null ? undefined : { recorded: row.recorded, rolloutId: row.rollout_id }]));
  return reports.map((report, index) => {
    const id = `${report.host}\n${report.key}`;
    const answer = answers.get(id);
    return answer && firstOf.get(id) !== index ? { recorded: false, rolloutId: answer.rolloutId } : answer;
  });
}

export interface RolloutListFilter {
  state?: string;
  bucket?: string;
  limit?: number;
}

export interface RolloutSummary extends StoredRollout {
  hostCounts: Record<string, number>;
}

export async function listRollouts(db: Queryable, filter: RolloutListFilter = {}): Promise<RolloutSummary[]> {
  const rows = await db.query<RolloutRow & { host_counts: Record<string, number> | null }>(
    `SELECT r.*, (SELECT jsonb_object_agg(state, n) FROM (SELECT state, sum(n)::int AS n FROM rollout_host_counts WHERE rollout_id = r.id AND n > 0 GROUP BY state) c) AS host_counts
       FROM rollouts r WHERE ($1::text IS NULL OR r.state = $1) AND ($2::text IS NULL OR r.bucket = $2)
      ORDER BY r.id DESC LIMIT $3`,
    [filter.state ?? null, filter.bucket ?? null, filter.limit ?? 100],
  );
  return rows.rows.map((row) => ({ ...rolloutOf(row), hostCounts: row.host_counts ?? {} }));
}

export async function getRollout(db: Queryable, id: number): Promise<StoredRollout | undefined> {
  const row = await db.query<RolloutRow>('SELECT * FROM rollouts WHERE id = $1', [id]);
  return row.rows[0] ? rolloutOf(row.rows[0]) : undefined;
}

export interface RolloutEventRow {
  id: number;
  at: Date;
  host?: string;
  kind: string;
  from?: string;
  to?: string;
  actor: string;
  detail?: string;
}

export async function rolloutEvents(db: Queryable, filter: { rolloutId?: number; host?: string; limit?: number }): Promise<Array<RolloutEventRow & { rolloutId: number }>> {
  const rows = await db.query<{ id: string; rollout_id: number; at: Date; host: string | null; kind: string; from_state: string | null; to_state: string | null; actor: string; detail: string | null }>(
    `SELECT * FROM (SELECT * FROM rollout_events WHERE ($1::integer IS NULL OR rollout_id = $1) AND ($2::text IS NULL OR host = $2) ORDER BY id DESC LIMIT $3) e ORDER BY id`,
    [filter.rolloutId ?? null, filter.host ?? null, filter.limit ?? 1_000],
  );
  return rows.rows.map((row) => ({
    id: Number(row.id), rolloutId: row.rollout_id, at: row.at, actor: row.actor, kind: row.kind,
    ...(row.host ? { host: row.host } : {}), ...(row.from_state ? { from: row.from_state } : {}), ...(row.to_state ? { to: row.to_state } : {}), ...(row.detail ? { detail: row.detail } : {}),
  }));
}

/** Writes an operator's change of a rollout or one of its hosts, with its timeline entry. */
export async function recordOperatorEvent(client: pg.PoolClient, rolloutId: number, event: { host?: string; kind: string; from?: string; to?: string; actor: string; detail?: string }, now: Date): Promise<void> {
  await client.query('INSERT INTO rollout_events (rollout_id, at, host, kind, from_state, to_state, actor, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [rolloutId, now, event.host ?? null, event.kind, event.from ?? null, event.to ?? null, event.actor, event.detail ?? null]);
}

export async function updateRolloutState(client: pg.PoolClient, id: number, change: RolloutChange, now: Date): Promise<void> {
  const finished = TERMINAL_ROLLOUT_STATES.has(change.state);
  await client.query(
    `UPDATE rollouts SET state = $2, pause_reason = $3, halt_reason = $4, reason = $5, current_wave = COALESCE($6, current_wave), updated_at = $7, next_pass_at = $7, finished_at = CASE WHEN $8 THEN $7 ELSE finished_at END WHERE id = $1`,
    [id, change.state, change.pauseReason ?? null, change.haltReason ?? null, change.reason ?? null, change.currentWave ?? null, now, finished],
  );
  // An ended rollout's news has no pass left to read it.
  if (finished) await client.query('DELETE FROM rollout_news WHERE rollout_id = $1', [id]);
}

export async function updateRolloutHost(client: pg.PoolClient, rolloutId: number, host: string, change: { state: RolloutHost['state']; attempt?: number; slotHeld?: boolean; lastError?: string | null }, now: Date): Promise<void> {
  await client.query(
    `UPDATE rollout_hosts SET state = $3, state_since = $4, attempt = COALESCE($5, attempt), slot_held = COALESCE($6, slot_held), last_error = CASE WHEN $7 THEN $8 ELSE last_error END, deadline = NULL,
            job_key = CASE WHEN $3 = 'pending' THEN NULL ELSE job_key END, replaced = CASE WHEN $3 = 'pending' THEN '[]'::jsonb ELSE replaced END
      WHERE rollout_id = $1 AND host = $2`,
    [rolloutId, host, change.state, now, change.attempt ?? null, change.slotHeld ?? null, change.lastError !== undefined, change.lastError ?? null],
  );
}

export interface RolloutHostView {
  host: string;
  wave: number;
  state: RolloutHost['state'];
  attempt: number;
  stateSince: Date;
  slotHeld: boolean;
  deadline?: Date;
  lastError?: string;
  replaced: RolloutHost['replaced'];
  /** What the strategy remembers (a node cordoned by fleetpatch, a replacement's name, checklist steps confirmed). */
  memo: RolloutHost['memo'];
  job?: { key: string; step: string; executor: string; dispatchedAt: Date; fetchedAt?: Date; reportedAt?: Date; outcome?: string; output?: string };
}

/** A rollout's hosts as people read them, in admission order, with their current job. */
export async function rolloutHostViews(db: Queryable, id: number): Promise<RolloutHostView[]> {
  const rows = await db.query<{ host: string; wave: number; state: RolloutHost['state']; attempt: number; state_since: Date; slot_held: boolean; deadline: Date | null; last_error: string | null; replaced: RolloutHost['replaced']; memo: RolloutHost['memo']; key: string | null; step: string | null; executor: string | null; dispatched_at: Date | null; fetched_at: Date | null; reported_at: Date | null; result: JobResult | null }>(
    `SELECT rh.host, rh.wave, rh.state, rh.attempt, rh.state_since, rh.slot_held, rh.deadline, rh.last_error, rh.replaced, rh.memo, j.key, j.step, j.executor, j.dispatched_at, j.fetched_at, j.reported_at, j.result
       FROM rollout_hosts rh LEFT JOIN rollout_jobs j ON j.key = rh.job_key WHERE rh.rollout_id = $1 ORDER BY rh.position`,
    [id],
  );
  return rows.rows.map((row) => ({
    host: row.host, wave: row.wave, state: row.state, attempt: row.attempt, stateSince: row.state_since, slotHeld: row.slot_held, replaced: row.replaced, memo: row.memo,
    ...(row.deadline ? { deadline: row.deadline } : {}), ...(row.last_error ? { lastError: row.last_error } : {}),
    ...(row.key ? { job: { key: row.key, step: row.step!, executor: row.executor!, dispatchedAt: row.dispatched_at!, ...(row.fetched_at ? { fetchedAt: row.fetched_at } : {}), ...(row.reported_at ? { reportedAt: row.reported_at } : {}), ...(row.result ? { outcome: row.result.outcome, output: row.result.output } : {}) } } : {}),
  }));
}

export interface GateMeasurementRow {
  gate: string;
  wave: number;
  host: string;
  takenAt: Date;
  phase: 'successful' | 'failed' | 'inconclusive' | 'error';
  value?: number;
  detail: Record<string, unknown>;
}

export async function gateMeasurements(db: Queryable, rolloutId: number): Promise<GateMeasurementRow[]> {
  const rows = await db.query<{ gate: string; wave: number; host: string; taken_at: Date; phase: GateMeasurementRow['phase']; value: number | null; detail: Record<string, unknown> }>(
    'SELECT gate, wave, host, taken_at, phase, value, detail FROM gate_measurements WHERE rollout_id = $1 ORDER BY taken_at, id',
    [rolloutId],
  );
  return rows.rows.map((row) => ({ gate: row.gate, wave: row.wave, host: row.host, takenAt: row.taken_at, phase: row.phase, ...(row.value !== null ? { value: row.value } : {}), detail: row.detail }));
}
