/**
 * The incident's status updates: the draft fleetpatch writes for the commander (per bucket and
 * team: the numbers and their change since the last update, the blockers, the forecast to done),
 * as a structured object and as Markdown, and the cadence that says when the next one is due and
 * which were missed.
 */
import { InputError } from '../errors.js';
import { compare, emptyCounts, hostCount, SCOPE_COUNT_KEYS, type IncidentScope, type ScopeCounts } from './incident-scope.js';
import { markdownText, utcMinute } from './incident-markdown.js';

/** Trouble the rollouts report that keeps hosts from being patched. */
export type OperationalBlockerKind = 'failed' | 'stale-agent' | 'drain-stuck' | 'reboot-stuck';

export interface OperationalBlocker {
  host: string;
  bucket: string;
  kind: OperationalBlockerKind;
  /** In words: the step's error, what the drain waits on. */
  detail: string;
}

export interface StatusDraftInput {
  incident: { id: string; title: string };
  /** The scope of the last posted update; undefined for the first update. */
  previous?: Pick<IncidentScope, 'total' | 'byBucket' | 'byTeam'> | undefined;
  current: IncidentScope;
  /** From the rollouts (failed hosts, stuck drains); the scope's stale hosts are added to them. */
  blockers: readonly OperationalBlocker[];
  /** Per bucket, when its last host is expected live; undefined or absent: no forecast (a host without a slot). */
  forecasts: ReadonlyMap<string, Date | undefined>;
  nextUpdateDueAt?: Date | undefined;
}

export interface BucketStatus {
  bucket: string;
  counts: ScopeCounts;
  /** Since the last update; undefined on the first. */
  change?: ScopeCounts | undefined;
  /** No host vulnerable, pending reboot or unknown. */
  done: boolean;
  forecastDoneAt?: Date | undefined;
  blockers: OperationalBlocker[];
}

export interface TeamStatus {
  team: string;
  counts: ScopeCounts;
  change?: ScopeCounts | undefined;
}

export interface StatusDraft {
  incidentId: string;
  at: Date;
  total: { counts: ScopeCounts; change?: ScopeCounts | undefined };
  /** When every bucket is expected done: the latest bucket forecast; undefined when a bucket that is not done has none, or all are done. */
  forecastDoneAt?: Date | undefined;
  /** Buckets not done that have no forecast. */
  unforecastBuckets: string[];
  /** Sorted by name; a bucket that left the scope since the last update stays, at zero, to show the change. */
  buckets: BucketStatus[];
  teams: TeamStatus[];
  /** Sorted by bucket, host, kind. */
  blockers: OperationalBlocker[];
  closable: boolean;
  /** Why it may not close yet, in words. */
  closeBlockers: string[];
  nextUpdateDueAt?: Date | undefined;
  markdown: string;
}

const BLOCKER_KINDS: readonly OperationalBlockerKind[] = ['failed', 'reboot-stuck', 'drain-stuck', 'stale-agent'];

const BLOCKER_WORDS: Record<OperationalBlockerKind, string> = { failed: 'failed', 'stale-agent': 'agent stale', 'drain-stuck': 'drain stuck', 'reboot-stuck': 'reboot stuck' };

/**
 * The status update fleetpatch proposes, from the scope at the last update and now.
 *
 * @example draftStatusUpdate({ incident: { id: 'INC-2026-0001', title: 'CVE-2026-1001 in openssl' }, previous, current, blockers: [], forecasts: new Map([['databases', eta]]) }).markdown
 */
export function draftStatusUpdate(input: StatusDraftInput): StatusDraft {
  const { previous, current } = input;
  const blockers = withStaleAgents(input.blockers, current).sort((a, b) => compare(a.bucket, b.bucket) || compare(a.host, b.host) || BLOCKER_KINDS.indexOf(a.kind) - BLOCKER_KINDS.indexOf(b.kind));

  const blockersByBucket = new Map<string, OperationalBlocker[]>();
  for (const blocker of blockers) {
    const list = blockersByBucket.get(blocker.bucket);
    if (list) list.push(blocker);
    else blockersByBucket.set(blocker.bucket, [blocker]);
  }
  const bucketNow = new Map(current.byBucket.map((entry) => [entry.bucket, entry.counts]));
  const bucketBefore = new Map(previous?.byBucket.map((entry) => [entry.bucket, entry.counts]));
  const buckets = unionKeys(bucketNow, bucketBefore).map((bucket): BucketStatus => {
    const counts = bucketNow.get(bucket) ?? emptyCounts();
    const done = counts.vulnerable + counts.pendingReboot + counts.unknown === 0;
    return {
      bucket, counts, change: previous && difference(counts, bucketBefore.get(bucket)), done,
      forecastDoneAt: done ? undefined : input.forecasts.get(bucket),
      blockers: blockersByBucket.get(bucket) ?? [],
    };
  });
  const teamNow = new Map(current.byTeam.map((entry) => [entry.team, entry.counts]));
  const teamBefore = new Map(previous?.byTeam.map((entry) => [entry.team, entry.counts]));
  const teams = unionKeys(teamNow, teamBefore).map((team): TeamStatus => {
    const counts = teamNow.get(team) ?? emptyCounts();
    return { team, counts, change: previous && difference(counts, teamBefore.get(team)) };
  });

  const open = buckets.filter((bucket) => !bucket.done);
  const unforecastBuckets = open.filter((bucket) => bucket.forecastDoneAt === undefined).map((bucket) => bucket.bucket);
  const forecastDoneAt = open.length > 0 && unforecastBuckets.length === 0 ? new Date(Math.max(...open.map((bucket) => bucket.forecastDoneAt!.getTime()))) : undefined;

  const draft: Omit<StatusDraft, 'markdown'> = {
    incidentId: input.incident.id,
    at: current.asOf,
    total: { counts: current.total, change: previous && difference(current.total, previous.total) },
    forecastDoneAt,
    unforecastBuckets,
    buckets,
    teams,
    blockers,
    closable: current.closable,
    closeBlockers: current.closeBlockers.map((blocker) => blocker.text),
    nextUpdateDueAt: input.nextUpdateDueAt,
  };
  return { ...draft, markdown: statusMarkdown(input.incident.title, draft) };
}

function withStaleAgents(blockers: readonly OperationalBlocker[], scope: IncidentScope): OperationalBlocker[] {
  const listed = new Set(blockers.filter((blocker) => blocker.kind === 'stale-agent').map((blocker) => blocker.host));
  const stale = scope.hosts
    .filter((host) => host.status === 'unknown' && !listed.has(host.name))
    .map((host): OperationalBlocker => ({ host: host.name, bucket: host.bucket, kind: 'stale-agent', detail: host.lastSeenAt ? `last seen ${utcMinute(host.lastSeenAt)}` : 'never seen' }));
  return [...blockers, ...stale];
}

function difference(now: ScopeCounts, before: ScopeCounts | undefined): ScopeCounts {
  const base = before ?? emptyCounts();
  return {
    hosts: now.hosts - base.hosts, vulnerable: now.vulnerable - base.vulnerable, pendingReboot: now.pendingReboot - base.pendingReboot,
    live: now.live - base.live, excluded: now.excluded - base.excluded, unknown: now.unknown - base.unknown,
  };
}

function unionKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort(compare);
}

/** Each count's column heading and its words in the summary line. */
const COUNT_LABELS: Record<(typeof SCOPE_COUNT_KEYS)[number], { column: string; words: string }> = {
  vulnerable: { column: 'Vulnerable', words: 'vulnerable' },
  pendingReboot: { column: 'Pending reboot', words: 'patched, pending reboot' },
  live: { column: 'Live', words: 'live' },
  excluded: { column: 'Excluded', words: 'excluded' },
  unknown: { column: 'Unknown', words: 'unknown' },
};

/** What follows a number: its change since the last update in brackets, when it moved (` (-3)`). */
function changeSuffix(change: number | undefined): string {
  if (change === undefined || change === 0) return '';
  return ` (${change > 0 ? '+' : ''}${change})`;
}

function withChange(value: number, change: number | undefined): string {
  return `${value}${changeSuffix(change)}`;
}

const COUNT_HEADINGS = SCOPE_COUNT_KEYS.map((key) => COUNT_LABELS[key].column).join(' | ');
const COUNT_ALIGNMENT = SCOPE_COUNT_KEYS.map(() => '---:').join('|');

function countCells(counts: ScopeCounts, change: ScopeCounts | undefined): string {
  return SCOPE_COUNT_KEYS.map((key) => withChange(counts[key], change?.[key])).join(' | ');
}

function statusMarkdown(title: string, draft: Omit<StatusDraft, 'markdown'>): string {
  const { counts, change } = draft.total;
  const lines = [`### ${draft.incidentId} status update, ${utcMinute(draft.at)}`, '', markdownText(title), ''];
  const summary = SCOPE_COUNT_KEYS.map((key) => `${withChange(counts[key], change?.[key])} ${COUNT_LABELS[key].words}`).join(', ');
  lines.push(`**${hostCount(counts.hosts)}${changeSuffix(change?.hosts)} in scope:** ${summary}.${change ? '' : ' (first update)'}`);
  lines.push(`**Forecast to done:** ${forecastWords(draft)}`, '');

  lines.push(`| Bucket | ${COUNT_HEADINGS} | Forecast |`, `|---|${COUNT_ALIGNMENT}|---|`);
  for (const bucket of draft.buckets) {
    const forecast = bucket.done ? 'done' : bucket.forecastDoneAt ? utcMinute(bucket.forecastDoneAt) : 'none';
    lines.push(`| ${bucket.bucket} | ${countCells(bucket.counts, bucket.change)} | ${forecast} |`);
  }
  lines.push('', `| Team | ${COUNT_HEADINGS} |`, `|---|${COUNT_ALIGNMENT}|`);
  for (const team of draft.teams) lines.push(`| ${markdownText(team.team)} | ${countCells(team.counts, team.change)} |`);

  lines.push('', '**Blockers**');
  if (draft.blockers.length === 0) lines.push('- none');
  for (const blocker of draft.blockers) lines.push(`- ${blocker.bucket} · ${blocker.host}: ${BLOCKER_WORDS[blocker.kind]}: ${markdownText(blocker.detail)}`);

  // Close blockers name only buckets and hosts, whose rules admit no Markdown syntax.
  lines.push('', draft.closable ? '**Closing:** every host in scope is live or excluded; the incident may close.' : `**Closing:** not yet: ${draft.closeBlockers.join('; ')}.`);
  if (draft.nextUpdateDueAt) lines.push(`**Next update:** ${utcMinute(draft.nextUpdateDueAt)}`);
  return `${lines.join('\n')}\n`;
}

function forecastWords(draft: Omit<StatusDraft, 'markdown'>): string {
  if (draft.buckets.every((bucket) => bucket.done)) return 'done.';
  if (draft.forecastDoneAt) return `${utcMinute(draft.forecastDoneAt)}.`;
  return `unknown: no forecast for ${draft.unforecastBuckets.join(', ')}.`;
}

export interface CadenceInput {
  openedAt: Date;
  /** The policy's `emergency.statusEvery`, in milliseconds. */
  everyMs: number;
  /** A slot still counts as met by an update posted this long after it was due. */
  graceMs?: number;
  /** When updates were posted, in any order (an automatic post of a missed update too). */
  postedAt: readonly Date[];
  /** Slots already recorded as missed (their due times), so each is reported once. */
  reportedMissed?: readonly Date[];
  /** For a closed incident: its closing time (no slot falls after it). */
  now: Date;
}

export interface Cadence {
  nextDueAt: Date;
  /** Now is at or past `nextDueAt` (within its grace): the draft should be posted. */
  due: boolean;
  /** Every slot no update met, in order. */
  missed: Date[];
  /** The missed slots not in `reportedMissed`: to record (and post automatically) now. */
  newlyMissed: Date[];
}

/**
 * When status updates are due. The clock restarts at each post (an update says "next update at
 * T", so an early one moves the next forward): the slot after a post falls `everyMs` later. A slot
 * no update meets within its grace is missed, and the next falls `everyMs` after the missed one,
 * unless a late update restarts the clock.
 *
 * @example statusCadence({ openedAt: at('10:00'), everyMs: 2 * HOUR, postedAt: [at('11:30')], now: at('14:00') })
 *   // { nextDueAt: at('15:30'), due: false, missed: [at('13:30')], newlyMissed: [at('13:30')] }
 */
export function statusCadence(input: CadenceInput): Cadence {
  if (!(input.everyMs > 0)) throw new InputError(`a status update every ${input.everyMs} ms has no next slot`, { field: 'emergency.statusEvery' }, 'give a duration such as 2h');
  const grace = input.graceMs ?? 0;
  const now = input.now.getTime();
  const posts = input.postedAt.map((date) => date.getTime()).filter((time) => time >= input.openedAt.getTime()).sort((a, b) => a - b);
  const missed: Date[] = [];
  let anchor = input.openedAt.getTime();
  let next = 0;
  for (;;) {
    while (next < posts.length && posts[next]! <= anchor) next += 1;
    const due = anchor + input.everyMs;
    const post = posts[next];
    if (post !== undefined && post <= due + grace && post <= now) {
      anchor = post;
      continue;
    }
    if (now <= due + grace) {
      const reported = new Set(input.reportedMissed?.map((date) => date.getTime()));
      return { nextDueAt: new Date(due), due: now >= due, missed, newlyMissed: missed.filter((slot) => !reported.has(slot.getTime())) };
    }
    missed.push(new Date(due));
    anchor = due;
  }
}
