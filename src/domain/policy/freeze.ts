/**
 * Change freezes as instants: a one-off freeze (`2026-12-24` … `2026-12-26`, or date-times) or a
 * yearly one (`12-20` … `01-03`, which crosses the new year), read in the freeze's time zone. A
 * date range covers whole local days: from the first day's midnight to the end of the last day.
 * During a freeze no host is admitted in its scope; the emergency path passes it only when the
 * freeze says `allowEmergency` and the emergency policy relaxes freezes.
 */
import { Temporal } from 'temporal-polyfill';
import type { Freeze } from './policy-schema.js';

export interface FreezeInterval {
  name: string;
  start: Date;
  /** Exclusive. */
  end: Date;
}

const MONTH_DAY = /^(\d{2})-(\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Local midnight of `date` in `timeZone` (the first instant of that day, even on a DST day). */
function startOfDay(date: Temporal.PlainDate, timeZone: string): Date {
  return new Date(date.toZonedDateTime({ timeZone }).epochMilliseconds);
}

/**
 * The intervals of `freeze` that overlap [from, to).
 *
 * @example freezeIntervals({ name: 'year-end', from: '12-20', until: '01-03', timeZone: 'UTC', … }, jan1, dec31)
 * // [{ start: 2025-12-20…, end: 2026-01-04T00:00Z }, { start: 2026-12-20…, end: 2027-01-04T00:00Z }]
 */
export function freezeIntervals(freeze: Pick<Freeze, 'name' | 'from' | 'until' | 'timeZone'>, from: Date, to: Date): FreezeInterval[] {
  const yearly = MONTH_DAY.exec(freeze.from);
  const yearlyUntil = MONTH_DAY.exec(freeze.until);
  if (yearly && yearlyUntil) {
    const intervals: FreezeInterval[] = [];
    const firstYear = new Date(from).getUTCFullYear() - 1;
    const lastYear = new Date(to).getUTCFullYear() + 1;
    const [fromMonth, fromDay, untilMonth, untilDay] = [yearly[1], yearly[2], yearlyUntil[1], yearlyUntil[2]].map(Number) as [number, number, number, number];
    const crossesYear = untilMonth * 100 + untilDay < fromMonth * 100 + fromDay;
    for (let year = firstYear; year <= lastYear; year++) {
      // 02-29 in a year without it is read as the last day of February.
      const startDate = Temporal.PlainDate.from({ year, month: fromMonth, day: fromDay }, { overflow: 'constrain' });
      const untilDate = Temporal.PlainDate.from({ year: crossesYear ? year + 1 : year, month: untilMonth, day: untilDay }, { overflow: 'constrain' });
      const interval = { name: freeze.name, start: startOfDay(startDate, freeze.timeZone), end: startOfDay(untilDate.add({ days: 1 }), freeze.timeZone) };
      if (interval.end > from && interval.start < to) intervals.push(interval);
    }
    return intervals;
  }
  const start = DATE_ONLY.test(freeze.from) ? startOfDay(Temporal.PlainDate.from(freeze.from), freeze.timeZone) : new Date(freeze.from);
  const end = DATE_ONLY.test(freeze.until) ? startOfDay(Temporal.PlainDate.from(freeze.until).add({ days: 1 }), freeze.timeZone) : new Date(freeze.until);
  return end > from && start < to ? [{ name: freeze.name, start, end }] : [];
}

/** Whether a freeze covers a bucket (by its name or its owner team). */
export function freezeCovers(freeze: Pick<Freeze, 'scope'>, bucket: { name: string; owner: string }): boolean {
  if (freeze.scope === 'all') return true;
  return (freeze.scope.buckets ?? []).includes(bucket.name) || (freeze.scope.teams ?? []).includes(bucket.owner);
}

/** A yearly freeze mixes forms: both ends must be month-days, or both dates/date-times. */
export function freezeFormProblem(freeze: Pick<Freeze, 'from' | 'until'>): string | undefined {
  const yearly = [freeze.from, freeze.until].map((end) => MONTH_DAY.test(end));
  if (yearly[0] !== yearly[1]) return 'a yearly freeze gives both ends as month-days (12-20 … 01-03); a one-off freeze gives both as dates or date-times';
  if (!yearly[0]) {
    const start = DATE_ONLY.test(freeze.from) ? Date.parse(`${freeze.from}T00:00:00Z`) : Date.parse(freeze.from);
    const end = DATE_ONLY.test(freeze.until) ? Date.parse(`${freeze.until}T23:59:59Z`) : Date.parse(freeze.until);
    if (!(end > start)) return 'the freeze ends before it starts';
  } else {
    for (const end of [freeze.from, freeze.until]) {
      const [month, day] = end.split('-').map(Number) as [number, number];
      if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(2024, month, 0)).getUTCDate()) return `${end} is not a day of the year`;
    }
  }
  return undefined;
}
