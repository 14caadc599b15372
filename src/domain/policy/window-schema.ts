/**
 * The policy's spelling of one maintenance window, validated with zod and normalised into the
 * `MaintenanceWindow` value the recurrence functions in `maintenance-window.ts` take. The
 * semantics (what a recurrence means on DST days, missing days, offsets) are written down there
 * and in docs/windows.md; this file only says what a well-formed window looks like.
 *
 * ```yaml
 * timeZone: America/New_York
 * every: month            # day | week | month
 * ordinal: second         # with weekday: first … fifth, last
 * weekday: tuesday
 * offsetDays: 4           # -30 … 30, counted from the anchor weekday ("second Tuesday + 4")
 * start: "02:00"          # local wall-clock time, 24-hour HH:MM
 * duration: 4h            # elapsed time, 1m … 24h
 * admissionCutoff: 30m    # no host starts in the last 30 minutes
 * excludedDates: [2026-12-26]
 * validFrom: 2026-01-01
 * validUntil: 2027-12-31
 * ```
 */
import { Temporal } from 'temporal-polyfill';
import { z } from 'zod';
import { policyDurationSchema } from './policy-duration.js';

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
/** A day of the week, lowercase English. ISO numbering (Temporal's `dayOfWeek`) is its index + 1. */
export type Weekday = (typeof WEEKDAYS)[number];

const ORDINAL_WORDS = ['first', 'second', 'third', 'fourth', 'fifth'] as const;
/** Which weekday of the month: the 1st … 5th, or the last. */
export type Ordinal = 1 | 2 | 3 | 4 | 5 | 'last';

/**
 * What a window repeats on, in local calendar dates of the window's time zone.
 * - `daily`: every day;
 * - `weekly`: the listed days (sorted Monday first, no repeats);
 * - `monthly-day`: that day of every month (a month without it is skipped), or its last day;
 * - `monthly-weekday`: the ordinal weekday of every month (the anchor), moved by `offsetDays`
 *   calendar days, which may cross into the next or previous month.
 */
export type Recurrence =
  | { kind: 'daily' }
  | { kind: 'weekly'; days: Weekday[] }
  | { kind: 'monthly-day'; day: number | 'last' }
  | { kind: 'monthly-weekday'; ordinal: Ordinal; weekday: Weekday; offsetDays: number };

/** One maintenance window, normalised (the output of `maintenanceWindowSchema`). */
export interface MaintenanceWindow {
  /** A tz-database name as Temporal spells it (`America/New_York`; aliases such as `US/Eastern` are kept). */
  timeZone: string;
  recurrence: Recurrence;
  /** Local wall-clock start, `HH:MM`. */
  start: string;
  /** Elapsed milliseconds from start to end (never wall-clock: a DST change does not stretch it). */
  duration: number;
  /** Milliseconds before the end in which no new host may start. */
  admissionCutoff: number;
  /** Local start dates (`YYYY-MM-DD`) on which the window does not open, sorted. */
  excludedDates: string[];
  /** First and last local start dates (`YYYY-MM-DD`, inclusive) on which the window may open. */
  validFrom?: string;
  validUntil?: string;
}

const MAXIMUM_DURATION = 24 * 3_600_000;
const MINUTE = 60_000;
/** GCP's day_offset range; Azure allows ±6 and SSM 1…6, all within it. */
const MAXIMUM_OFFSET_DAYS = 30;
const UTC_OFFSET = /^[+\-\u2212]/;

/** Canonical spelling of a tz-database name, or undefined when the database has no such zone. */
function knownTimeZone(text: string): string | undefined {
  // Temporal also accepts fixed offsets (+05:30); a policy must name a zone, so its DST rules apply.
  if (UTC_OFFSET.test(text)) return undefined;
  try {
    return new Temporal.ZonedDateTime(0n, text).timeZoneId;
  } catch {
    return undefined;
  }
}

export const timeZoneSchema = z
  .string()
  .max(64)
  .transform((text, context) => {
    const zone = knownTimeZone(text);
    if (zone === undefined) {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a time zone of the tz database: name one like Europe/Berlin, America/New_York or UTC` });
      return z.NEVER;
    }
    return zone;
  });

const localDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-12-24')
  .refine((text) => {
    try {
      Temporal.PlainDate.from(text, { overflow: 'reject' });
      return true;
    } catch {
      return false;
    }
  }, 'not a calendar date');

const localTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour local time like 02:00 or 23:30');

const WEEKDAY_ABBREVIATIONS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** `tuesday` or `tue`, as the full name. */
const weekdaySchema = z
  .enum([...WEEKDAYS, ...WEEKDAY_ABBREVIATIONS])
  .transform((day): Weekday => WEEKDAYS[(WEEKDAY_ABBREVIATIONS as readonly string[]).indexOf(day)] ?? (day as Weekday));

/** The window as written in the policy file; `maintenanceWindowSchema` checks and normalises it. */
const windowDefinitionSchema = z.strictObject({
  /** IANA (tz database) time zone of the start time and of every date below. */
  timeZone: timeZoneSchema,
  every: z.enum(['day', 'week', 'month']),
  /** `every: week`: the days the window opens on. */
  days: z.array(weekdaySchema).min(1).max(7).optional(),
  /** `every: month`: a day of the month (a month without it is skipped), or `last`. */
  day: z.union([z.number().int().min(1).max(31), z.literal('last')]).optional(),
  /** `every: month`: with `weekday`, which one of the month (the anchor). */
  ordinal: z.enum([...ORDINAL_WORDS, 'last']).optional(),
  weekday: weekdaySchema.optional(),
  /** With `ordinal`: calendar days from the anchor ("second Tuesday + 4" is the Saturday after Patch Tuesday). */
  offsetDays: z.number().int().min(-MAXIMUM_OFFSET_DAYS).max(MAXIMUM_OFFSET_DAYS).optional(),
  start: localTimeSchema,
  duration: policyDurationSchema,
  admissionCutoff: policyDurationSchema.prefault('0m'),
  excludedDates: z.array(localDateSchema).max(1_000).default([]),
  validFrom: localDateSchema.optional(),
  validUntil: localDateSchema.optional(),
});

type WindowDefinition = z.output<typeof windowDefinitionSchema>;

/** Which keys belong to which `every`; any other recurrence key is an error naming it. */
const RECURRENCE_KEYS = { day: [], week: ['days'], month: ['day', 'ordinal', 'weekday', 'offsetDays'] } as const;

function checkWindow(definition: WindowDefinition, context: z.RefinementCtx): void {
  const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
  const allowed: readonly string[] = RECURRENCE_KEYS[definition.every];
  for (const key of ['days', 'day', 'ordinal', 'weekday', 'offsetDays'] as const) {
    if (definition[key] !== undefined && !allowed.includes(key)) issue(key, `${key} does not apply to every: ${definition.every}`);
  }
  if (definition.every === 'week' && definition.days === undefined) issue('days', 'every: week needs the days it opens on, e.g. days: [saturday]');
  if (definition.every === 'month') {
    const byWeekday = definition.ordinal !== undefined || definition.weekday !== undefined || definition.offsetDays !== undefined;
    if (definition.day !== undefined && byWeekday) issue('day', 'every: month takes either day (e.g. day: 15) or ordinal and weekday (e.g. second tuesday), not both');
    else if (definition.day === undefined && !byWeekday) issue('day', 'every: month needs day (1-31 or last) or ordinal and weekday (e.g. ordinal: second, weekday: tuesday)');
    else if (byWeekday && definition.ordinal === undefined) issue('ordinal', 'weekday needs ordinal: first, second, third, fourth, fifth or last');
    else if (byWeekday && definition.weekday === undefined) issue('weekday', 'ordinal needs weekday, e.g. weekday: tuesday');
  }
  if (definition.duration < MINUTE || definition.duration > MAXIMUM_DURATION) issue('duration', 'a window lasts from 1m to 24h (a longer period is consecutive days)');
  if (definition.admissionCutoff >= definition.duration) issue('admissionCutoff', 'the admission cutoff must be shorter than the duration, or no host could ever start');
  if (definition.validFrom !== undefined && definition.validUntil !== undefined && definition.validFrom > definition.validUntil) {
    issue('validUntil', `validUntil ${definition.validUntil} is before validFrom ${definition.validFrom}`);
  }
}

function toRecurrence(definition: WindowDefinition): Recurrence {
  if (definition.every === 'day') return { kind: 'daily' };
  if (definition.every === 'week') return { kind: 'weekly', days: WEEKDAYS.filter((day) => definition.days!.includes(day)) };
  if (definition.day !== undefined) return { kind: 'monthly-day', day: definition.day };
  const ordinal = definition.ordinal === 'last' ? 'last' : ((ORDINAL_WORDS.indexOf(definition.ordinal!) + 1) as Ordinal);
  return { kind: 'monthly-weekday', ordinal, weekday: definition.weekday!, offsetDays: definition.offsetDays ?? 0 };
}

/**
 * One maintenance window of the policy file, validated (a real tz-database zone, real dates, a
 * recurrence whose keys fit its `every`, 1m ≤ duration ≤ 24h, cutoff < duration) and normalised.
 * Errors carry the path of the offending key. Embed it in a record keyed by window name.
 *
 * @example maintenanceWindowSchema.parse({ timeZone: 'UTC', every: 'day', start: '03:00', duration: '1h' })
 * // { timeZone: 'UTC', recurrence: { kind: 'daily' }, start: '03:00', duration: 3600000, admissionCutoff: 0, excludedDates: [] }
 */
export const maintenanceWindowSchema = windowDefinitionSchema.superRefine(checkWindow).transform(
  (definition): MaintenanceWindow => ({
    timeZone: definition.timeZone,
    recurrence: toRecurrence(definition),
    start: definition.start,
    duration: definition.duration,
    admissionCutoff: definition.admissionCutoff,
    excludedDates: [...new Set(definition.excludedDates)].sort(),
    ...(definition.validFrom !== undefined ? { validFrom: definition.validFrom } : {}),
    ...(definition.validUntil !== undefined ? { validUntil: definition.validUntil } : {}),
  }),
);

/** A window as the policy file spells it (before normalisation). */
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;

/**
 * The recurrence in words, for listings and messages.
 *
 * @example describeRecurrence({ kind: 'monthly-weekday', ordinal: 2, weekday: 'tuesday', offsetDays: 4 }) // 'second Tuesday of the month + 4 days'
 */
export function describeRecurrence(recurrence: Recurrence): string {
  const capitalised = (day: Weekday) => day[0]!.toUpperCase() + day.slice(1);
  switch (recurrence.kind) {
    case 'daily':
      return 'every day';
    case 'weekly':
      return `every ${recurrence.days.map(capitalised).join(', ')}`;
    case 'monthly-day':
      return recurrence.day === 'last' ? 'last day of the month' : `day ${recurrence.day} of the month (skipped in months without it)`;
    case 'monthly-weekday': {
      const ordinal = recurrence.ordinal === 'last' ? 'last' : ORDINAL_WORDS[recurrence.ordinal - 1]!;
      const offset = recurrence.offsetDays === 0 ? '' : ` ${recurrence.offsetDays > 0 ? '+' : '-'} ${Math.abs(recurrence.offsetDays)} day${Math.abs(recurrence.offsetDays) === 1 ? '' : 's'}`;
      return `${ordinal} ${capitalised(recurrence.weekday)} of the month${offset}`;
    }
  }
}
