// Hand-checked tables for the window semantics written at the top of maintenance-window.ts.
// 2026 transitions: US Mar 8 02:00 EST→03:00 EDT (07:00Z), Nov 1 02:00 EDT→01:00 EST (06:00Z);
// EU Mar 29 and Oct 25 at 01:00Z; Lord Howe Apr 5 02:00→01:30 (+11:00→+10:30, 15:00Z Apr 4) and
// Oct 4 02:00→02:30 (15:30Z Oct 3); Asia/Kolkata is +05:30 all year. 2026-01-01 is a Thursday.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  describeRecurrence,
  maintenanceWindowSchema,
  nextOccurrences,
  occurrenceAt,
  occurrencesBetween,
  windowNeverOccurs,
  type MaintenanceWindow,
  type MaintenanceWindowInput,
} from './maintenance-window.js';

const window = (input: Partial<MaintenanceWindowInput>): MaintenanceWindow =>
  maintenanceWindowSchema.parse({ timeZone: 'UTC', every: 'day', start: '03:00', duration: '1h', ...input });
const at = (iso: string) => new Date(iso);
/** The occurrence that belongs to one local date (searched from its first instant anywhere on Earth to its last). */
function on(definition: MaintenanceWindow, localDate: string) {
  return occurrencesBetween(definition, at(`${localDate}T00:00+14:00`), at(`${localDate}T23:59-12:00`)).find((occurrence) => occurrence.localDate === localDate);
}

describe('the start on DST days', () => {
  it.each([
    // zone, local date, written start, start (UTC), local start, transition
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08T07:00:00.000Z', '2026-03-08T03:00-04:00', 'gap'],
    ['America/New_York', '2026-03-08', '02:00', '2026-03-08T07:00:00.000Z', '2026-03-08T03:00-04:00', 'gap'],
    ['America/New_York', '2026-03-08', '03:00', '2026-03-08T07:00:00.000Z', '2026-03-08T03:00-04:00', undefined],
    ['America/New_York', '2026-03-08', '01:59', '2026-03-08T06:59:00.000Z', '2026-03-08T01:59-05:00', undefined],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30:00.000Z', '2026-11-01T01:30-04:00', 'overlap'],
    ['America/New_York', '2026-11-01', '02:00', '2026-11-01T07:00:00.000Z', '2026-11-01T02:00-05:00', undefined],
    ['Europe/Berlin', '2026-03-29', '02:30', '2026-03-29T01:00:00.000Z', '2026-03-29T03:00+02:00', 'gap'],
    ['Europe/Berlin', '2026-10-25', '02:30', '2026-10-25T00:30:00.000Z', '2026-10-25T02:30+02:00', 'overlap'],
    ['Europe/Berlin', '2026-10-25', '03:00', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00+01:00', undefined],
    ['Australia/Lord_Howe', '2026-10-04', '02:15', '2026-10-03T15:30:00.000Z', '2026-10-04T02:30+11:00', 'gap'],
    ['Australia/Lord_Howe', '2026-10-04', '02:30', '2026-10-03T15:30:00.000Z', '2026-10-04T02:30+11:00', undefined],
    ['Australia/Lord_Howe', '2026-04-05', '01:45', '2026-04-04T14:45:00.000Z', '2026-04-05T01:45+11:00', 'overlap'],
    ['Australia/Lord_Howe', '2026-04-05', '01:15', '2026-04-04T14:15:00.000Z', '2026-04-05T01:15+11:00', undefined],
    ['Australia/Lord_Howe', '2026-04-05', '02:00', '2026-04-04T15:30:00.000Z', '2026-04-05T02:00+10:30', undefined],
    ['Asia/Kolkata', '2026-03-08', '02:30', '2026-03-07T21:00:00.000Z', '2026-03-08T02:30+05:30', undefined],
    ['Asia/Kolkata', '2026-11-01', '01:30', '2026-10-31T20:00:00.000Z', '2026-11-01T01:30+05:30', undefined],
  ])('%s %s at %s starts %s (%s, %s)', (timeZone, localDate, start, utc, localStart, transition) => {
    const occurrence = on(window({ timeZone, start }), localDate);
    expect(occurrence?.start.toISOString()).toBe(utc);
    expect(occurrence?.localStart).toBe(localStart);
    expect(occurrence?.transition).toBe(transition);
  });

  it.each([
    // Durations are elapsed: the local end moves with the offset.
    ['America/New_York', '2026-11-01', '01:00', '2h', '2026-11-01T07:00:00.000Z', '2026-11-01T02:00-05:00'],
    ['America/New_York', '2026-03-08', '01:30', '2h', '2026-03-08T08:30:00.000Z', '2026-03-08T04:30-04:00'],
    ['America/New_York', '2026-03-08', '02:30', '1h', '2026-03-08T08:00:00.000Z', '2026-03-08T04:00-04:00'],
    ['Europe/Berlin', '2026-03-28', '23:00', '4h', '2026-03-29T02:00:00.000Z', '2026-03-29T04:00+02:00'],
    ['Australia/Lord_Howe', '2026-04-05', '01:00', '2h', '2026-04-04T16:00:00.000Z', '2026-04-05T02:30+10:30'],
    ['Australia/Lord_Howe', '2026-10-04', '01:00', '90m', '2026-10-03T16:00:00.000Z', '2026-10-04T03:00+11:00'],
  ])('%s %s %s for %s ends %s (%s)', (timeZone, localDate, start, duration, utcEnd, localEnd) => {
    const occurrence = on(window({ timeZone, start, duration }), localDate);
    expect(occurrence?.end.toISOString()).toBe(utcEnd);
    expect(occurrence?.localEnd).toBe(localEnd);
  });
});

describe('recurrences', () => {
  const localDates = (definition: MaintenanceWindow, from: string, to: string) => occurrencesBetween(definition, at(from), at(to)).map((occurrence) => occurrence.localDate);

  it.each([
    // recurrence, from, to (UTC), local dates
    [{ every: 'week', days: ['tuesday', 'sat'] }, '2026-01-01', '2026-01-15', ['2026-01-03', '2026-01-06', '2026-01-10', '2026-01-13']],
    [{ every: 'month', day: 31 }, '2026-01-01', '2027-01-01', ['2026-01-31', '2026-03-31', '2026-05-31', '2026-07-31', '2026-08-31', '2026-10-31', '2026-12-31']],
    [{ every: 'month', day: 29 }, '2026-01-01', '2026-04-01', ['2026-01-29', '2026-03-29']],
    [{ every: 'month', day: 29 }, '2028-01-01', '2028-04-01', ['2028-01-29', '2028-02-29', '2028-03-29']],
    [{ every: 'month', day: 'last' }, '2026-01-01', '2026-05-01', ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']],
    [{ every: 'month', ordinal: 'fifth', weekday: 'friday' }, '2026-01-01', '2027-01-01', ['2026-01-30', '2026-05-29', '2026-07-31', '2026-10-30']],
    // Patch Tuesday (second Tuesday: Jan 13, Feb 10, Mar 10) and the Saturday after it.
    [{ every: 'month', ordinal: 'second', weekday: 'tuesday' }, '2026-01-01', '2026-04-01', ['2026-01-13', '2026-02-10', '2026-03-10']],
    [{ every: 'month', ordinal: 'second', weekday: 'tuesday', offsetDays: 4 }, '2026-01-01', '2026-04-01', ['2026-01-17', '2026-02-14', '2026-03-14']],
    // Last Thursday + 7: January's (Jan 29) opens Feb 5, February's (Feb 26) Mar 5, March's (Mar 26) Apr 2.
    [{ every: 'month', ordinal: 'last', weekday: 'thursday', offsetDays: 7 }, '2026-02-01', '2026-04-03', ['2026-02-05', '2026-03-05', '2026-04-02']],
    // First Monday − 3: May's (May 4) opens May 1, June's (Jun 1) opens May 29.
    [{ every: 'month', ordinal: 'first', weekday: 'monday', offsetDays: -3 }, '2026-05-01', '2026-06-01', ['2026-05-01', '2026-05-29']],
  ] as const)('%j from %s to %s', (recurrence, from, to, expected) => {
    expect(localDates(window(recurrence as Partial<MaintenanceWindowInput>), `${from}T00:00Z`, `${to}T00:00Z`)).toEqual(expected);
  });

  it('a window crossing midnight belongs to the date it starts on', () => {
    const friday = window({ timeZone: 'Europe/Berlin', every: 'week', days: ['friday'], start: '23:00', duration: '3h' });
    const occurrence = occurrenceAt(friday, at('2026-01-10T00:30+01:00'));
    expect(occurrence).toMatchObject({ localDate: '2026-01-09', localStart: '2026-01-09T23:00+01:00', localEnd: '2026-01-10T02:00+01:00' });
    expect(occurrence?.start.toISOString()).toBe('2026-01-09T22:00:00.000Z');
    // Exclusions name the start date: excluding Saturday does not touch Friday night's window.
    expect(occurrenceAt({ ...friday, excludedDates: ['2026-01-10'] }, at('2026-01-10T00:30+01:00'))?.localDate).toBe('2026-01-09');
    expect(occurrenceAt({ ...friday, excludedDates: ['2026-01-09'] }, at('2026-01-10T00:30+01:00'))).toBeUndefined();
  });

  it('excluded dates and validity apply to the local start date, inclusive', () => {
    const daily = window({ timeZone: 'Asia/Kolkata', start: '03:00', excludedDates: ['2026-01-03'], validFrom: '2026-01-02', validUntil: '2026-01-04' });
    const occurrences = occurrencesBetween(daily, at('2025-12-25T00:00Z'), at('2026-02-01T00:00Z'));
    expect(occurrences.map((occurrence) => [occurrence.localDate, occurrence.start.toISOString()])).toEqual([
      ['2026-01-02', '2026-01-01T21:30:00.000Z'],
      ['2026-01-04', '2026-01-03T21:30:00.000Z'],
    ]);
    // The last valid date's window runs past midnight into a date outside the range.
    const late = window({ start: '23:00', duration: '3h', validUntil: '2026-01-04' });
    expect(nextOccurrences(late, at('2026-01-04T12:00Z'), 5).map((occurrence) => occurrence.localEnd)).toEqual(['2026-01-05T02:00+00:00']);
  });

  it('an offset moves the occurrence, and exclusions and validity see the moved date', () => {
    const patchSaturday = window({ timeZone: 'America/New_York', every: 'month', ordinal: 'second', weekday: 'tuesday', offsetDays: 4 });
    const dates = (definition: MaintenanceWindow) => occurrencesBetween(definition, at('2026-01-01T00:00Z'), at('2026-04-01T00:00Z')).map((occurrence) => occurrence.localDate);
    expect(dates({ ...patchSaturday, excludedDates: ['2026-02-10'] })).toEqual(['2026-01-17', '2026-02-14', '2026-03-14']);
    expect(dates({ ...patchSaturday, excludedDates: ['2026-02-14'] })).toEqual(['2026-01-17', '2026-03-14']);
    expect(dates({ ...patchSaturday, validFrom: '2026-01-15' })).toEqual(['2026-01-17', '2026-02-14', '2026-03-14']);
    expect(dates({ ...patchSaturday, validUntil: '2026-03-13' })).toEqual(['2026-01-17', '2026-02-14']);
  });
});

describe('queries', () => {
  const daily = window({ start: '03:00', duration: '1h', admissionCutoff: '15m' });

  it('an occurrence is [start, end), with admission until end minus the cutoff', () => {
    expect(occurrenceAt(daily, at('2026-01-05T03:00Z'))).toEqual({
      start: at('2026-01-05T03:00Z'),
      end: at('2026-01-05T04:00Z'),
      admissionEnd: at('2026-01-05T03:45Z'),
      localDate: '2026-01-05',
      localStart: '2026-01-05T03:00+00:00',
      localEnd: '2026-01-05T04:00+00:00',
    });
    expect(occurrenceAt(daily, at('2026-01-05T03:59:59.999Z'))?.localDate).toBe('2026-01-05');
    expect(occurrenceAt(daily, at('2026-01-05T04:00Z'))).toBeUndefined();
    expect(occurrenceAt(daily, at('2026-01-05T02:59:59.999Z'))).toBeUndefined();
  });

  it('next occurrences include the one in progress; between returns those overlapping the range', () => {
    expect(nextOccurrences(daily, at('2026-01-05T03:30Z'), 2).map((occurrence) => occurrence.localDate)).toEqual(['2026-01-05', '2026-01-06']);
    expect(nextOccurrences(daily, at('2026-01-05T04:00Z'), 2).map((occurrence) => occurrence.localDate)).toEqual(['2026-01-06', '2026-01-07']);
    expect(nextOccurrences(daily, at('2026-01-05T04:00Z'), 0)).toEqual([]);
    expect(occurrencesBetween(daily, at('2026-01-05T03:59Z'), at('2026-01-07T03:00Z')).map((occurrence) => occurrence.localDate)).toEqual(['2026-01-05', '2026-01-06']);
    expect(nextOccurrences({ ...daily, validUntil: '2026-01-06' }, at('2026-01-05T00:00Z'), 10)).toHaveLength(2);
  });

  it('of two overlapping occurrences (24h on a 23h day), the instant belongs to the earlier', () => {
    const allDay = window({ timeZone: 'America/New_York', start: '00:00', duration: '24h' });
    const instant = at('2026-03-09T04:30Z'); // 00:30 EDT on Mar 9, still inside Mar 8's 24 hours
    expect(occurrenceAt(allDay, instant)?.localDate).toBe('2026-03-08');
    expect(occurrencesBetween(allDay, instant, at('2026-03-09T04:31Z')).map((occurrence) => occurrence.localDate)).toEqual(['2026-03-08', '2026-03-09']);
    expect(nextOccurrences(allDay, instant, 1)[0]?.localDate).toBe('2026-03-08');
  });

  it('says when a window never occurs in a horizon', () => {
    const horizon = [at('2026-01-01T00:00Z'), at('2028-01-01T00:00Z')] as const;
    expect(windowNeverOccurs(window({ every: 'month', day: 31, validFrom: '2027-04-01', validUntil: '2027-04-30' }), ...horizon)).toBe(true);
    expect(windowNeverOccurs(window({ every: 'month', day: 31, validFrom: '2027-04-01', validUntil: '2027-05-31' }), ...horizon)).toBe(false);
    expect(windowNeverOccurs(window({ every: 'week', days: ['sunday'], validFrom: '2026-01-05', validUntil: '2026-01-10' }), ...horizon)).toBe(true);
    expect(windowNeverOccurs(window({ validUntil: '2025-12-31' }), ...horizon)).toBe(true);
    expect(windowNeverOccurs(window({ validFrom: '2026-01-01', validUntil: '2026-01-02', excludedDates: ['2026-01-01', '2026-01-02'] }), ...horizon)).toBe(true);
    expect(windowNeverOccurs(window({ validFrom: '2029-01-01' }), ...horizon)).toBe(true);
    expect(windowNeverOccurs(window({ every: 'month', ordinal: 'fifth', weekday: 'friday' }), at('2026-02-01T00:00Z'), at('2026-05-01T00:00Z'))).toBe(true);
  });
});

describe('the window schema', () => {
  const issues = (input: Record<string, unknown>) =>
    maintenanceWindowSchema.safeParse({ timeZone: 'UTC', every: 'day', start: '03:00', duration: '1h', ...input }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('normalises a window', () => {
    expect(maintenanceWindowSchema.parse({ timeZone: 'america/new_york', every: 'week', days: ['sun', 'saturday', 'sat'], start: '22:00', duration: '1h30m', admissionCutoff: '15m', excludedDates: ['2026-12-26', '2026-01-03', '2026-12-26'] })).toEqual({
      timeZone: 'America/New_York',
      recurrence: { kind: 'weekly', days: ['saturday', 'sunday'] },
      start: '22:00',
      duration: 5_400_000,
      admissionCutoff: 900_000,
      excludedDates: ['2026-01-03', '2026-12-26'],
    });
    expect(window({ every: 'month', ordinal: 'last', weekday: 'thu', offsetDays: 7 }).recurrence).toEqual({ kind: 'monthly-weekday', ordinal: 'last', weekday: 'thursday', offsetDays: 7 });
    expect(window({ every: 'month', ordinal: 'second', weekday: 'tuesday' }).recurrence).toEqual({ kind: 'monthly-weekday', ordinal: 2, weekday: 'tuesday', offsetDays: 0 });
    expect(window({ timeZone: 'US/Eastern' }).timeZone).toBe('US/Eastern');
  });

  it.each([
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone: "Mars/Olympus_Mons" is not a time zone of the tz database: name one like Europe/Berlin, America/New_York or UTC'],
    [{ timeZone: '+05:30' }, 'timeZone: "+05:30" is not a time zone of the tz database: name one like Europe/Berlin, America/New_York or UTC'],
    [{ start: '24:00' }, 'start: a 24-hour local time like 02:00 or 23:30'],
    [{ start: '3:00' }, 'start: a 24-hour local time like 02:00 or 23:30'],
    [{ duration: '25h' }, 'duration: a window lasts from 1m to 24h (a longer period is consecutive days)'],
    [{ duration: '30s' }, 'duration: a window lasts from 1m to 24h (a longer period is consecutive days)'],
    [{ admissionCutoff: '1h' }, 'admissionCutoff: the admission cutoff must be shorter than the duration, or no host could ever start'],
    [{ every: 'week' }, 'days: every: week needs the days it opens on, e.g. days: [saturday]'],
    [{ days: ['monday'] }, 'days: days does not apply to every: day'],
    [{ every: 'month' }, 'day: every: month needs day (1-31 or last) or ordinal and weekday (e.g. ordinal: second, weekday: tuesday)'],
    [{ every: 'month', day: 3, weekday: 'monday' }, 'day: every: month takes either day (e.g. day: 15) or ordinal and weekday (e.g. second tuesday), not both'],
    [{ every: 'month', weekday: 'monday' }, 'ordinal: weekday needs ordinal: first, second, third, fourth, fifth or last'],
    [{ every: 'month', ordinal: 'last', offsetDays: 2 }, 'weekday: ordinal needs weekday, e.g. weekday: tuesday'],
    [{ every: 'month', day: 32 }, 'day: Too big: expected number to be <=31'],
    [{ every: 'month', ordinal: 'first', weekday: 'monday', offsetDays: 31 }, 'offsetDays: Too big: expected number to be <=30'],
    [{ excludedDates: ['2026-02-30'] }, 'excludedDates.0: not a calendar date'],
    [{ validFrom: '2026-02-01', validUntil: '2026-01-31' }, 'validUntil: validUntil 2026-01-31 is before validFrom 2026-02-01'],
  ])('refuses %j', (input, message) => {
    expect(issues(input)).toContain(message);
  });

  it('accepts the windows of docs/windows.md', () => {
    const documentation = readFileSync(new URL('../../../docs/windows.md', import.meta.url), 'utf8');
    const example = parse(/```yaml\n([\s\S]*?)```/.exec(documentation)![1]!) as { windows: Record<string, unknown> };
    const windows = z.record(z.string(), maintenanceWindowSchema).parse(example.windows);
    expect(Object.keys(windows)).toEqual(['k8s-nightly', 'stateless-sunday', 'patch-saturday', 'month-end']);
    expect(nextOccurrences(windows['patch-saturday']!, at('2026-12-01T00:00Z'), 2).map((occurrence) => occurrence.localStart)).toEqual(['2027-01-16T22:00-05:00', '2027-02-13T22:00-05:00']);
  });

  it('refuses unknown keys', () => {
    expect(issues({ startTime: '03:00' })?.[0]).toMatch(/^: Unrecognized key: "startTime"/);
  });

  it('generates a JSON Schema for editors (the policy file embeds it)', () => {
    const schema = z.toJSONSchema(maintenanceWindowSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(['timeZone', 'every', 'days', 'day', 'ordinal', 'weekday', 'offsetDays', 'start', 'duration', 'admissionCutoff', 'excludedDates', 'validFrom', 'validUntil']);
    expect(schema.required).toEqual(['timeZone', 'every', 'start', 'duration']);
  });

  it.each([
    [{ kind: 'daily' }, 'every day'],
    [{ kind: 'weekly', days: ['saturday', 'sunday'] }, 'every Saturday, Sunday'],
    [{ kind: 'monthly-day', day: 31 }, 'day 31 of the month (skipped in months without it)'],
    [{ kind: 'monthly-day', day: 'last' }, 'last day of the month'],
    [{ kind: 'monthly-weekday', ordinal: 2, weekday: 'tuesday', offsetDays: 4 }, 'second Tuesday of the month + 4 days'],
    [{ kind: 'monthly-weekday', ordinal: 'last', weekday: 'thursday', offsetDays: -1 }, 'last Thursday of the month - 1 day'],
  ] as const)('describes %j', (recurrence, text) => {
    expect(describeRecurrence(recurrence as MaintenanceWindow['recurrence'])).toBe(text);
  });
});
