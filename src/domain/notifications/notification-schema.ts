/**
 * The `notifications` section of the policy file: receivers (where messages go) and routes (which
 * events go where, and how loudly). Secrets never appear in the file, only the names of the
 * environment variables that hold them, so a policy can be reviewed, diffed and stored freely.
 */
import { z } from 'zod';
import { NOTIFICATION_KINDS, NOTIFICATION_MODES, NOTIFICATION_SEVERITIES } from './notification-event.js';

const receiverName = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'receiver names are lowercase letters, digits, "-" and "_"');
const environmentVariable = z.string().min(1).max(128).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as FLEETPATCH_PAGERDUTY_KEY');
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const receiverSchema = z.discriminatedUnion('kind', [
  /** Any HTTP endpoint, each request signed as Standard Webhooks specifies. */
  z.strictObject({
    kind: z.literal('webhook'),
    url: httpUrl,
    /** Holds the signing secret in Standard Webhooks' form: `whsec_` and base64 bytes. */
    secretEnv: environmentVariable,
  }),
  /** A Slack incoming webhook; its URL is the secret. */
  z.strictObject({ kind: z.literal('slack'), urlEnv: environmentVariable }),
  /** PagerDuty Events API v2. */
  z.strictObject({
    kind: z.literal('pagerduty'),
    /** Holds the 32-character integration (routing) key. */
    routingKeyEnv: environmentVariable,
    url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
  }),
]);

const matchSchema = z.strictObject({
  kinds: z.array(z.enum(NOTIFICATION_KINDS)).min(1).max(NOTIFICATION_KINDS.length).optional(),
  buckets: z.array(z.string().min(1).max(64)).min(1).max(256).optional(),
  teams: z.array(z.string().min(1).max(128)).min(1).max(256).optional(),
  severities: z.array(z.enum(NOTIFICATION_SEVERITIES)).min(1).max(NOTIFICATION_SEVERITIES.length).optional(),
});

const routeSchema = z.strictObject({
  /** Every listed condition must hold; a condition left out matches anything. */
  match: matchSchema.default({}),
  receiver: receiverName,
  as: z.enum(NOTIFICATION_MODES),
  /** Go on to the next routes after this one matched (by default the first match is the last). */
  continue: z.boolean().default(false),
});

export const notificationsSchema = z.strictObject({
  receivers: z.record(receiverName, receiverSchema).default({}),
  /** Tried in order. */
  routes: z.array(routeSchema).max(256).default([]),
});

export type NotificationsPolicy = z.output<typeof notificationsSchema>;
export type Receiver = NotificationsPolicy['receivers'][string];
export type NotificationRoute = NotificationsPolicy['routes'][number];
