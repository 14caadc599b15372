/**
 * An incident's scope: the hosts its advisories affect, counted per bucket and per owner team by
 * where they stand — vulnerable, patched but pending reboot, live, excluded, unknown — and whether
 * the incident may close. It closes only when every host is live or excluded with a reason; a host
 * whose agent went quiet counts as unknown whatever it last said, because "fixed when last seen"
 * is not evidence that it is fixed now.
 */
import { formatPolicyDuration } from '../policy/policy-duration.js';

/** Where one host stands against one of the incident's advisories, as detection last judged it. */
export type ScopeFindingState =
  | 'vulnerable'
  /** The fix is installed but the running kernel or services still carry the flaw. */
  | 'pending-reboot'
  /** Fixed, and the fix is what runs. */
  | 'live';

export interface ScopeHostInput {
  name: string;
  bucket: string;
  team: string;
  state: ScopeFindingState;
  /** The host's last check-in; undefined: never seen. */
  lastSeenAt?: Date | undefined;
  /** Set when this finding is taken out of the incident (an accepted risk, a decommissioned host). */
  excluded?: { reason: string } | undefined;
}

export type ScopeHostStatus = ScopeFindingState | 'excluded' | 'unknown';

export interface ScopedHost {
  name: string;
  bucket: string;
  team: string;
  status: ScopeHostStatus;
  lastSeenAt?: Date | undefined;
  /** The exclusions' reasons, when every finding of the host is excluded. */
  exclusionReasons?: string[];
}

export interface ScopeCounts {
  hosts: number;
  vulnerable: number;
  pendingReboot: number;
  live: number;
  excluded: number;
  unknown: number;
}

export interface BucketScope {
  bucket: string;
  counts: ScopeCounts;
}

export interface TeamScope {
  team: string;
  counts: ScopeCounts;
}

/** Hosts of one bucket that keep the incident open for one reason. */
export interface CloseBlocker {
  bucket: string;
  status: Extract<ScopeHostStatus, 'vulnerable' | 'pending-reboot' | 'unknown'>;
  /** Sorted by name. */
  hosts: string[];
  /** In words, e.g. `databases: 2 hosts patched but pending reboot (db-1, db-2)`. */
  text: string;
}

export interface IncidentScope {
  asOf: Date;
  /** One entry per host, sorted by name. */
  hosts: ScopedHost[];
  total: ScopeCounts;
  /** Sorted by bucket name. */
  byBucket: BucketScope[];
  /** Sorted by team name. */
  byTeam: TeamScope[];
  /** Every host is live or excluded (an empty scope too). */
  closable: boolean;
  closeBlockers: CloseBlocker[];
}

export interface ScopeOptions {
  now: Date;
  /** A host not seen for longer than this is unknown. */
  staleAfterMs: number;
}

export const SCOPE_COUNT_KEYS = ['vulnerable', 'pendingReboot', 'live', 'excluded', 'unknown'] as const satisfies readonly (keyof ScopeCounts)[];

const COUNT_KEY: Record<ScopeHostStatus, (typeof SCOPE_COUNT_KEYS)[number]> = {
  vulnerable: 'vulnerable', 'pending-reboot': 'pendingReboot', live: 'live', excluded: 'excluded', unknown: 'unknown',
};

/** Most urgent first: a host with one vulnerable and one live finding is vulnerable. */
const STATE_URGENCY: readonly ScopeFindingState[] = ['vulnerable', 'pending-reboot', 'live'];

const BLOCKING: readonly CloseBlocker['status'][] = ['vulnerable', 'pending-reboot', 'unknown'];

/** How many host names a blocker's text shows before "and N more". */
const NAMES_SHOWN = 5;

/**
 * The scope as of `now`. The input may list a host once per finding (one per advisory and
 * package): the host is excluded only when all its findings are; otherwise it is unknown when
 * stale, else its most urgent non-excluded state. Bucket and team come from the host's first row.
 *
 * @example computeIncidentScope([{ name: 'db-1', bucket: 'databases', team: 'data', state: 'pending-reboot', lastSeenAt: now }], { now, staleAfterMs: 3_600_000 })
 *   // { total: { hosts: 1, pendingReboot: 1, … }, closable: false, closeBlockers: [{ text: 'databases: 1 host patched but pending reboot (db-1)', … }], … }
 */
export function computeIncidentScope(rows: readonly ScopeHostInput[], options: ScopeOptions): IncidentScope {
  const byName = new Map<string, ScopeHostInput[]>();
  for (const row of rows) {
    const list = byName.get(row.name);
    if (list) list.push(row);
    else byName.set(row.name, [row]);
  }
  const hosts = [...byName.values()].map((findings) => scopedHost(findings, options)).sort((a, b) => compare(a.name, b.name));

  const total = emptyCounts();
  const buckets = new Map<string, ScopeCounts>();
  const teams = new Map<string, ScopeCounts>();
  for (const host of hosts) {
    for (const counts of [total, countsFor(buckets, host.bucket), countsFor(teams, host.team)]) {
      counts.hosts += 1;
      counts[COUNT_KEY[host.status]] += 1;
    }
  }
  const closeBlockers = blockersOf(hosts, options.staleAfterMs);
  return {
    asOf: options.now,
    hosts,
    total,
    byBucket: sortedEntries(buckets).map(([bucket, counts]) => ({ bucket, counts })),
    byTeam: sortedEntries(teams).map(([team, counts]) => ({ team, counts })),
    closable: closeBlockers.length === 0,
    closeBlockers,
  };
}

export function emptyCounts(): ScopeCounts {
  return { hosts: 0, vulnerable: 0, pendingReboot: 0, live: 0, excluded: 0, unknown: 0 };
}

function scopedHost(findings: readonly ScopeHostInput[], { now, staleAfterMs }: ScopeOptions): ScopedHost {
  const { name, bucket, team } = findings[0]!;
  const lastSeenAt = latest(findings.map((finding) => finding.lastSeenAt));
  const open = findings.filter((finding) => finding.excluded === undefined);
  if (open.length === 0) return { name, bucket, team, lastSeenAt, status: 'excluded', exclusionReasons: [...new Set(findings.map((finding) => finding.excluded!.reason))] };
  const stale = lastSeenAt === undefined || now.getTime() - lastSeenAt.getTime() > staleAfterMs;
  const status = stale ? 'unknown' : STATE_URGENCY.find((state) => open.some((finding) => finding.state === state))!;
  return { name, bucket, team, lastSeenAt, status };
}

function blockersOf(hosts: readonly ScopedHost[], staleAfterMs: number): CloseBlocker[] {
  const groups = new Map<string, { bucket: string; status: CloseBlocker['status']; hosts: string[] }>();
  for (const host of hosts) {
    const status = host.status;
    if (status !== 'vulnerable' && status !== 'pending-reboot' && status !== 'unknown') continue;
    const key = `${host.bucket}\u0000${status}`;
    const group = groups.get(key) ?? { bucket: host.bucket, status, hosts: [] };
    group.hosts.push(host.name);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => compare(a.bucket, b.bucket) || BLOCKING.indexOf(a.status) - BLOCKING.indexOf(b.status))
    .map((group) => ({ ...group, text: `${group.bucket}: ${hostCount(group.hosts.length)} ${BLOCKER_WORDS[group.status]} (${hostNames(group.hosts)})${group.status === 'unknown' ? `: no check-in for over ${formatPolicyDuration(staleAfterMs)}` : ''}` }));
}

const BLOCKER_WORDS: Record<CloseBlocker['status'], string> = { vulnerable: 'vulnerable', 'pending-reboot': 'patched but pending reboot', unknown: 'unknown' };

/** `1 host`, `3 hosts`. */
export function hostCount(count: number): string {
  return count === 1 ? '1 host' : `${count} hosts`;
}

/** The first few names, then how many more. */
export function hostNames(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

function latest(dates: readonly (Date | undefined)[]): Date | undefined {
  let best: Date | undefined;
  for (const date of dates) if (date !== undefined && (best === undefined || date.getTime() > best.getTime())) best = date;
  return best;
}

function countsFor(map: Map<string, ScopeCounts>, key: string): ScopeCounts {
  let counts = map.get(key);
  if (!counts) map.set(key, (counts = emptyCounts()));
  return counts;
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => compare(a, b));
}

/** Code-point order: the same on every machine, unlike `localeCompare`. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
