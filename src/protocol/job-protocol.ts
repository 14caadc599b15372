/**
 * The rollout engine ↔ agent job protocol (pull model, like check-ins: the agent calls the server).
 *
 * - `GET /api/v1/hosts/{name}/job?waitSeconds=N` long-polls for the host's current job: 200 with a
 *   `HostJob`, or 204 when none came within the wait. The same job is answered until its result is
 *   recorded, so a lost answer costs nothing.
 * - `POST /api/v1/hosts/{name}/jobs/{key}/result` reports a `JobResult`; a second report of the
 *   same key changes nothing (200 with `recorded: false`).
 *
 * A job's `key` is its idempotency key (`<rollout>:<host>:<step>:<attempt>`): the agent journals
 * every key before it acts and never runs a key twice, whatever the server asks after a crash.
 * The reboot step is the exception that proves the rule: the agent journals it, reports `started`
 * and reboots; the server, not the agent, decides that it worked (a new boot id, a check-in after
 * it, the expected kernel and versions).
 */
import { z } from 'zod';
import { HOST_STEPS, type HostStep, type JobCommand } from '../domain/rollout/rollout-model.js';
import { isoDateTime, wellFormedString } from '../domain/well-formed-text.js';

export { HOST_STEPS, type HostStep, type JobCommand };

/** Bounded so a chatty command cannot fill the database: the tail is what explains a failure. */
export const MAX_JOB_OUTPUT_BYTES = 65_536;

const packageName = wellFormedString({ min: 1, max: 256 });
const packageVersion = wellFormedString({ min: 1, max: 256 });
const instant = isoDateTime.max(64).meta({ format: 'date-time' });

export const jobCommandSchema = z.strictObject({
  name: wellFormedString({ min: 1, max: 128 }),
  command: wellFormedString({ min: 1, max: 4096 }),
  timeoutMs: z.number().int().min(1).max(86_400_000),
  allowedExitCodes: z.array(z.number().int().min(0).max(255)).min(1).max(32),
}) satisfies z.ZodType<JobCommand>;

export const hostJobSchema = z.strictObject({
  key: wellFormedString({ min: 1, max: 512 }),
  rolloutId: z.number().int().positive(),
  step: z.enum(HOST_STEPS),
  /** pre-check and post-check: run in order, the first failure fails the step. */
  commands: z.array(jobCommandSchema).max(32).default([]),
  /** upgrade: install exactly these versions and nothing else (the rollout's content snapshot). */
  packages: z.array(z.strictObject({ name: packageName, version: packageVersion })).max(10_000).default([]),
  /** rollback: reinstall these (the versions the upgrade replaced), unless `commands` say otherwise. */
  previous: z.array(z.strictObject({ name: packageName, version: packageVersion })).max(10_000).default([]),
  /** The step must end by then; the agent gives up (and reports a failure) at this instant. */
  deadline: instant,
  /** provision and retire (replace strategy): the baseline image the replacement is made from, and the new host. */
  image: wellFormedString({ min: 1, max: 256 }).optional(),
  replacement: wellFormedString({ min: 1, max: 253 }).optional(),
  /** drain: how the node's pods are evicted (PodDisruptionBudgets are always honoured). */
  drain: z.strictObject({
    /** A drain that makes no progress this long ends as failed with the blocking budget named. */
    stuckAfterMs: z.number().int().min(1).max(86_400_000),
    gracePeriodSeconds: z.number().int().min(0).max(86_400).optional(),
    deleteEmptyDirData: z.boolean(),
  }).optional(),
});
export type HostJob = z.infer<typeof hostJobSchema>;

export const jobResultSchema = z.strictObject({
  /** `started`: only for reboot, the agent is about to go down. */
  outcome: z.enum(['succeeded', 'failed', 'started']),
  exitCode: z.number().int().optional(),
  /** The tail of stdout and stderr, at most MAX_JOB_OUTPUT_BYTES. */
  output: wellFormedString({ max: MAX_JOB_OUTPUT_BYTES, multiline: true }).default(''),
  /** upgrade and rollback: what each package was before and is now. */
  replaced: z.array(z.strictObject({ name: packageName, from: packageVersion.optional(), to: packageVersion })).max(10_000).default([]),
  error: wellFormedString({ max: 4096, multiline: true }).optional(),
  /** Step-specific findings the engine keeps: a cordon's `cordonedByUs`, a drain's `blockedBy`, a provision's `replacement`. */
  details: z.record(wellFormedString({ min: 1, max: 64 }), z.union([wellFormedString({ max: 1024 }), z.number(), z.boolean()])).refine((details) => Object.keys(details).length <= 32, 'at most 32 details').optional(),
  startedAt: instant,
  finishedAt: instant,
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** `42:db-7:upgrade:1` */
export function jobKey(rolloutId: number, host: string, step: HostStep, attempt: number): string {
  return `${rolloutId}:${host}:${step}:${attempt}`;
}
