/**
 * Maintenance-window recurrence: when a window of the policy opens and closes, as UTC instants,
 * for the planner, `policy check` and `policy windows`. Pure: every instant is an argument.
 *
 * Semantics (docs/windows.md says the same with examples; the tests hold hand-checked tables):
 * 1. Dates are local. A recurrence names local calendar dates in the window's time zone; each
 *    named date is one occurrence, and `localDate` is that date. An occurrence belongs to the
 *    date it starts on, even when it runs past midnight (start 23:00, duration 3h ends 02:00 the
 *    next day); weekdays, `excludedDates` and `validFrom`/`validUntil` (inclusive) all apply to it.
 * 2. Monthly by day: `day: 31` means the 31st; a month without it has no occurrence (skipped,
 *    never clamped to the 30th: a clamp would open windows on days nobody wrote). `day: last` is
 *    every month's last day. `windowNeverOccurs` tells `policy check` when a window has no
 *    occurrence at all in a horizon (e.g. day 31 valid only in April).
 * 3. Monthly by weekday: the anchor is the ordinal weekday counted within the month ("second
 *    Tuesday" is day 8–14; `fifth` is skipped in months with four; `last` always exists); then
 *    `offsetDays` calendar days are added, which may cross into the next (or previous) month:
 *    "last Thursday + 7" of January opens in February, and February's own occurrence still does.
 *    Exclusions and validity apply to the date after the offset.
 * 4. Start on a DST gap: a local start that does not exist that day (02:30 on the US
 *    spring-forward day) moves to the first valid instant after it, which is the transition
 *    itself (03:00 EDT); `transition: 'gap'`.
 * 5. Start on a DST overlap: a local start that happens twice (01:30 on the US fall-back day)
 *    uses the first (EDT); `transition: 'overlap'`.
 * 6. Durations are elapsed time. `end` is `start` + duration, so a 2h window from 01:00 EDT on
 *    the fall-back day ends at 02:00 EST (local clock reads 1 h later, 2 h have passed).
 *    `admissionEnd` is `end` − admission cutoff: no new host may start at or after it.
 * 7. Queries: an occurrence is [start, end). `occurrencesBetween` returns those that overlap
 *    [from, to); `nextOccurrences` the first `count` that have not ended at `from` (one in
 *    progress included); `occurrenceAt` the one that contains the instant, the earliest if two
 *    overlap (a 24h daily window on a 23h day); it is always `nextOccurrences(w, t, 1)[0]`
 *    when that one has started.
 *
 * The time-zone library is temporal-polyfill (fullcalendar, maintained, releases through late
 * 2026): it implements the standard Temporal API (so it can give way to the built-in one), takes
 * an explicit disambiguation for gaps and overlaps instead of a silent guess, and finds the
 * transition instant a gap start moves to. Zone rules come from the runtime's ICU tz data.
 */
import { Temporal } from 'temporal-polyfill';
import { BugError } from '../errors.js';
import { WEEKDAYS, type MaintenanceWindow, type Ordinal, type Recurrence, type Weekday } from './window-schema.js';

export { describeRecurrence, maintenanceWindowSchema, WEEKDAYS } from './window-schema.js';
export type { MaintenanceWindow, MaintenanceWindowInput, Ordinal, Recurrence, Weekday } from './window-schema.js';

/** One opening of a window. Instants are UTC `Date`s; local values are in the window's zone. */
export interface WindowOccurrence {
  start: Date;
  end: Date;
  /** `end` minus the admission cutoff: hosts may start before this instant, not at or after it. */
  admissionEnd: Date;
  /** The local date the occurrence belongs to (`YYYY-MM-DD`): the recurrence's date, which it starts on. */
  localDate: string;
  /** Local wall-clock start with its UTC offset (`2026-03-08T03:00-04:00`): after a gap, not the written time. */
  localStart: string;
  /** Local wall-clock end with its UTC offset. */
  localEnd: string;
  /** Set when the written start fell in a DST change: moved to the transition (gap) or the first of two (overlap). */
  transition?: 'gap' | 'overlap';
}

/** The window's fields as Temporal values, computed once per query. */
interface PreparedWindow {
  timeZone: string;
  recurrence: Recurrence;
  start: Temporal.PlainTime;
  duration: number;
  admissionCutoff: number;
  excludedDates: ReadonlySet<string>;
  validFrom?: Temporal.PlainDate;
  validUntil?: Temporal.PlainDate;
}

function prepare(window: MaintenanceWindow): PreparedWindow {
  return {
    timeZone: window.timeZone,
    recurrence: window.recurrence,
    start: Temporal.PlainTime.from(window.start),
    duration: window.duration,
    admissionCutoff: window.admissionCutoff,
    excludedDates: new Set(window.excludedDates),
    ...(window.validFrom !== undefined ? { validFrom: Temporal.PlainDate.from(window.validFrom) } : {}),
    ...(window.validUntil !== undefined ? { validUntil: Temporal.PlainDate.from(window.validUntil) } : {}),
  };
}

const compareDates = Temporal.PlainDate.compare;
const laterDate = (a: Temporal.PlainDate, b: Temporal.PlainDate | undefined) => (b !== undefined && compareDates(b, a) > 0 ? b : a);

/** ISO day number (Monday 1 … Sunday 7) of a weekday name. */
const isoDay = (weekday: Weekday) => WEEKDAYS.indexOf(weekday) + 1;

/** The anchor day of a month for "ordinal weekday", or undefined when the month has no such day. */
function ordinalWeekdayOfMonth(month: Temporal.PlainYearMonth, ordinal: Ordinal, weekday: number): number | undefined {
  if (ordinal === 'last') {
    const lastDay = month.toPlainDate({ day: month.daysInMonth });
    return month.daysInMonth - ((lastDay.dayOfWeek - weekday + 7) % 7);
  }
  const firstDay = month.toPlainDate({ day: 1 });
  const day = 1 + ((weekday - firstDay.dayOfWeek + 7) % 7) + 7 * (ordinal - 1);
  return day <= month.daysInMonth ? day : undefined;
}

/**
 * The dates the recurrence names, ascending, from `from` on (before exclusions and validity).
 * Infinite: callers stop on their own bound.
 */
function recurrenceDates(recurrence: Recurrence, from: Temporal.PlainDate): Generator<Temporal.PlainDate> {
  switch (recurrence.kind) {
    case 'daily':
      return everyDay(from, undefined);
    case 'weekly':
      return everyDay(from, new Set(recurrence.days.map(isoDay)));
    case 'monthly-day':
      return monthDays(from, recurrence.day);
    case 'monthly-weekday':
      return ordinalWeekdays(from, recurrence.ordinal, isoDay(recurrence.weekday), recurrence.offsetDays);
  }
}

function* everyDay(from: Temporal.PlainDate, isoDays: ReadonlySet<number> | undefined): Generator<Temporal.PlainDate> {
  for (let date = from; ; date = date.add({ days: 1 })) if (!isoDays || isoDays.has(date.dayOfWeek)) yield date;
}

function* monthDays(from: Temporal.PlainDate, monthDay: number | 'last'): Generator<Temporal.PlainDate> {
  for (let month = from.toPlainYearMonth(); ; month = month.add({ months: 1 })) {
    const day = monthDay === 'last' ? month.daysInMonth : monthDay;
    if (day > month.daysInMonth) continue;
    const date = month.toPlainDate({ day });
    if (compareDates(date, from) >= 0) yield date;
  }
}

function* ordinalWeekdays(from: Temporal.PlainDate, ordinal: Ordinal, isoWeekday: number, offsetDays: number): Generator<Temporal.PlainDate> {
  // An occurrence on or after `from` has its anchor on or after from − offset.
  for (let month = from.subtract({ days: offsetDays }).toPlainYearMonth(); ; month = month.add({ months: 1 })) {
    const anchor = ordinalWeekdayOfMonth(month, ordinal, isoWeekday);
    if (anchor === undefined) continue;
    const date = month.toPlainDate({ day: anchor }).add({ days: offsetDays });
    if (compareDates(date, from) >= 0) yield date;
  }
}

/** The occurrence of a named local date: the start resolved by rules 4 and 5, then elapsed time. */
function occurrenceOn(window: PreparedWindow, date: Temporal.PlainDate): WindowOccurrence {
  const wallClock = date.toPlainDateTime(window.start);
  let start: Temporal.ZonedDateTime;
  let transition: WindowOccurrence['transition'];
  try {
    // Most days the wall-clock time exists once; "reject" says so in one conversion.
    start = wallClock.toZonedDateTime(window.timeZone, { disambiguation: 'reject' });
  } catch {
    start = wallClock.toZonedDateTime(window.timeZone, { disambiguation: 'earlier' });
    if (start.toPlainDateTime().equals(wallClock)) {
      transition = 'overlap';
    } else {
      // In a gap, "earlier" lands before the transition, on the old offset; the transition is next.
      start = start.getTimeZoneTransition('next') ?? raise(`no time-zone transition after ${start.toString()}`);
      transition = 'gap';
    }
  }
  const end = start.add({ milliseconds: window.duration });
  return {
    start: new Date(start.epochMilliseconds),
    end: new Date(end.epochMilliseconds),
    admissionEnd: new Date(end.epochMilliseconds - window.admissionCutoff),
    localDate: date.toString(),
    localStart: localText(start),
    localEnd: localText(end),
    ...(transition !== undefined ? { transition } : {}),
  };
}

/** `2026-03-08T03:00-04:00`: wall clock to the minute and the offset (ZonedDateTime.toString is several times slower). */
function localText(instant: Temporal.ZonedDateTime): string {
  return instant.toPlainDateTime().toString({ smallestUnit: 'minute' }) + instant.offset;
}

function raise(message: string): never {
  throw new BugError(message);
}

function epochOf(instant: Date, name: string): number {
  const milliseconds = instant.getTime();
  if (!Number.isFinite(milliseconds)) throw new BugError(`${name} is not a valid instant`);
  return milliseconds;
}

/** Occurrences that have not ended at `from`, in order; ends after `validUntil`, else never. */
function* occurrencesFrom(maintenanceWindow: MaintenanceWindow, from: Date): Generator<WindowOccurrence> {
  const window = prepare(maintenanceWindow);
  const fromMilliseconds = epochOf(from, 'from');
  // An occurrence still running at `from` started less than `duration` before it; a day earlier
  // covers a zone that skipped a whole date (its start moved to the next day).
  const scanFrom = Temporal.Instant.fromEpochMilliseconds(fromMilliseconds - window.duration)
    .toZonedDateTimeISO(window.timeZone)
    .toPlainDate()
    .subtract({ days: 1 });
  for (const date of recurrenceDates(window.recurrence, laterDate(scanFrom, window.validFrom))) {
    if (window.validUntil !== undefined && compareDates(date, window.validUntil) > 0) return;
    if (window.excludedDates.has(date.toString())) continue;
    const occurrence = occurrenceOn(window, date);
    if (occurrence.end.getTime() > fromMilliseconds) yield occurrence;
  }
}

/**
 * Every occurrence that overlaps [from, to): it ends after `from` and starts before `to`.
 *
 * @example occurrencesBetween(window, new Date('2026-03-01T00:00Z'), new Date('2026-04-01T00:00Z')).map((occurrence) => occurrence.localStart)
 * // ['2026-03-07T02:00-05:00', '2026-03-08T03:00-04:00', …] for a daily 02:00 window in America/New_York
 */
export function occurrencesBetween(window: MaintenanceWindow, from: Date, to: Date): WindowOccurrence[] {
  const toMilliseconds = epochOf(to, 'to');
  const occurrences: WindowOccurrence[] = [];
  for (const occurrence of occurrencesFrom(window, from)) {
    if (occurrence.start.getTime() >= toMilliseconds) break;
    occurrences.push(occurrence);
  }
  return occurrences;
}

/**
 * The first `count` occurrences that have not ended at `from` (one in progress comes first);
 * fewer when `validUntil` comes before them.
 *
 * @example nextOccurrences(window, clock.now(), 3)[0]?.start // when the window next opens (or opened, if it is open now)
 */
export function nextOccurrences(window: MaintenanceWindow, from: Date, count: number): WindowOccurrence[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new BugError(`count must be a whole number ≥ 0, got ${count}`);
  const occurrences: WindowOccurrence[] = [];
  if (count === 0) return occurrences;
  for (const occurrence of occurrencesFrom(window, from)) {
    occurrences.push(occurrence);
    if (occurrences.length === count) break;
  }
  return occurrences;
}

/**
 * The occurrence that contains `instant` (start ≤ instant < end), or undefined between openings.
 *
 * @example occurrenceAt(window, clock.now())?.admissionEnd // until when a host may still be started now
 */
export function occurrenceAt(window: MaintenanceWindow, instant: Date): WindowOccurrence | undefined {
  const [next] = nextOccurrences(window, instant, 1);
  return next !== undefined && next.start.getTime() <= instant.getTime() ? next : undefined;
}

/**
 * Whether the window has no occurrence overlapping [from, to), for `policy check`'s "never
 * occurs" warning (a month day outside every valid month, everything excluded, validUntil passed).
 *
 * @example windowNeverOccurs(window, clock.now(), new Date(clock.now().getTime() + 366 * 86_400_000)) // true for day 31 valid only in April
 */
export function windowNeverOccurs(window: MaintenanceWindow, from: Date, to: Date): boolean {
  const [next] = nextOccurrences(window, from, 1);
  return next === undefined || next.start.getTime() >= epochOf(to, 'to');
}
