/**
 * The policy file (`fleetpatch.yaml`), version 1: buckets (who owns which hosts and how they are
 * patched), maintenance windows, freezes, SLAs, baselines (the canonical patch level of each
 * package) and the emergency path. One zod schema validates it; the JSON Schema editors complete
 * against is generated from it (`npm run policy:schema` writes `schemas/fleetpatch-policy.schema.json`).
 * Every object is strict, so a misspelt key is an error with a did-you-mean, never silently ignored.
 */
import { z } from 'zod';
import { SEVERITY_ORDER } from '../types.js';
import { hostSelectorSchema } from './host-selector.js';
import { maintenanceWindowSchema } from './maintenance-window.js';
import { timeZoneSchema } from './window-schema.js';
import { policyDurationSchema } from './policy-duration.js';
import { quantitySchema } from './quantity.js';
import { notificationsSchema } from '../notifications/notification-schema.js';

const name = (what: string) => z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, `${what} names are lowercase letters, digits, "-" and "_"`);
const team = z.string().min(1).max(128);
const command = z.string().min(1).max(4096);
const dateOnly = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-12-24');
const monthDay = z.string().regex(/^\d{2}-\d{2}$/, 'a month and day like 12-24');

/** How hosts are reached to run the steps. */
export const executorSchema = z.union([
  z.literal('agent'),
  z.strictObject({ kind: z.literal('agent') }),
  z.strictObject({
    kind: z.literal('ssh'),
    user: z.string().min(1).max(64).default('root'),
    port: z.number().int().min(1).max(65_535).default(22),
    sudo: z.boolean().default(false),
    /** Host address: the host name, or a label that holds it. */
    addressLabel: z.string().min(1).max(128).optional(),
    /** Trust a host key seen for the first time (off: an unknown key refuses the host). */
    trustOnFirstUse: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('command-hook'),
    /** Run where the server runs as `<command> --pre-check | --upgrade | --reboot | --post-check`. */
    command,
    stepTimeout: policyDurationSchema.prefault('30m'),
  }),
]).transform((executor) => (executor === 'agent' ? { kind: 'agent' as const } : executor));

const checkSchema = z.strictObject({
  name: z.string().min(1).max(128),
  command,
  timeout: policyDurationSchema.prefault('5m'),
  allowedExitCodes: z.array(z.number().int().min(0).max(255)).min(1).max(32).default([0]),
});

const rebootSchema = z.strictObject({
  policy: z.enum(['if-required', 'always', 'never']).default('if-required'),
  /** How long the host may take to come back with a new boot id and the expected versions. */
  timeout: policyDurationSchema.prefault('5m'),
  onTimeout: z.enum(['page', 'halt']).default('page'),
  /** Warning given to the host's users before it reboots; counted in the time a host needs. */
  notice: policyDurationSchema.prefault('0s'),
});

/** Request headers of a gate's check (a tenant such as X-Scope-OrgID, an Authorization). */
const gateHeaders = z
  .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'an HTTP header name'), z.string().max(4096).regex(/^[^\r\n]*$/, 'one line'))
  .refine((headers) => Object.keys(headers).length <= 32, 'at most 32 headers');

/**
 * A health gate, declared here and evaluated by the rollout engine (src/domain/gates). A query or
 * URL may name `$host` and `$bucket`; a command reads FLEETPATCH_HOST, FLEETPATCH_BUCKET, FLEETPATCH_ROLLOUT.
 */
const gateSchema = z.strictObject({
  name: z.string().min(1).max(128),
  when: z.enum(['pre-host', 'post-host', 'post-wave', 'continuous']).default('post-wave'),
  check: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('prometheus'),
      /** The Prometheus base URL; the instant query goes to `<url>/api/v1/query`. */
      url: z.url().max(2048),
      query: z.string().min(1).max(4096),
      /** Over `result`: an instant vector's sample values (`result[0] < 0.05`, `len(result) == 0`) or a scalar (`result == 1`). */
      successCondition: z.string().min(1).max(512),
      failureCondition: z.string().min(1).max(512).optional(),
      timeout: policyDurationSchema.prefault('30s'),
      headers: gateHeaders.optional(),
    }),
    z.strictObject({ kind: z.literal('http'), url: z.url().max(2048), expectStatus: z.number().int().min(100).max(599).default(200), timeout: policyDurationSchema.prefault('10s'), headers: gateHeaders.optional() }),
    z.strictObject({ kind: z.literal('command'), command, timeout: policyDurationSchema.prefault('1m') }),
  ]),
  initialDelay: policyDurationSchema.prefault('0s'),
  interval: policyDurationSchema.prefault('1m'),
  count: z.number().int().min(1).max(1_000).default(1),
  failureLimit: z.number().int().min(0).max(1_000).default(0),
  inconclusiveLimit: z.number().int().min(0).max(1_000).default(0),
  /** Measurements in a row that could not be taken (a query error, a timeout) before the gate fails (Argo's default: 4). */
  consecutiveErrorLimit: z.number().int().min(0).max(1_000).default(4),
  noData: z.enum(['fail', 'inconclusive']).default('inconclusive'),
  onFailure: z.enum(['halt', 'rollback', 'pause']).default('halt'),
});

const strategySchema = z.discriminatedUnion('kind', [
  /** Stateful hosts: pre-check → upgrade → reboot → post-check, each a hard gate. */
  z.strictObject({ kind: z.literal('in-place') }),
  /** Kubernetes nodes: cordon, drain (PodDisruptionBudgets honoured), update, reboot, uncordon. */
  z.strictObject({
    kind: z.literal('rolling-reboot'),
    drain: z.strictObject({
      timeout: policyDurationSchema.prefault('30m'),
      /** A drain blocked this long pauses the rollout and pages, never loops in silence. */
      stuckAfter: policyDurationSchema.prefault('10m'),
      gracePeriod: policyDurationSchema.optional(),
      deleteEmptyDirData: z.boolean().default(true),
    }).prefault({}),
    /** How the node OS is updated: through the node's agent, or a hook (image-based OSes such as Bottlerocket). */
    update: z.union([z.literal('agent'), z.strictObject({ hook: command })]).default('agent'),
  }),
  /** Stateless hosts: a replacement from the newest baseline image, then the old host retired. */
  z.strictObject({
    kind: z.literal('replace'),
    /** The newest baseline image: replacements are created from it; hosts running another are replaced. */
    image: z.strictObject({ id: z.string().min(1).max(256).regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'an image id like ami-0abc123 or registry/image@sha256:…'), built: dateOnly }),
    /** Run where the server runs with FLEETPATCH_HOST (the host replaced) and FLEETPATCH_IMAGE_ID; its last line names the new host: {"details": {"replacement": "web-17"}}. */
    provisionHook: command,
    /** Run once the replacement serves, with FLEETPATCH_HOST and FLEETPATCH_REPLACEMENT. */
    retireHook: command,
    /** The agent label that names the host's image, compared with the baseline image id. */
    imageFact: z.string().min(1).max(128).default('image-id'),
    /** The bucket's share that must stay healthy: a host is retired only once its replacement serves. */
    minHealthy: quantitySchema.prefault('90%'),
    /** How long the replacement serves (checked in with the baseline image) before the old host is retired. */
    warmup: policyDurationSchema.prefault('5m'),
    /** How long the replacement may take to enroll with the baseline image. */
    enrollTimeout: policyDurationSchema.prefault('15m'),
  }),
  /** Physical and snowflake hosts: announced ahead, then an operator works through a checklist. */
  z.strictObject({
    kind: z.literal('manual'),
    noticeDays: z.number().int().min(0).max(365).default(14),
    checklist: z.array(z.string().min(1).max(512)).min(1).max(100),
    /** Teams told about the window besides the owner (dependent services). */
    notifyTeams: z.array(team).max(64).default([]),
  }),
]);

export const bucketSchema = z.strictObject({
  name: name('bucket'),
  match: hostSelectorSchema.default({}),
  owner: team,
  /** Business criticality: raises the risk score of the bucket's findings (explained with the score). */
  criticality: z.enum(['low', 'medium', 'high', 'critical']).default('medium'),
  strategy: strategySchema,
  executor: executorSchema.prefault('agent'),
  /** Names of windows (see `windows`); a host is patched in the next occurrence of any of them. */
  windows: z.array(name('window')).max(16).default([]),
  /**
   * Each window occurrence starts a rollout of the hosts that need patching (unless one of the
   * bucket's rollouts is still under way); false: only operators create rollouts.
   */
  scheduled: z.boolean().default(true),
  /** Wave sizes, counts or shares of the bucket, e.g. [1, 5, "20%", "100%"]; the last repeats. */
  waves: z.array(quantitySchema).min(1).max(64).prefault(['100%']),
  /** Hosts disrupted at once (a share rounds up). */
  maxInFlight: quantitySchema.prefault(1),
  /** Failed hosts the whole rollout may have before it halts (cumulative, not per wave). */
  errorBudget: quantitySchema.prefault(0),
  /** Time between waves before the next is admitted, with the post-wave gates evaluated. */
  soak: policyDurationSchema.prefault('0s'),
  promotion: z.enum(['automatic', 'approval']).default('automatic'),
  gates: z.array(gateSchema).max(32).default([]),
  reboot: rebootSchema.prefault({}),
  checks: z.strictObject({ pre: z.array(checkSchema).max(32).default([]), post: z.array(checkSchema).max(32).default([]) }).prefault({}),
  /**
   * Undoing a failed host: by default the versions the upgrade replaced are reinstalled; a command
   * (a snapshot restore, say) replaces that. Either way the host is verified as after an upgrade.
   */
  rollback: z.strictObject({
    automatic: z.boolean().default(true),
    command: command.optional(),
    timeout: policyDurationSchema.prefault('15m'),
  }).prefault({}),
  /** Seeds the time a host needs until the bucket's own step durations are known. */
  expectedHostDuration: policyDurationSchema.prefault('15m'),
});

const freezeSchema = z.strictObject({
  name: z.string().min(1).max(128),
  /** One-off: `from` and `until` are dates (inclusive) or date-times; yearly: month-days like 12-20. */
  from: z.union([dateOnly, z.iso.datetime({ offset: true }), monthDay]),
  until: z.union([dateOnly, z.iso.datetime({ offset: true }), monthDay]),
  /** IANA zone the dates are read in (date-times carry their own offset). */
  timeZone: timeZoneSchema.prefault('UTC'),
  scope: z.union([z.literal('all'), z.strictObject({ buckets: z.array(name('bucket')).max(256).optional(), teams: z.array(team).max(256).optional() })]).default('all'),
  allowEmergency: z.boolean().default(false),
  reason: z.string().max(512).optional(),
});

const severityDays = z.number().int().min(0).max(3_650);

const slaSchema = z.strictObject({
  /** Days from the clock start to the due date, per severity. */
  days: z.strictObject(Object.fromEntries(SEVERITY_ORDER.map((severity) => [severity, severityDays.optional()])) as Record<(typeof SEVERITY_ORDER)[number], z.ZodOptional<typeof severityDays>>),
  /** Known exploited (CISA KEV): the catalogue's due date or this many days, whichever is earlier. */
  kevDays: severityDays.optional(),
  clockStart: z.enum(['first-seen', 'published']).default('first-seen'),
});

const baselineSchema = z.strictObject({
  /** A package name or a glob (`postgresql-*`). */
  package: z.string().min(1).max(256),
  /** An OSV ecosystem such as `Debian:12`, or its base (`Debian`) for every release. */
  ecosystem: z.string().min(1).max(128).optional(),
  owner: team,
  target: z.union([
    z.literal('security'),
    z.strictObject({ version: z.string().min(1).max(256) }),
    z.strictObject({ latest: z.strictObject({ cooldownDays: z.number().int().min(0).max(365).default(7) }) }),
  ]),
  rejected: z.array(z.string().min(1).max(256)).max(256).default([]),
  /** Buckets in the order a new target reaches them (canaries' bucket first). */
  promotion: z.array(name('bucket')).max(64).default([]),
});

export const emergencySchema = z.strictObject({
  triggers: z.strictObject({
    severity: z.array(z.enum(SEVERITY_ORDER as unknown as [string, ...string[]])).max(6).default(['critical']),
    knownExploited: z.boolean().default(true),
    epssAtLeast: z.number().min(0).max(1).optional(),
    advisories: z.array(z.string().min(1).max(128)).max(1_000).default([]),
  }).prefault({}),
  /** What the emergency path may skip; gates and error budgets are never relaxed. */
  relaxes: z.array(z.enum(['windows', 'freezes', 'cooldowns'])).max(3).default(['windows', 'cooldowns']),
  /** How often an open incident posts its status (an update of nothing every 0 s is no cadence). */
  statusEvery: policyDurationSchema.refine((milliseconds) => milliseconds >= 60_000, 'an incident posts its status at most every minute: give 1m or more').prefault('2h'),
  /** Target: every affected host patched and live within this long of the incident opening. */
  target: policyDurationSchema.refine((milliseconds) => milliseconds > 0, 'a target of 0 can never be met: give a duration').prefault('24h'),
});

export const policySchema = z.strictObject({
  $schema: z.string().max(2048).optional(),
  version: z.literal(1),
  windows: z.record(name('window'), maintenanceWindowSchema).default({}),
  buckets: z.array(bucketSchema).min(1).max(1_000),
  /** Hosts no bucket matches. */
  fallback: z.strictObject({ bucket: name('bucket'), owner: team }).default({ bucket: 'unassigned', owner: 'unowned' }),
  freezes: z.array(freezeSchema).max(256).default([]),
  slas: slaSchema.prefault({ days: { critical: 1, high: 7, medium: 30, low: 90 } }),
  baselines: z.array(baselineSchema).max(10_000).default([]),
  emergency: emergencySchema.prefault({}),
  notifications: notificationsSchema.prefault({}),
});

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type Bucket = Policy['buckets'][number];
export type Freeze = Policy['freezes'][number];
export type Baseline = Policy['baselines'][number];
export type Gate = Bucket['gates'][number];
export type Strategy = Bucket['strategy'];
