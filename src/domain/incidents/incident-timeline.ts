/**
 * The incident's timeline — what happened and who decided what — and the durations the
 * postmortem measures: time to detect (advisory published → incident opened), to patched (→ the
 * last host installed the fix) and to live (→ the last host runs it). Exported as Markdown for
 * the postmortem document and as JSON with ISO timestamps for tools.
 */
import { formatPolicyDuration } from '../policy/policy-duration.js';
import type { Relaxation } from '../rollout/rollout-model.js';
import { markdownText, utcMinute } from './incident-markdown.js';
import { compare, hostCount, hostNames, type IncidentScope } from './incident-scope.js';


/** `by` is the actor's label as it was then (a person, a token, `fleetpatch`), kept even if the account goes. */
export type TimelineEvent =
  | { kind: 'opened'; at: Date; by: string; advisories: string[]; reason: string }
  | { kind: 'scope-changed'; at: Date; added: string[]; removed: string[]; hostsInScope: number }
  /** Relaxing windows, freezes or cooldowns is a person's explicit decision, with a review after the change. */
  | { kind: 'decision'; at: Date; decision: 'relaxation-approved' | 'relaxation-denied'; bucket: string; relaxes: Relaxation[]; by: string; why: string; reviewDueAt?: Date | undefined }
  /** Another stored record of the same vulnerability (a distribution's notice for the CVE) joined the incident. */
  | { kind: 'advisory-added'; at: Date; advisory: string }
  | { kind: 'review-completed'; at: Date; bucket: string; by: string; notes: string }
  | { kind: 'rollout-started'; at: Date; rolloutId: number; bucket: string; strategy: string }
  /** No emergency rollout could be made for the bucket, and why (recorded when the reason changes). */
  | { kind: 'rollout-blocked'; at: Date; bucket: string; why: string }
  | { kind: 'update-posted'; at: Date; by: string; automatic: boolean }
  | { kind: 'update-missed'; at: Date; slotDueAt: Date }
  | { kind: 'closed'; at: Date; by: string; reason: string };

/**
 * The scope-changed event between two scopes, or undefined when the same hosts are in scope.
 *
 * @example scopeChangedEvent(previous, current) // { kind: 'scope-changed', at: current.asOf, added: ['web-9'], removed: [], hostsInScope: 41 }
 */
export function scopeChangedEvent(previous: { hosts: readonly { name: string }[] }, current: IncidentScope): TimelineEvent | undefined {
  const before = new Set(previous.hosts.map((host) => host.name));
  const now = new Set(current.hosts.map((host) => host.name));
  const added = [...now].filter((name) => !before.has(name)).sort(compare);
  const removed = [...before].filter((name) => !now.has(name)).sort(compare);
  if (added.length === 0 && removed.length === 0) return undefined;
  return { kind: 'scope-changed', at: current.asOf, added, removed, hostsInScope: now.size };
}

export interface MilestoneInput {
  /** The earliest publication among the incident's advisories, when known. */
  publishedAt?: Date | undefined;
  openedAt: Date;
  /** Every host in scope with its milestones (undefined: not reached yet). */
  hosts: readonly { installedAt?: Date | undefined; liveAt?: Date | undefined; excluded?: boolean }[];
  /** The policy's `emergency.target`, in milliseconds. */
  targetMs?: number | undefined;
}

export interface IncidentDurations {
  timeToDetectMs?: number | undefined;
  timeToPatchedMs?: number | undefined;
  timeToLiveMs?: number | undefined;
  lastInstalledAt?: Date | undefined;
  lastLiveAt?: Date | undefined;
  /** Every host live within the target of the opening; undefined until every host is live. */
  liveWithinTarget?: boolean | undefined;
}

/**
 * The incident's durations. Excluded hosts are left out; a duration is undefined until every other
 * host reached its milestone (a live host counts as installed). A host fixed before the incident
 * opened, or an incident opened before its advisory's publication (an embargoed notice), counts 0.
 *
 * @example measureIncident({ publishedAt: at(-3), openedAt: at(0), hosts: [{ installedAt: at(5), liveAt: at(7) }], targetMs: 24 * HOUR })
 *   // { timeToDetectMs: 3 h, timeToPatchedMs: 5 h, timeToLiveMs: 7 h, lastInstalledAt: at(5), lastLiveAt: at(7), liveWithinTarget: true }
 */
export function measureIncident(input: MilestoneInput): IncidentDurations {
  const opened = input.openedAt.getTime();
  const hosts = input.hosts.filter((host) => !host.excluded);
  const lastInstalledAt = lastOf(hosts.map((host) => host.installedAt ?? host.liveAt));
  const lastLiveAt = lastOf(hosts.map((host) => host.liveAt));
  const since = (date: Date | undefined) => (date === undefined ? undefined : Math.max(0, date.getTime() - opened));
  const timeToLiveMs = since(lastLiveAt);
  return {
    timeToDetectMs: input.publishedAt === undefined ? undefined : Math.max(0, opened - input.publishedAt.getTime()),
    timeToPatchedMs: since(lastInstalledAt),
    timeToLiveMs,
    lastInstalledAt,
    lastLiveAt,
    liveWithinTarget: input.targetMs === undefined || timeToLiveMs === undefined ? undefined : timeToLiveMs <= input.targetMs,
  };
}

/** The latest date, or undefined when the list is empty or any is missing. */
function lastOf(dates: readonly (Date | undefined)[]): Date | undefined {
  if (dates.length === 0 || dates.some((date) => date === undefined)) return undefined;
  return new Date(Math.max(...dates.map((date) => date!.getTime())));
}

export interface TimelineExport {
  incident: { id: string; title: string };
  events: readonly TimelineEvent[];
  durations?: IncidentDurations | undefined;
}

/** A value as JSON carries it: dates as ISO 8601 strings. */
type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | undefined ? string | undefined : T[K] };
export type TimelineEventJson = TimelineEvent extends infer E ? (E extends TimelineEvent ? Json<E> : never) : never;

export interface TimelineJson {
  incident: { id: string; title: string };
  events: TimelineEventJson[];
  durations?: Json<IncidentDurations>;
}

/**
 * The timeline as plain objects: events in time order (ties keep their order), ISO timestamps,
 * absent fields left out.
 */
export function timelineToJson(timeline: TimelineExport): TimelineJson {
  const events = chronological(timeline.events).map((event) => plain(event) as TimelineEventJson);
  return { incident: { ...timeline.incident }, events, ...(timeline.durations ? { durations: plain(timeline.durations) as Json<IncidentDurations> } : {}) };
}

function plain(value: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .map(([key, field]) => [key, field instanceof Date ? field.toISOString() : Array.isArray(field) ? [...field] : field]),
  );
}

/** The timeline as a Markdown section for the postmortem. */
export function timelineToMarkdown(timeline: TimelineExport): string {
  const lines = [`## Timeline: ${timeline.incident.id}, ${markdownText(timeline.incident.title)}`, ''];
  for (const event of chronological(timeline.events)) lines.push(`- ${utcMinute(event.at)}: ${timelineEventWords(event)}`);
  if (timeline.events.length === 0) lines.push('- nothing recorded');
  const durations = timeline.durations;
  if (durations) {
    lines.push('', '## Measured', '');
    lines.push(`- Time to detect (advisory published to incident opened): ${durationWords(durations.timeToDetectMs, 'publication unknown')}`);
    lines.push(`- Time to patched (opened to the last host installed): ${durationWords(durations.timeToPatchedMs, 'not yet')}`);
    const target = durations.liveWithinTarget === undefined ? '' : durations.liveWithinTarget ? ', within the target' : ', past the target';
    lines.push(`- Time to live (opened to the last host running the fix): ${durationWords(durations.timeToLiveMs, 'not yet')}${target}`);
  }
  return `${lines.join('\n')}\n`;
}

function chronological(events: readonly TimelineEvent[]): TimelineEvent[] {
  return [...events].sort((a, b) => a.at.getTime() - b.at.getTime());
}

function durationWords(milliseconds: number | undefined, missing: string): string {
  return milliseconds === undefined ? missing : formatPolicyDuration(milliseconds);
}

/** One event in words, as the Markdown timeline writes it (Markdown's syntax characters escaped). */
export function timelineEventWords(event: TimelineEvent): string {
  switch (event.kind) {
    case 'opened':
      return `opened by ${markdownText(event.by)} for ${event.advisories.map(markdownText).join(', ')}: ${markdownText(event.reason)}`;
    case 'scope-changed': {
      const changes = [
        event.added.length > 0 ? `${hostCount(event.added.length)} added (${hostNames(event.added)})` : undefined,
        event.removed.length > 0 ? `${hostCount(event.removed.length)} removed (${hostNames(event.removed)})` : undefined,
      ].filter((change) => change !== undefined);
      return `scope changed: ${changes.join(', ')}; ${hostCount(event.hostsInScope)} in scope`;
    }
    case 'decision': {
      const verdict = event.decision === 'relaxation-approved' ? 'approved' : 'denied';
      const review = event.reviewDueAt ? `; post-change review due ${utcMinute(event.reviewDueAt)}` : '';
      return `relaxing ${event.relaxes.join(', ')} for ${event.bucket} ${verdict} by ${markdownText(event.by)}: ${markdownText(event.why)}${review}`;
    }
    case 'advisory-added':
      return `${markdownText(event.advisory)} joined the incident (another record of the same vulnerability)`;
    case 'review-completed':
      return `post-change review of ${event.bucket} done by ${markdownText(event.by)}: ${markdownText(event.notes)}`;
    case 'rollout-started':
      return `rollout ${event.rolloutId} started in ${event.bucket} (${markdownText(event.strategy)})`;
    case 'rollout-blocked':
      return `no emergency rollout for ${event.bucket} yet: ${markdownText(event.why)}`;
    case 'update-posted':
      return event.automatic ? `status update posted automatically (${markdownText(event.by)})` : `status update posted by ${markdownText(event.by)}`;
    case 'update-missed':
      return `status update due ${utcMinute(event.slotDueAt)} missed`;
    case 'closed':
      return `closed by ${markdownText(event.by)}: ${markdownText(event.reason)}`;
  }
}
