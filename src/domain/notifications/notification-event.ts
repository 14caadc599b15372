/**
 * What the rollout engine tells people: one `NotificationEvent` per thing that happened (a reboot
 * that never returned, a gate that failed, a rollout done). Routing decides who hears it and how
 * loudly; the receivers' payloads are built from it.
 */

export const NOTIFICATION_KINDS = [
  'reboot-stuck',
  'gate-failed',
  'gate-inconclusive',
  'rollout-halted',
  'rollout-paused',
  'rollout-started',
  'rollout-done',
  'rollout-rolled-back',
  'host-failed',
  'host-silent',
  'drain-stuck',
  'window-announced',
  'window-reminder',
  'window-missed',
  'incident-opened',
  'incident-update',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** PagerDuty's four severities, most urgent first. */
export const NOTIFICATION_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type NotificationSeverity = (typeof NOTIFICATION_SEVERITIES)[number];

/** How loudly a route delivers: wake someone, file work for business hours, or just say it. */
export const NOTIFICATION_MODES = ['page', 'ticket', 'info'] as const;
export type NotificationMode = (typeof NOTIFICATION_MODES)[number];

export interface NotificationEvent {
  kind: NotificationKind;
  severity: NotificationSeverity;
  /** What it is about: a rollout (and its hosts), or an incident (`update`: the status update posted). Exactly one. */
  rolloutId?: number;
  incident?: { id: number; label: string; update?: number };
  /** Set for a host's own trouble: it gets a dedup key (and so a PagerDuty alert) of its own. */
  host?: string;
  bucket: string;
  team: string;
  /** An event about several buckets (an incident's scope): a route for any of them matches. */
  buckets?: readonly string[];
  teams?: readonly string[];
  summary: string;
  details: Record<string, unknown>;
  /** A signal the plan expects (a host silent while it reboots inside its window): suppressed. */
  expected?: boolean;
  /**
   * The trouble is over (the host came back): resolves the alert of the same dedup key. A resolve
   * carries the kind of the trouble it ends, so it takes the routes its trigger took.
   */
  resolves?: boolean;
  occurredAt: Date;
}

/** Kinds that say the rollout itself went wrong: never suppressed, whatever `expected` says. */
const FAILURE_KINDS: ReadonlySet<NotificationKind> = new Set(['reboot-stuck', 'gate-failed', 'rollout-halted', 'rollout-rolled-back', 'host-failed', 'drain-stuck', 'window-missed']);

/**
 * Whether the event is an expected signal to record but not send. Failures (by kind or by a
 * critical/error severity) and resolves are never suppressed: muting a resolve leaves an alert
 * open for ever, muting a failure hides the thing the rollout exists to catch.
 *
 * @example isSuppressed({ kind: 'host-silent', severity: 'warning', expected: true, … }) // true
 */
export function isSuppressed(event: NotificationEvent): boolean {
  if (!event.expected || event.resolves) return false;
  return !FAILURE_KINDS.has(event.kind) && event.severity !== 'critical' && event.severity !== 'error';
}

/**
 * The dedup key: one per rollout, or per rollout and host for a host's own events, so a storm of
 * the same trouble is one PagerDuty alert and a host's resolve closes that host's alert only. An
 * engine that wants one page for many hosts of a rollout leaves `host` out and lists them in
 * `details`. Each status update of an incident has its own key: a later one never folds into an
 * earlier one still waiting to be sent. Cut to PagerDuty's 255 characters (only a host name of
 * over 220 needs it).
 *
 * @example dedupKey({ rolloutId: 7, host: 'db-1', … }) // 'fleetpatch:rollout:7:host:db-1'
 */
export function dedupKey(event: Pick<NotificationEvent, 'rolloutId' | 'incident' | 'host'>): string {
  if (event.incident) return `fleetpatch:incident:${event.incident.id}${event.incident.update === undefined ? '' : `:update:${event.incident.update}`}`;
  const key = event.host === undefined ? `fleetpatch:rollout:${event.rolloutId}` : `fleetpatch:rollout:${event.rolloutId}:host:${event.host}`;
  return key.slice(0, 255);
}

/** What the event is about, in words: `rollout 7`, `incident INC-3`. */
export function subjectWords(event: Pick<NotificationEvent, 'rolloutId' | 'incident'>): string {
  return event.incident ? `incident ${event.incident.label}` : `rollout ${event.rolloutId}`;
}
