/**
 * Findings in PostgreSQL: merges what detection says now with what was known before, keeping
 * first-seen, installed and resolved (live) times (time to patch is measured to both) and the
 * pending-reboot state of a fix that is on disk but not live yet. Only what changed is written:
 * an unchanged fleet re-evaluates without touching a row.
 */
import type pg from 'pg';
import type { DetectedState } from '../domain/detection/host-findings.js';
import { copyRows, type CopyValue } from './copy-rows.js';

export interface StagedFinding {
  hostKey: number;
  advisoryKey: number;
  packageName: string;
  packageKey: number;
  fixedVersion?: string;
  state: DetectedState;
  stateReason?: string;
}

/** What the fleet numbers need of a host's findings, stored beside its findings digest. */
export interface HostFindingSummary {
  digest: string;
  openCritical: number;
  openHigh: number;
  openMedium: number;
  openLow: number;
  openOther: number;
  pendingRebootFindings: number;
  openFixes: number;
  openFixAvailableDaySum: number;
}

export interface MergeCounts {
  opened: number;
  updated: number;
  resolved: number;
}

/** The counts of a merge, in all and per host (hosts with none are absent). */
export interface HostMergeCounts extends MergeCounts {
  byHost: Map<number, MergeCounts>;
}

/** A merge that wrote nothing (a new object each time: callers add to its map). */
export const nothingMerged = (): HostMergeCounts => ({ opened: 0, updated: 0, resolved: 0, byHost: new Map() });

function countOf(byHost: Map<number, MergeCounts>, hostKey: number): MergeCounts {
  let counts = byHost.get(hostKey);
  if (!counts) byHost.set(hostKey, (counts = { opened: 0, updated: 0, resolved: 0 }));
  return counts;
}

const COLUMNS = ['host_key', 'advisory_key', 'package_name', 'package_key', 'fixed_version', 'state', 'state_reason'];
/** Below this many rows, arrays in one statement beat a staging table. */
const SMALL_BATCH = 5_000;

/**
 * Makes `findings` the complete current findings of the hosts in `digests` and records each host's
 * new findings digest and summary. `findings` holds one row per (host, advisory, package name), as
 * detection's `collapseDrafts` leaves them, so the summary counts exactly the rows written. `newHostKeys` are hosts created in this transaction: they have no history,
 * so their findings are bulk-copied straight in. Must run inside a transaction.
 */
export async function mergeFindings(
  client: pg.PoolClient,
  findings: StagedFinding[],
  now: Date,
  digests: Map<number, HostFindingSummary>,
  newHostKeys: ReadonlySet<number> = new Set(),
): Promise<HostMergeCounts> {
  const fresh = findings.filter((finding) => newHostKeys.has(finding.hostKey));
  const known = findings.filter((finding) => !newHostKeys.has(finding.hostKey));
  const knownDigests = new Map([...digests].filter(([hostKey]) => !newHostKeys.has(hostKey)));
  const freshDigests = new Map([...digests].filter(([hostKey]) => newHostKeys.has(hostKey)));
  if (fresh.length > 0) {
    await copyRows(client, 'findings', [...COLUMNS, 'first_seen_at', 'installed_at'], rowsOf(fresh, now.toISOString()));
  }
  await saveFindingSummaries(client, freshDigests);
  const counts = knownDigests.size === 0 ? nothingMerged() : await mergeKnownHosts(client, knownDigests, known, now);
  for (const finding of fresh) countOf(counts.byHost, finding.hostKey).opened++;
  return { ...counts, opened: counts.opened + fresh.length };
}

function* rowsOf(findings: StagedFinding[], firstSeen?: string): Generator<CopyValue[]> {
  for (const finding of findings) {
    const row: CopyValue[] = [finding.hostKey, finding.advisoryKey, finding.packageName, finding.packageKey, finding.fixedVersion, finding.state, finding.stateReason];
    // A new host's fix already on disk was installed, as far as anyone knows, when it was first seen.
    if (firstSeen !== undefined) row.push(firstSeen, finding.state === 'pending-reboot' ? firstSeen : undefined);
    yield row;
  }
}

/**
 * One statement (one round trip): upserts what is new or different, resolves open findings
 * detection no longer reports, and records the hosts' new digests and summaries. Both finding
 * writes skip unchanged rows before writing (anti-joins), so nothing unchanged is locked or
 * rewritten; the summaries touch columns the other writes do not read.
 */
async function mergeKnownHosts(client: pg.PoolClient, summaries: Map<number, HostFindingSummary>, findings: StagedFinding[], now: Date): Promise<HostMergeCounts> {
  const staged = findings.length < SMALL_BATCH ? stageAsValues(findings) : await stageInTable(client, findings);
  const next = staged.parameters.length + 2;
  const summary = summaryUpdate(summaries, next + 1);
  const result = await client.query<{ host_key: number; opened: number; upserted: number; resolved: number }>({
    // From arrays the text is always the same: prepared once per connection, since planning this
    // statement took longer than running it (bench:rollout: 9.8 s of planning for 5.8 s of work
    // over 10,000 check-ins). A staging table's text is the same too, but its plan must follow
    // the table's fresh statistics.
    ...(staged.parameters.length > 0 ? { name: 'fleetpatch-merge-known-findings' } : {}),
    text: `WITH staged AS (${staged.source}),
     summarized AS (${summary.statement} RETURNING 1),
     upserted AS (
       INSERT INTO findings AS f (host_key, advisory_key, package_name, package_key, fixed_version, state, state_reason, first_seen_at, resolved_at, installed_at)
       SELECT s.host_key, s.advisory_key, s.package_name, s.package_key, s.fixed_version, s.state, s.state_reason, $1::timestamptz, NULL::timestamptz,
              CASE WHEN s.state = 'pending-reboot' THEN $1::timestamptz END
         FROM staged s
        -- The merged hosts' own rows only (their key prefix of the primary key): a planner that
        -- misjudges the table's size would otherwise hash every open finding of the fleet.
        WHERE NOT EXISTS (
                SELECT 1 FROM findings o
                 WHERE o.host_key = ANY($${next}::integer[])
                   AND o.host_key = s.host_key AND o.advisory_key = s.advisory_key AND o.package_name = s.package_name
                   AND o.resolved_at IS NULL AND o.package_key = s.package_key AND o.state = s.state
                   AND o.fixed_version IS NOT DISTINCT FROM s.fixed_version AND o.state_reason IS NOT DISTINCT FROM s.state_reason)
       ON CONFLICT (host_key, advisory_key, package_name) DO UPDATE SET
         package_key = excluded.package_key, fixed_version = excluded.fixed_version, state = excluded.state,
         state_reason = excluded.state_reason, resolved_at = NULL,
         -- A regression after a fix opens a new exposure window.
         first_seen_at = CASE WHEN f.resolved_at IS NOT NULL THEN excluded.first_seen_at ELSE f.first_seen_at END,
         -- Installed once per window: vulnerable again clears it; a fix first on disk (pending
         -- reboot) or a vulnerable kernel left idle by booting a fixed one sets it; else it stays.
         installed_at = CASE
           WHEN excluded.state = 'vulnerable' THEN NULL
           WHEN f.resolved_at IS NOT NULL THEN CASE WHEN excluded.state = 'pending-reboot' THEN $1::timestamptz END
           WHEN f.installed_at IS NOT NULL THEN f.installed_at
           WHEN excluded.state = 'pending-reboot' OR f.state = 'vulnerable' THEN $1::timestamptz
         END
       RETURNING f.host_key, (xmax = 0) AS opened
     ),
     -- Open findings detection no longer reports are fixed, unless the host still waits for a
     -- reboot: then the fix is on disk but not live.
     resolved AS (
       UPDATE findings f SET
         state = CASE WHEN h.reboot_required THEN 'pending-reboot' ELSE 'fixed' END,
         state_reason = CASE WHEN h.reboot_required THEN '${PENDING_REASON}' ELSE NULL END,
         resolved_at = CASE WHEN h.reboot_required THEN NULL ELSE $1::timestamptz END,
         -- Installed when it first waited for a reboot, or now, when it is live at once.
         installed_at = COALESCE(f.installed_at, $1::timestamptz)
         FROM hosts h
        WHERE h.key = f.host_key AND f.host_key = ANY($${next}::integer[]) AND f.resolved_at IS NULL
          AND NOT (h.reboot_required AND f.state = 'pending-reboot' AND f.state_reason = '${PENDING_REASON}')
          AND NOT EXISTS (SELECT 1 FROM staged s WHERE s.host_key = f.host_key AND s.advisory_key = f.advisory_key AND s.package_name = f.package_name)
       RETURNING f.host_key
     )
     -- Per host: a batch of check-ins answers each with its own.
     SELECT host_key, count(*) FILTER (WHERE kind = 'opened')::integer AS opened, count(*) FILTER (WHERE kind <> 'resolved')::integer AS upserted,
            count(*) FILTER (WHERE kind = 'resolved')::integer AS resolved
       FROM (SELECT host_key, CASE WHEN opened THEN 'opened' ELSE 'updated' END AS kind FROM upserted
             UNION ALL SELECT host_key, 'resolved' FROM resolved) changed
      GROUP BY host_key`,
    values: [now, ...staged.parameters, [...summaries.keys()], ...summary.parameters],
  });
  const total: HostMergeCounts = { opened: 0, updated: 0, resolved: 0, byHost: new Map() };
  for (const row of result.rows) {
    const counts = { opened: row.opened, updated: row.upserted - row.opened, resolved: row.resolved };
    total.byHost.set(row.host_key, counts);
    total.opened += counts.opened;
    total.updated += counts.updated;
    total.resolved += counts.resolved;
  }
  return total;
}

const PENDING_REASON = 'fixed version installed; the host reports a reboot is required';

interface StagedSource {
  /** A SELECT producing the staged rows, for use in a CTE. */
  source: string;
  /** Its parameters, numbered from $2. */
  parameters: unknown[];
}

function stageAsValues(findings: StagedFinding[]): StagedSource {
  return {
    source: `SELECT * FROM unnest($2::integer[], $3::integer[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::text[])
               AS u(host_key, advisory_key, package_name, package_key, fixed_version, state, state_reason)`,
    parameters: [
      findings.map((finding) => finding.hostKey),
      findings.map((finding) => finding.advisoryKey),
      findings.map((finding) => finding.packageName),
      findings.map((finding) => finding.packageKey),
      findings.map((finding) => finding.fixedVersion ?? null),
      findings.map((finding) => finding.state),
      findings.map((finding) => finding.stateReason ?? null),
    ],
  };
}

async function stageInTable(client: pg.PoolClient, findings: StagedFinding[]): Promise<StagedSource> {
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS staged_findings (
       host_key integer, advisory_key integer, package_name text, package_key integer,
       fixed_version text, state text, state_reason text
     ) ON COMMIT DELETE ROWS`,
  );
  await client.query('TRUNCATE staged_findings');
  await copyRows(client, 'staged_findings', COLUMNS, rowsOf(findings));
  await client.query('ANALYZE staged_findings');
  return { source: 'SELECT * FROM staged_findings', parameters: [] };
}

/** The findings digest last written for each host (undefined for hosts never evaluated). */
export async function loadFindingDigests(client: pg.PoolClient, hostKeys: number[]): Promise<Map<number, string | undefined>> {
  const result = await client.query<{ key: number; findings_digest: string | null }>('SELECT key, findings_digest FROM hosts WHERE key = ANY($1::integer[])', [hostKeys]);
  return new Map(result.rows.map((row) => [row.key, row.findings_digest ?? undefined]));
}

async function saveFindingSummaries(client: pg.PoolClient, summaries: Map<number, HostFindingSummary>): Promise<void> {
  if (summaries.size === 0) return;
  const update = summaryUpdate(summaries, 1);
  await client.query(update.statement, update.parameters);
}

/** The UPDATE recording hosts' findings digests and summaries, its parameters numbered from `first`. */
function summaryUpdate(summaries: Map<number, HostFindingSummary>, first: number): { statement: string; parameters: unknown[] } {
  const values = [...summaries.values()];
  const types = ['integer', 'text', 'integer', 'integer', 'integer', 'integer', 'integer', 'integer', 'integer', 'double precision'];
  return {
    statement: `UPDATE hosts h SET findings_digest = d.digest, open_critical = d.critical, open_high = d.high, open_medium = d.medium,
            open_low = d.low, open_other = d.other, pending_reboot_findings = d.pending, open_fixes = d.fixes,
            open_fix_available_day_sum = d.day_sum
       FROM unnest(${types.map((type, index) => `$${first + index}::${type}[]`).join(', ')})
            AS d(key, digest, critical, high, medium, low, other, pending, fixes, day_sum)
      WHERE h.key = d.key`,
    parameters: [
      [...summaries.keys()],
      values.map((summary) => summary.digest),
      values.map((summary) => summary.openCritical),
      values.map((summary) => summary.openHigh),
      values.map((summary) => summary.openMedium),
      values.map((summary) => summary.openLow),
      values.map((summary) => summary.openOther),
      values.map((summary) => summary.pendingRebootFindings),
      values.map((summary) => summary.openFixes),
      values.map((summary) => summary.openFixAvailableDaySum),
    ],
  };
}
