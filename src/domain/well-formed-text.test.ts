import { describe, expect, it } from 'vitest';
import { BAD_CHARACTERS } from '../../test/fuzz/bad-text.js';
import { dateTimeProblem, findTextProblem, instantProblem, printableText, isoDateTime, textProblem, wellFormedString } from './well-formed-text.js';


describe('textProblem', () => {
  it.each(BAD_CHARACTERS)('refuses $name in single-line text, anywhere in the string', ({ text }) => {
    for (const value of [text, `a${text}`, `${text}b`, `a${text}b`]) expect(textProblem(value)).toMatch(/contains/);
  });

  it.each(BAD_CHARACTERS)('multiline text: $name', ({ text, multilineAllows }) => {
    expect(textProblem(`x${text}y`, true) === undefined).toBe(multilineAllows);
  });

  it('accepts ordinary Unicode, including astral characters written as surrogate pairs', () => {
    for (const value of ['', 'openssl-libs', 'Ünïcödé', '日本語', '😀 emoji', 'a\u00A0b', '\uD83D\uDE00']) expect(textProblem(value)).toBeUndefined();
  });

  it('names the character and its position', () => {
    expect(textProblem('ab\u0000')).toBe('contains a NUL character (U+0000) at position 2');
    expect(textProblem('x\uD800')).toBe('contains a lone UTF-16 surrogate (U+D800), not valid Unicode at position 1');
    expect(findTextProblem('ok\n\u001b', true)).toEqual({ index: 3, problem: 'contains a control character (U+001B)' });
    expect(findTextProblem('\uD800\u0000')).toEqual({ index: 0, problem: expect.stringMatching(/surrogate/) });
  });
});

describe('printableText', () => {
  it.each(BAD_CHARACTERS)('escapes $name so the result is one line of well-formed text', ({ text }) => {
    const printable = printableText(`a${text}b`);
    expect(textProblem(printable)).toBeUndefined();
    expect(printable).toMatch(/\\u[0-9a-f]{4}/);
  });

  it('leaves ordinary text and surrogate pairs alone', () => {
    expect(printableText('Ünï 😀 x')).toBe('Ünï 😀 x');
  });
});

describe('wellFormedString', () => {
  it('applies the text rule and the length bounds, and keeps chaining', () => {
    const schema = wellFormedString({ min: 1, max: 5 });
    expect(schema.safeParse('abc').success).toBe(true);
    expect(schema.safeParse('').success).toBe(false);
    expect(schema.safeParse('abcdef').success).toBe(false);
    expect(schema.safeParse('a\u0000').error?.issues[0]?.message).toMatch(/NUL/);
    expect(wellFormedString().regex(/^[a-z]+$/).safeParse('A').success).toBe(false);
    expect(wellFormedString({ multiline: true }).safeParse('a\nb').success).toBe(true);
    expect(wellFormedString().safeParse('a\nb').success).toBe(false);
  });
});

describe('isoDateTime', () => {
  it.each(['2024-05-01T12:00:00Z', '2024-05-01t12:00:00z', '2024-02-29T00:00:00.123456789+14:00', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2000-01-01T00:00:00-05:30'])(
    'accepts %s',
    (value) => {
      expect(isoDateTime.safeParse(value).success).toBe(true);
      expect(Number.isNaN(new Date(value).getTime())).toBe(false);
    },
  );

  it.each([
    ['0000-01-01T00:00:00Z', /year 0/],
    ['0001-01-01T00:00:00+01:00', /before 0001-01-01/],
    ['9999-12-31T23:59:59-01:00', /after 9999-12-31/],
    ['2023-02-29T00:00:00Z', /day 29 does not exist/],
    ['2024-13-01T00:00:00Z', /month 13/],
    ['2024-01-01T24:00:00Z', /not a time of day/],
    ['2024-01-01T23:59:60Z', /not a time of day/],
    ['2024-01-01T00:00:00+24:00', /not an offset/],
    ['2024-01-01T00:00:00', /not an RFC 3339 timestamp/],
    ['2024-01-01', /not an RFC 3339 timestamp/],
    ['+002024-01-01T00:00:00Z', /not an RFC 3339 timestamp/],
    ['2024-01-01T00:00:00Z\u0000', /not an RFC 3339 timestamp/],
  ])('refuses %s', (value, reason) => {
    expect(dateTimeProblem(value)).toMatch(reason);
    expect(isoDateTime.safeParse(value).success).toBe(false);
  });

  it('bounds already-parsed instants the same way', () => {
    expect(instantProblem(new Date('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(instantProblem(new Date(Number.NaN))).toBe('not a valid date');
    expect(instantProblem(new Date(Date.parse('0001-01-01T00:00:00Z') - 1))).toMatch(/before/);
  });
});
