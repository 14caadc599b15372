// Cross-checks maintenance-window occurrences against an independent implementation: 10,000+
// seeded random windows in four zones, each queried once with occurrencesBetween or
// nextOccurrences, and the same queries answered by test/fixtures/window-oracle.py (dateutil's
// rrule for the local dates, zoneinfo for the instants, in one python3 process). Every field of
// every occurrence must agree; about a third of the windows start near a DST transition on a day
// that has one, so the gap and overlap rules are compared too, not only the quiet days.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { maintenanceWindowSchema, nextOccurrences, occurrencesBetween, WEEKDAYS, type MaintenanceWindow, type MaintenanceWindowInput, type WindowOccurrence } from '../src/domain/policy/maintenance-window.js';
import { repoRoot } from './data-path.js';
import { requireTool } from './required-tools.js';

const RECURRENCES = 10_000;
const SEED = 20261208;
const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata'] as const;
const DAY = 86_400_000;
/** Debian's interpreter: its dist-packages hold python3-dateutil (another python3 on PATH may not). */
const PYTHON = '/usr/bin/python3';
const ORACLE = resolve(repoRoot, 'test/fixtures/window-oracle.py');

type Query = { kind: 'between'; from: number; to: number } | { kind: 'next'; from: number; count: number };
interface Case {
  window: MaintenanceWindow;
  query: Query;
}
/** An occurrence as both sides print it: epoch milliseconds, transition null when none. */
interface Printed {
  localDate: string;
  start: number;
  end: number;
  admissionEnd: number;
  localStart: string;
  localEnd: string;
  transition: 'gap' | 'overlap' | null;
}

/** mulberry32: small, seeded, the same sequence on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Each zone's transitions from 2024 to 2031 (none for Kolkata), to aim windows at. */
function transitions(zone: string): Temporal.Instant[] {
  const found: Temporal.Instant[] = [];
  let cursor: Temporal.ZonedDateTime | null = Temporal.ZonedDateTime.from(`2024-01-01T00:00[${zone}]`);
  while ((cursor = cursor.getTimeZoneTransition('next')) !== null && cursor.year < 2031) found.push(cursor.toInstant());
  return found;
}

function generateCases(count: number, seed: number): Case[] {
  const random = seededRandom(seed);
  const integer = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const zoneTransitions = new Map(ZONES.map((zone) => [zone, transitions(zone)]));
  const localDate = (epoch: number, zone: string) => Temporal.Instant.fromEpochMilliseconds(epoch).toZonedDateTimeISO(zone).toPlainDate();
  const cases: Case[] = [];
  while (cases.length < count) {
    const timeZone = pick(ZONES);
    const nearTransition = zoneTransitions.get(timeZone)!.length > 0 && random() < 0.35 ? pick(zoneTransitions.get(timeZone)!) : undefined;
    const input: Record<string, unknown> = { timeZone, duration: `${random() < 0.7 ? integer(15, 240) : integer(1, 1440)}m` };
    let from: number;
    let span: number;
    if (nearTransition) {
      // A start within an hour either side of the wall clock just before the change, on a
      // recurrence that names the transition day.
      const before = nearTransition.subtract({ minutes: 1 }).toZonedDateTimeISO(timeZone);
      input.start = before.toPlainTime().add({ minutes: integer(-59, 60) }).toString({ smallestUnit: 'minute' });
      const day = WEEKDAYS[before.dayOfWeek - 1]!;
      Object.assign(input, random() < 0.5 ? { every: 'day' } : { every: 'week', days: [...new Set([day, pick(WEEKDAYS)])] });
      from = nearTransition.epochMilliseconds - integer(0, 5 * 24 * 60) * 60_000;
      span = integer(6, 14) * DAY;
    } else {
      input.start = `${String(integer(0, 23)).padStart(2, '0')}:${String(pick([0, 0, 15, 30, 45, integer(0, 59)])).padStart(2, '0')}`;
      const shape = integer(0, 3);
      if (shape === 0) Object.assign(input, { every: 'day' });
      if (shape === 1) Object.assign(input, { every: 'week', days: [...new Set(WEEKDAYS.filter(() => random() < 0.35).concat(pick(WEEKDAYS)))] });
      if (shape === 2) Object.assign(input, { every: 'month', day: random() < 0.15 ? 'last' : random() < 0.4 ? integer(28, 31) : integer(1, 31) });
      if (shape === 3) {
        Object.assign(input, { every: 'month', ordinal: pick(['first', 'second', 'third', 'fourth', 'fifth', 'last']), weekday: pick(WEEKDAYS) });
        if (random() < 0.6) input.offsetDays = random() < 0.5 ? integer(-6, 6) : integer(-30, 30);
      }
      from = Date.UTC(2024, 0, 1) + Math.floor(random() * 7 * 365 * DAY);
      span = (shape < 2 ? integer(1, 21) : integer(20, 400)) * DAY;
    }
    const durationMinutes = Number((input.duration as string).slice(0, -1));
    if (random() < 0.6) input.admissionCutoff = `${integer(0, durationMinutes - 1)}m`;
    const firstDate = localDate(from, timeZone);
    const spanDays = Math.round(span / DAY);
    if (random() < 0.3) input.validFrom = firstDate.add({ days: integer(-10, spanDays) }).toString();
    if (random() < 0.3) input.validUntil = (input.validFrom ? Temporal.PlainDate.from(input.validFrom as string) : firstDate).add({ days: integer(0, spanDays) }).toString();
    const window = maintenanceWindowSchema.parse(input as MaintenanceWindowInput);
    const query: Query = random() < 0.7 ? { kind: 'between', from, to: from + span } : { kind: 'next', from, count: integer(0, 8) };
    // Exclusions: a few random dates in range, and now and then dates the window really opens on.
    const excluded = Array.from({ length: integer(0, 3) }, () => firstDate.add({ days: integer(-2, spanDays) }).toString());
    if (random() < 0.15) for (const occurrence of nextOccurrences(window, new Date(from), 2)) if (random() < 0.5) excluded.push(occurrence.localDate);
    cases.push({ window: { ...window, excludedDates: [...new Set(excluded)].sort() }, query });
  }
  return cases;
}

function answer({ window, query }: Case): WindowOccurrence[] {
  return query.kind === 'between' ? occurrencesBetween(window, new Date(query.from), new Date(query.to)) : nextOccurrences(window, new Date(query.from), query.count);
}

const printed = (occurrence: WindowOccurrence): Printed => ({
  localDate: occurrence.localDate,
  start: occurrence.start.getTime(),
  end: occurrence.end.getTime(),
  admissionEnd: occurrence.admissionEnd.getTime(),
  localStart: occurrence.localStart,
  localEnd: occurrence.localEnd,
  transition: occurrence.transition ?? null,
});

function runOracle(cases: Case[]): Promise<{ dateutil: string; results: Printed[][] }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, [ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(JSON.parse(output)) : reject(new Error(`window-oracle.py exited ${code}: ${errors}`))));
    child.stdin.end(JSON.stringify({ cases }));
  });
}

describe('maintenance windows against dateutil.rrule and zoneinfo', () => {
  it(`agree on ${RECURRENCES} random recurrences in ${ZONES.join(', ')}`, async () => {
    requireTool('python3-dateutil');
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install the Debian package python3-dateutil (it brings python3)`);
    if (!existsSync('/usr/share/zoneinfo/Australia/Lord_Howe')) throw new Error('/usr/share/zoneinfo is missing: install the Debian package tzdata');
    const cases = generateCases(RECURRENCES, SEED);
    // Python answers while this process computes ours, the two on both cores; ours goes in
    // slices so the event loop keeps feeding python's stdin and draining its stdout.
    const oracle = runOracle(cases);
    const ours: Printed[][] = [];
    for (let index = 0; index < cases.length; index++) {
      ours.push(answer(cases[index]!).map(printed));
      if (index % 250 === 0) await new Promise((resume) => setImmediate(resume));
    }
    const { results } = await oracle;
    expect(results).toHaveLength(cases.length);
    const disagreements = cases.flatMap((entry, index) => (JSON.stringify(ours[index]) === JSON.stringify(results[index]) ? [] : [{ ...entry, ours: ours[index], python: results[index] }]));
    expect(disagreements.slice(0, 3)).toEqual([]);
    // The comparison covered what it claims to: plenty of occurrences, of every kind, on DST days too.
    const all = ours.flat();
    const kinds = new Set(cases.map((entry) => entry.window.recurrence.kind));
    expect([...kinds].sort()).toEqual(['daily', 'monthly-day', 'monthly-weekday', 'weekly']);
    expect(all.length).toBeGreaterThan(30_000);
    expect(all.filter((occurrence) => occurrence.transition === 'gap').length).toBeGreaterThan(250);
    expect(all.filter((occurrence) => occurrence.transition === 'overlap').length).toBeGreaterThan(250);
    for (const zone of ZONES) {
      expect(cases.filter((entry) => entry.window.timeZone === zone).length).toBeGreaterThan(RECURRENCES / 5);
      const transitionsSeen = new Set(cases.flatMap((entry, index) => (entry.window.timeZone === zone ? ours[index]!.map((occurrence) => occurrence.transition ?? 'none') : [])));
      expect([...transitionsSeen].sort()).toEqual(zone === 'Asia/Kolkata' ? ['none'] : ['gap', 'none', 'overlap']);
    }
  }, 60_000);
});
