/**
 * The bodies each receiver kind is sent, built when the event is queued so the outbox shows exactly
 * what goes out. Secrets are added only when sending: PagerDuty's routing key by the dispatcher, a
 * webhook's signature over the exact bytes sent (a re-serialised body would not verify).
 */
import { dedupKey, subjectWords, type NotificationEvent, type NotificationMode, type NotificationSeverity } from './notification-event.js';

/** PagerDuty Events v2 without `routing_key`, which is read from the environment when sending. */
export interface PagerDutyEvent {
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  client: string;
  payload?: {
    summary: string;
    source: string;
    severity: NotificationSeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
}

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Standard Webhooks' recommended body: a type, a timestamp and the data. */
export interface WebhookBody {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const PAGERDUTY_SUMMARY_LIMIT = 1024;
const SLACK_HEADER_LIMIT = 150;
const SLACK_SECTION_LIMIT = 3000;
const SLACK_MARKDOWN_LIMIT = 12_000;

/**
 * Severity sets PagerDuty's urgency (critical/error high, warning/info low with severity-based
 * urgency), so the route's mode decides it: a page is at least `error`, a ticket `warning`.
 *
 * @example pagerDutyEvent({ kind: 'reboot-stuck', severity: 'critical', rolloutId: 7, host: 'db-1', … }, 'page').dedup_key // 'fleetpatch:rollout:7:host:db-1'
 */
export function pagerDutyEvent(event: NotificationEvent, as: NotificationMode): PagerDutyEvent {
  const key = dedupKey(event);
  // A resolve needs nothing else: PagerDuty closes the open alert of that key.
  if (event.resolves) return { event_action: 'resolve', dedup_key: key, client: 'fleetpatch' };
  return {
    event_action: 'trigger',
    dedup_key: key,
    client: 'fleetpatch',
    payload: {
      summary: truncate(event.summary, PAGERDUTY_SUMMARY_LIMIT),
      source: event.host ?? `fleetpatch ${subjectWords(event)}`,
      severity: as === 'page' ? (event.severity === 'critical' ? 'critical' : 'error') : as === 'ticket' ? 'warning' : 'info',
      timestamp: event.occurredAt.toISOString(),
      component: event.bucket,
      group: event.team,
      class: event.kind,
      custom_details: { ...event.details, kind: event.kind, ...subjectFields(event), ...(event.host === undefined ? {} : { host: event.host }), bucket: event.bucket, team: event.team, as },
    },
  };
}

/**
 * An incoming-webhook message: `text` is what notifications and old clients show, the blocks what
 * the channel shows.
 *
 * @example slackMessage({ kind: 'rollout-done', summary: 'rollout 7 done', … }, 'info').text // 'INFO rollout-done, rollout 7: rollout 7 done'
 */
export function slackMessage(event: NotificationEvent, as: NotificationMode): SlackMessage {
  const label = event.resolves ? 'RESOLVED' : as.toUpperCase();
  const subject = `${event.kind}, ${subjectWords(event)}${event.host === undefined ? '' : `, host ${event.host}`}`;
  const facts: Array<[string, string]> = [
    [event.buckets ? 'buckets' : 'bucket', event.buckets?.join(', ') ?? event.bucket],
    [event.teams ? 'teams' : 'team', event.teams?.join(', ') ?? event.team],
    ['severity', event.severity],
    event.incident ? ['incident', event.incident.label] : ['rollout', String(event.rolloutId)],
    ...(event.host === undefined ? [] : [['host', event.host] as [string, string]]),
  ];
  return {
    text: `${label} ${slackEscape(subject)}: ${slackEscape(event.summary)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`${label} ${subject}`, SLACK_HEADER_LIMIT) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(slackEscape(event.summary), SLACK_SECTION_LIMIT) } },
      // A status update's body is Markdown with tables: Slack's markdown block renders it as written.
      ...(typeof event.details.markdown === 'string' ? [{ type: 'markdown', text: truncate(event.details.markdown, SLACK_MARKDOWN_LIMIT) }] : []),
      { type: 'context', elements: facts.map(([name, value]) => ({ type: 'mrkdwn', text: `*${name}* ${slackEscape(value)}` })) },
    ],
  };
}

/** @example webhookBody(event, 'page').type // 'fleetpatch.reboot-stuck' */
export function webhookBody(event: NotificationEvent, as: NotificationMode): WebhookBody {
  return {
    type: `fleetpatch.${event.kind}`,
    timestamp: event.occurredAt.toISOString(),
    data: {
      kind: event.kind,
      as,
      severity: event.severity,
      ...(event.incident ? { incident: event.incident.label } : { rolloutId: event.rolloutId }),
      ...(event.host === undefined ? {} : { host: event.host }),
      bucket: event.bucket,
      team: event.team,
      summary: event.summary,
      details: event.details,
      dedupKey: dedupKey(event),
      resolves: event.resolves === true,
    },
  };
}

function subjectFields(event: NotificationEvent): Record<string, unknown> {
  return event.incident ? { incident: event.incident.label, ...(event.incident.update === undefined ? {} : { update: event.incident.update }) } : { rollout_id: event.rolloutId };
}

/** HMAC-SHA256 of `content` under `key`, base64: given by the caller, as the domain does no crypto. */
export type HmacSha256Base64 = (key: Uint8Array, content: string) => string;

/**
 * Standard Webhooks' headers: the signature is `v1,` and the base64 HMAC-SHA256 of
 * `id.timestamp.body` under the secret's bytes (the base64 after `whsec_`).
 *
 * @example standardWebhookHeaders({ id: 'msg_1', timestamp: new Date(), body: '{}', secret: 'whsec_…' }, hmac)['webhook-signature'] // 'v1,…'
 */
export function standardWebhookHeaders(message: { id: string; timestamp: Date; body: string; secret: string }, hmac: HmacSha256Base64): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = String(Math.floor(message.timestamp.getTime() / 1000));
  const signature = hmac(webhookSecretBytes(message.secret), `${message.id}.${timestamp}.${message.body}`);
  return { 'webhook-id': message.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** The secret's key bytes; Standard Webhooks asks for 24 to 64 of them. */
export function webhookSecretBytes(secret: string): Uint8Array {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  if (encoded === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error('a webhook secret is "whsec_" followed by base64');
  const bytes = Uint8Array.from(atob(encoded), (character) => character.charCodeAt(0));
  if (bytes.length < 24 || bytes.length > 64) throw new Error(`a webhook secret holds 24 to 64 bytes, this one ${bytes.length}`);
  return bytes;
}

/** Slack reads &, < and > as markup (links, mentions): escaped, a summary cannot ping @channel. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `limit` characters (code points), an ellipsis marking the cut. */
function truncate(text: string, limit: number): string {
  const characters = [...text];
  return characters.length <= limit ? text : `${characters.slice(0, limit - 1).join('')}…`;
}
