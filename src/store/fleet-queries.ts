/**
 * The fleet numbers the dashboard, the API and /metrics share, aggregated in PostgreSQL from the
 * per-host summaries (no scan of findings), so they stay fast at 100,000 hosts.
 */
import type pg from 'pg';
import type { InstalledPackage } from '../domain/types.js';
import type { DatedUpdate } from './available-update-store.js';

type Queryable = pg.Pool | pg.PoolClient;

export interface FleetRow {
  /** `bucket` or `team` rows, plus one `fleet` total. */
  dimension: 'bucket' | 'team' | 'fleet';
  name: string;
  hosts: number;
  staleHosts: number;
  /** Share of hosts with no open finding (vulnerable or pending reboot). */
  patchCoverage: number;
  openFindings: { critical: number; high: number; medium: number; low: number; other: number };
  pendingReboots: number;
  /**
   * Average days since the open fixes became available: each open finding's fix from its advisory's
   * publication, each other pending upgrade from the fleet's first sight of its candidate version.
   */
  daysBehind: number;
  /** Upgrades the hosts' package managers offer (hosts that report them). */
  availableUpdates: number;
  uptimeDays: { under7: number; under30: number; under90: number; under365: number; over365: number };
  maxUptimeDays: number;
}

export interface FleetSummary {
  generatedAt: string;
  staleAfterSeconds: number;
  fleet: FleetRow;
  buckets: FleetRow[];
  teams: FleetRow[];
  longestUptimes: Array<{ host: string; bucket: string; team: string; uptimeDays: number; rebootRequired: boolean }>;
}

export interface HostGroupRow {
  bucket: string | null;
  team: string | null;
  hosts: number;
  stale: number;
  clean: number;
  critical: number;
  high: number;
  medium: number;
  low: number;
  other: number;
  pending_reboots: number;
  fixes: number;
  fix_day_sum: number;
  available_updates: number;
  under7: number;
  under30: number;
  under90: number;
  under365: number;
  over365: number;
  max_uptime_days: number | null;
}

const DAY_MS = 86_400_000;

/**
 * The hosts' per-host summaries summed per (bucket, team) as of $1, stale after $2 seconds: what
 * the summary and the daily snapshots (fleet-snapshots.ts) are both built from.
 */
export const HOST_GROUPS_SQL = `SELECT bucket, team, count(*)::integer AS hosts,
            count(*) FILTER (WHERE stale)::integer AS stale,
            count(*) FILTER (WHERE open_critical + open_high + open_medium + open_low + open_other = 0)::integer AS clean,
            sum(open_critical)::integer AS critical, sum(open_high)::integer AS high, sum(open_medium)::integer AS medium,
            sum(open_low)::integer AS low, sum(open_other)::integer AS other,
            count(*) FILTER (WHERE reboot_required OR pending_reboot_findings > 0)::integer AS pending_reboots,
            sum(open_fixes)::double precision AS fixes, sum(open_fix_available_day_sum)::double precision AS fix_day_sum,
            coalesce(sum(available_update_count), 0)::integer AS available_updates,
            count(*) FILTER (WHERE uptime < 7)::integer AS under7,
            count(*) FILTER (WHERE uptime >= 7 AND uptime < 30)::integer AS under30,
            count(*) FILTER (WHERE uptime >= 30 AND uptime < 90)::integer AS under90,
            count(*) FILTER (WHERE uptime >= 90 AND uptime < 365)::integer AS under365,
            count(*) FILTER (WHERE uptime >= 365)::integer AS over365,
            max(uptime)::double precision AS max_uptime_days
       FROM (SELECT bucket, team, open_critical, open_high, open_medium, open_low, open_other, reboot_required,
                    pending_reboot_findings, open_fixes, open_fix_available_day_sum, available_update_count,
                    (last_seen_at IS NULL OR last_seen_at < $1::timestamptz - make_interval(secs => $2)) AS stale,
                    extract(epoch FROM ($1::timestamptz - boot_time)) / 86400 AS uptime
               FROM hosts) AS h
      GROUP BY bucket, team`;

/** @example await fleetSummary(pool, { staleAfterSeconds: 3600, now: new Date() }) */
export async function fleetSummary(db: Queryable, options: { staleAfterSeconds: number; now: Date }): Promise<FleetSummary> {
  // One pass over hosts grouped by (bucket, team) — few groups — then buckets, teams and the fleet
  // are summed here: every number is additive except the maximum uptime.
  const result = await db.query<HostGroupRow>(HOST_GROUPS_SQL, [options.now, options.staleAfterSeconds]);
  const today = options.now.getTime() / DAY_MS;
  const buckets = new Map<string, HostGroupRow>();
  const teams = new Map<string, HostGroupRow>();
  let fleet: HostGroupRow = emptyRow();
  for (const row of result.rows) {
    buckets.set(row.bucket!, addRows(buckets.get(row.bucket!) ?? emptyRow(), row));
    teams.set(row.team!, addRows(teams.get(row.team!) ?? emptyRow(), row));
    fleet = addRows(fleet, row);
  }
  const longest = await db.query<{ name: string; bucket: string; team: string; uptime_days: number; reboot_required: boolean }>(
    `SELECT name, bucket, team, extract(epoch FROM ($1::timestamptz - boot_time)) / 86400 AS uptime_days, reboot_required
       FROM hosts WHERE boot_time IS NOT NULL ORDER BY boot_time ASC LIMIT 10`,
    [options.now],
  );
  const rowsOf = (dimension: 'bucket' | 'team', groups: Map<string, HostGroupRow>) =>
    [...groups].map(([name, row]) => fleetRowOf(dimension, name, row, today)).sort((a, b) => b.hosts - a.hosts);
  return {
    generatedAt: options.now.toISOString(),
    staleAfterSeconds: options.staleAfterSeconds,
    fleet: fleetRowOf('fleet', 'fleet', fleet, today),
    buckets: rowsOf('bucket', buckets),
    teams: rowsOf('team', teams),
    longestUptimes: longest.rows.map((row) => ({ host: row.name, bucket: row.bucket, team: row.team, uptimeDays: round(Number(row.uptime_days)), rebootRequired: row.reboot_required })),
  };
}

/** The sums a group adds up (every number but the longest uptime). */
const ADDITIVE = ['hosts', 'stale', 'clean', 'critical', 'high', 'medium', 'low', 'other', 'pending_reboots', 'fixes', 'fix_day_sum', 'available_updates', 'under7', 'under30', 'under90', 'under365', 'over365'] as const;

export function emptyRow(): HostGroupRow {
  return { bucket: null, team: null, hosts: 0, stale: 0, clean: 0, critical: 0, high: 0, medium: 0, low: 0, other: 0, pending_reboots: 0, fixes: 0, fix_day_sum: 0, available_updates: 0, under7: 0, under30: 0, under90: 0, under365: 0, over365: 0, max_uptime_days: null };
}

export function addRows(total: HostGroupRow, row: HostGroupRow): HostGroupRow {
  const sum = { ...total };
  for (const field of ADDITIVE) sum[field] = (total[field] ?? 0) + (row[field] ?? 0);
  sum.max_uptime_days = Math.max(total.max_uptime_days ?? 0, row.max_uptime_days ?? 0);
  return sum;
}

/** The derived numbers of a group's sums; `today` in days since the epoch (days behind are counted to it). */
export function fleetRowOf(dimension: FleetRow['dimension'], name: string, row: HostGroupRow, today: number): FleetRow {
  return {
    dimension,
    name,
    hosts: row.hosts,
    staleHosts: row.stale,
    patchCoverage: row.hosts === 0 ? 1 : round(row.clean / row.hosts, 4),
    openFindings: { critical: row.critical ?? 0, high: row.high ?? 0, medium: row.medium ?? 0, low: row.low ?? 0, other: row.other ?? 0 },
    pendingReboots: row.pending_reboots,
    daysBehind: row.fixes > 0 ? round((row.fixes * today - row.fix_day_sum) / row.fixes) : 0,
    availableUpdates: row.available_updates,
    uptimeDays: { under7: row.under7, under30: row.under30, under90: row.under90, under365: row.under365, over365: row.over365 },
    maxUptimeDays: round(row.max_uptime_days ?? 0),
  };
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface HostPage {
  total: number;
  hosts: Array<{
    name: string;
    bucket: string;
    team: string;
    os?: string;
    runningKernel?: string;
    rebootRequired: boolean;
    stale: boolean;
    lastSeenAt?: string;
    uptimeDays?: number;
    openFindings: { critical: number; high: number; medium: number; low: number; other: number };
    pendingRebootFindings: number;
  }>;
}

/** A page of hosts, filtered by bucket, team, name search, staleness; worst first. */
export async function hostPage(
  db: Queryable,
  filter: { bucket?: string; team?: string; search?: string; stale?: boolean; offset: number; limit: number; staleAfterSeconds: number; now: Date },
): Promise<HostPage> {
  const where = `($3::text IS NULL OR bucket = $3) AND ($4::text IS NULL OR team = $4) AND ($5::text IS NULL OR name ILIKE '%' || $5 || '%' ESCAPE '\\')
                 AND ($6::boolean IS NULL OR (last_seen_at IS NULL OR last_seen_at < $1::timestamptz - make_interval(secs => $2))= $6)`;
  // The search is a literal substring: LIKE's wildcards and its escape character are escaped.
  const search = filter.search === undefined ? null : filter.search.replace(/[\\%_]/g, (character) => `\\${character}`);
  const parameters = [filter.now, filter.staleAfterSeconds, filter.bucket ?? null, filter.team ?? null, search, filter.stale ?? null];
  const [count, page] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM hosts WHERE ${where}`, parameters),
    db.query<{
      name: string; bucket: string; team: string; os_pretty_name: string | null; os_ecosystem: string | null; running_kernel: string | null;
      reboot_required: boolean; stale: boolean; last_seen_at: Date | null; uptime_days: number | null;
      open_critical: number; open_high: number; open_medium: number; open_low: number; open_other: number; pending_reboot_findings: number;
    }>(
      `SELECT name, bucket, team, os_pretty_name, os_ecosystem, running_kernel, reboot_required,
              (last_seen_at IS NULL OR last_seen_at < $1::timestamptz - make_interval(secs => $2)) AS stale, last_seen_at,
              extract(epoch FROM ($1::timestamptz - boot_time)) / 86400 AS uptime_days,
              open_critical, open_high, open_medium, open_low, open_other, pending_reboot_findings
         FROM hosts WHERE ${where}
        ORDER BY open_critical DESC, open_high DESC, open_medium DESC, name
        OFFSET $7 LIMIT $8`,
      [...parameters, filter.offset, filter.limit],
    ),
  ]);
  return {
    total: count.rows[0]!.n,
    hosts: page.rows.map((row) => ({
      name: row.name,
      bucket: row.bucket,
      team: row.team,
      ...(row.os_pretty_name ?? row.os_ecosystem ? { os: (row.os_pretty_name ?? row.os_ecosystem)! } : {}),
      ...(row.running_kernel ? { runningKernel: row.running_kernel } : {}),
      rebootRequired: row.reboot_required,
      stale: row.stale,
      ...(row.last_seen_at ? { lastSeenAt: row.last_seen_at.toISOString() } : {}),
      ...(row.uptime_days !== null ? { uptimeDays: round(Number(row.uptime_days)) } : {}),
      openFindings: { critical: row.open_critical, high: row.open_high, medium: row.open_medium, low: row.open_low, other: row.open_other },
      pendingRebootFindings: row.pending_reboot_findings,
    })),
  };
}

export interface HostDetail {
  name: string;
  bucket: string;
  team: string;
  labels: Record<string, string>;
  os?: string;
  osEcosystem?: string;
  arch?: string;
  runningKernel?: string;
  installedKernels: Array<{ name: string; version: string }>;
  rebootRequired: boolean;
  bootTime?: string;
  uptimeDays?: number;
  lastSeenAt?: string;
  stale: boolean;
  agentVersion?: string;
  packageCount: number;
  /** The package manager's pending upgrades with when each became available; absent when not reported. */
  availableUpdates?: DatedUpdate[];
}

export async function hostDetail(db: Queryable, name: string, options: { staleAfterSeconds: number; now: Date }): Promise<HostDetail | undefined> {
  const result = await db.query<{
    name: string; bucket: string; team: string; labels: Record<string, string>; os_pretty_name: string | null; os_ecosystem: string | null;
    arch: string | null; running_kernel: string | null; reboot_required: boolean; boot_time: Date | null; last_seen_at: Date | null;
    agent_version: string | null; package_keys: number[] | null; available_updates: DatedUpdate[] | null;
  }>(
    `SELECT h.name, h.bucket, h.team, h.labels, h.os_pretty_name, h.os_ecosystem, h.arch, h.running_kernel, h.reboot_required,
            h.boot_time, h.last_seen_at, h.agent_version, s.package_keys, u.updates AS available_updates
       FROM hosts h LEFT JOIN package_sets s ON s.key = h.package_set_key LEFT JOIN host_available_updates u ON u.host_key = h.key
      WHERE h.name = $1`,
    [name],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  const kernels = await db.query<{ name: string; version: string }>(
    `SELECT name, version FROM package_versions WHERE key = ANY($1::integer[])
        AND (name IN ('kernel', 'kernel-core', 'linux-lts', 'linux-virt') OR name LIKE 'linux-image-%')
      ORDER BY name, version`,
    [row.package_keys ?? []],
  );
  const staleBefore = options.now.getTime() - options.staleAfterSeconds * 1000;
  const detail: HostDetail = {
    name: row.name,
    bucket: row.bucket,
    team: row.team,
    labels: row.labels,
    installedKernels: kernels.rows,
    rebootRequired: row.reboot_required,
    stale: row.last_seen_at === null || row.last_seen_at.getTime() < staleBefore,
    packageCount: row.package_keys?.length ?? 0,
  };
  if (row.os_pretty_name) detail.os = row.os_pretty_name;
  if (row.os_ecosystem) detail.osEcosystem = row.os_ecosystem;
  if (row.arch) detail.arch = row.arch;
  if (row.running_kernel) detail.runningKernel = row.running_kernel;
  if (row.boot_time) {
    detail.bootTime = row.boot_time.toISOString();
    detail.uptimeDays = round((options.now.getTime() - row.boot_time.getTime()) / DAY_MS);
  }
  if (row.last_seen_at) detail.lastSeenAt = row.last_seen_at.toISOString();
  if (row.agent_version) detail.agentVersion = row.agent_version;
  if (row.available_updates) detail.availableUpdates = [...row.available_updates].sort((a, b) => a.availableSince.localeCompare(b.availableSince) || a.name.localeCompare(b.name));
  return detail;
}

/** The packages of a host, for the host page; undefined when there is no such host. */
export async function hostPackages(db: Queryable, name: string): Promise<Array<{ name: string; version: string; arch?: string; sourceName?: string }> | undefined> {
  const result = await db.query<{ name: string | null; version: string; arch: string; source_name: string }>(
    `SELECT p.name, p.version, p.arch, p.source_name FROM hosts h LEFT JOIN package_sets s ON s.key = h.package_set_key
       LEFT JOIN package_versions p ON p.key = ANY(s.package_keys) WHERE h.name = $1 ORDER BY p.name`,
    [name],
  );
  if (result.rows.length === 0) return undefined;
  return result.rows.filter((row) => row.name !== null).map((row) => ({ name: row.name!, version: row.version, ...(row.arch ? { arch: row.arch } : {}), ...(row.source_name ? { sourceName: row.source_name } : {}) }));
}

export interface StoredInventory {
  name: string;
  labels: Record<string, string>;
  os?: { id: string; idLike: string[]; versionId?: string; prettyName?: string };
  osEcosystem?: string;
  runningKernel?: string;
  rebootRequired: boolean;
  packages: InstalledPackage[];
}

/** The hosts whose names start with `prefix`, as their last check-in described them (the demo's simulated agents carry on from there). */
export async function storedInventories(db: Queryable, prefix: string): Promise<StoredInventory[]> {
  const hosts = await db.query<{ name: string; labels: Record<string, string>; os_id: string | null; os_id_like: string[] | null; os_version: string | null; os_pretty_name: string | null; os_ecosystem: string | null; running_kernel: string | null; reboot_required: boolean; packages: Array<{ ecosystem: string; name: string; version: string; arch: string; source_name: string; source_version: string; epoch_known: boolean }> | null }>(
    `SELECT h.name, h.labels, h.os_id, h.os_id_like, h.os_version, h.os_pretty_name, h.os_ecosystem, h.running_kernel, h.reboot_required,
            (SELECT jsonb_agg(jsonb_build_object('ecosystem', p.ecosystem, 'name', p.name, 'version', p.version, 'arch', p.arch, 'source_name', p.source_name, 'source_version', p.source_version, 'epoch_known', p.epoch_known) ORDER BY p.name, p.arch)
               FROM package_sets s JOIN package_versions p ON p.key = ANY(s.package_keys) WHERE s.key = h.package_set_key) AS packages
       FROM hosts h WHERE starts_with(h.name, $1) ORDER BY h.name`,
    [prefix],
  );
  return hosts.rows.map((row) => ({
    name: row.name,
    labels: row.labels,
    ...(row.os_id ? { os: { id: row.os_id, idLike: row.os_id_like ?? [], ...(row.os_version ? { versionId: row.os_version } : {}), ...(row.os_pretty_name ? { prettyName: row.os_pretty_name } : {}) } } : {}),
    ...(row.os_ecosystem ? { osEcosystem: row.os_ecosystem } : {}),
    ...(row.running_kernel ? { runningKernel: row.running_kernel } : {}),
    rebootRequired: row.reboot_required,
    packages: (row.packages ?? []).map((pkg) => ({
      ecosystem: pkg.ecosystem, name: pkg.name, version: pkg.version,
      ...(pkg.arch ? { arch: pkg.arch } : {}), ...(pkg.source_name ? { sourceName: pkg.source_name } : {}), ...(pkg.source_version ? { sourceVersion: pkg.source_version } : {}), ...(pkg.epoch_known ? {} : { epochKnown: false }),
    })),
  }));
}
