/**
 * One rule for every string fleetpatch accepts from outside (files, feeds, API bodies): it must be
 * text PostgreSQL can store and a terminal can show. That means no NUL (PostgreSQL text and jsonb
 * refuse U+0000), no lone UTF-16 surrogate (not Unicode; jsonb refuses `\ud800`), and no control
 * characters (they rewrite terminals and logs), except tab, newline and carriage return in free
 * text such as an advisory's details. Dates get the same treatment: an ISO 8601 date-time whose
 * year PostgreSQL's `timestamptz` can hold, so a year 0 is bad input, not a database error.
 *
 * @example z.object({ name: wellFormedString({ min: 1, max: 200 }), notes: wellFormedString({ multiline: true }) })
 * @example z.object({ bootTime: isoDateTime.optional() })
 */
import { z } from 'zod';

// Lone surrogates: a high one not followed by a low one, or a low one not preceded by a high one.
// (String.prototype.isWellFormed exists on Node 20, but the ES2022 lib this project compiles
// against does not declare it; one regex also finds the offending position for the message.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 controls, DEL and C1 controls; the multiline variant lets tab, newline and carriage return through.
const CONTROL_SINGLE_LINE = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Why `value` is not acceptable text, or `undefined` when it is. `multiline` allows tab, newline
 * and carriage return (free text); without it every control character is refused (names, ids).
 *
 * @example textProblem('a\u0000b') // 'contains a NUL character (U+0000) at position 1'
 * @example textProblem('line one\nline two', true) // undefined
 */
export function textProblem(value: string, multiline = false): string | undefined {
  const found = findTextProblem(value, multiline);
  return found === undefined ? undefined : `${found.problem} at position ${found.index}`;
}

/**
 * The first offending character of `value` (its UTF-16 index, for reporting a line) and what is
 * wrong with it, or `undefined`; `textProblem` in a form a caller can locate.
 *
 * @example findTextProblem('ok\n\u001b', true) // { index: 3, problem: 'contains a control character (U+001B)' }
 */
export function findTextProblem(value: string, multiline = false): { index: number; problem: string } | undefined {
  const control = (multiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE).exec(value);
  const surrogate = LONE_SURROGATE.exec(value);
  if (control !== null && (surrogate === null || control.index < surrogate.index)) {
    const code = control[0].charCodeAt(0);
    const what = code === 0 ? 'a NUL character' : 'a control character';
    return { index: control.index, problem: `contains ${what} (U+${code.toString(16).toUpperCase().padStart(4, '0')})` };
  }
  if (surrogate !== null) {
    return { index: surrogate.index, problem: `contains a lone UTF-16 surrogate (U+${surrogate[0].charCodeAt(0).toString(16).toUpperCase()}), not valid Unicode` };
  }
  return undefined;
}

/**
 * `value` with every character `textProblem` refuses in one line written as a `\uXXXX` escape:
 * for quoting untrusted text (a parser's message, a bad value) in an error message or a log line.
 *
 * @example printableText('a\u0000b\n') // 'a\\u0000b\\u000a'
 */
export function printableText(value: string): string {
  return value.replace(UNPRINTABLE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const UNPRINTABLE = new RegExp(`${CONTROL_SINGLE_LINE.source}|${LONE_SURROGATE.source}`, 'g');

/**
 * A zod string that passes `textProblem`, with optional length bounds (in UTF-16 code units, as
 * zod counts). It stays a `ZodString`, so `.regex()`, `.optional()` and the like still chain.
 *
 * @example wellFormedString({ min: 1, max: 255 }).parse('openssl') // 'openssl'
 */
export function wellFormedString(options: { min?: number; max?: number; multiline?: boolean } = {}) {
  let schema = z.string();
  if (options.min !== undefined) schema = schema.min(options.min);
  if (options.max !== undefined) schema = schema.max(options.max);
  const refined = schema.superRefine((value, context) => {
    const problem = textProblem(value, options.multiline ?? false);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });
  // Said in the JSON Schema too, so clients (and the API's boundary tests) know tabs and newlines are text here.
  return options.multiline ? refined.meta({ 'x-multiline': true }) : refined;
}

// RFC 3339 / ISO 8601 extended form with an explicit offset; `t` and `z` in lower case are RFC 3339 too.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Why `value` is not an ISO 8601 date-time with offset in years 1..9999, or `undefined`. The
 * calendar is checked (no 30 February), and so is the instant in UTC, because an offset can move
 * 0001-01-01T00:00:00+01:00 into year 0, which PostgreSQL refuses.
 *
 * @example dateTimeProblem('2024-05-01T12:00:00Z') // undefined
 * @example dateTimeProblem('0000-01-01T00:00:00Z') // 'year 0 is outside 1..9999'
 */
export function dateTimeProblem(value: string): string | undefined {
  const match = DATE_TIME.exec(value);
  if (match === null) return `not an RFC 3339 timestamp: ${JSON.stringify(value.slice(0, 80))} (ISO 8601 with an offset, like 2024-05-01T12:00:00Z)`;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1) return `year ${year} is outside 1..9999`;
  if (month < 1 || month > 12) return `month ${month} is outside 1..12`;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
  if (day < 1 || day > daysInMonth) return `day ${day} does not exist in ${year}-${String(month).padStart(2, '0')}`;
  if (hour > 23 || minute > 59 || second > 59) return `time ${match[4]}:${match[5]}:${match[6]} is not a time of day`;
  if (match[8] !== undefined && (Number(match[9]) > 23 || Number(match[10]) > 59)) return `offset ${match[8]}${match[9]}:${match[10]} is not an offset`;
  return instantProblem(new Date(value));
}

/**
 * Why a parsed instant is outside 0001-01-01 .. 9999-12-31 UTC (or invalid), or `undefined`. For
 * dates that arrive already parsed, such as YAML timestamps.
 */
export function instantProblem(date: Date): string | undefined {
  const time = date.getTime();
  if (Number.isNaN(time)) return 'not a valid date';
  if (time < FIRST_INSTANT || time > LAST_INSTANT) return `${time < FIRST_INSTANT ? 'before 0001-01-01' : 'after 9999-12-31'} in UTC; years 1..9999 only`;
  return undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * An ISO 8601 date-time string with offset (`Z` or `±hh:mm`), years 1..9999, a real calendar day.
 * The output is the string itself; `new Date(value)` is always valid for it.
 *
 * @example isoDateTime.parse('2024-05-01T12:00:00+02:00') // '2024-05-01T12:00:00+02:00'
 */
export const isoDateTime = z.string().superRefine((value, context) => {
  const problem = dateTimeProblem(value);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});
