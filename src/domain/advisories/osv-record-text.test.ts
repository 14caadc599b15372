// The well-formed-text rule on OSV records, as a class: every string field of the schema (and the
// keys and strings of the free-form *_specific objects) gets every kind of bad character, and every
// timestamp every kind of bad date; each must come back as an InputError naming file and JSON path.
import { describe, expect, it } from 'vitest';
import { ALWAYS_BAD, BAD_CHARACTERS, BAD_DATES } from '../../../test/fuzz/bad-text.js';
import { InputError } from '../errors.js';
import { readOsvRecord } from './osv-record.js';

const fullRecord = () => ({
  schema_version: '1.6.0',
  id: 'ALSA-2026:0001',
  modified: '2026-01-05T10:00:00Z',
  published: '2026-01-04T00:00:00Z',
  withdrawn: '2026-02-04T00:00:00Z',
  aliases: ['CVE-2026-1001'],
  related: ['CVE-2026-1002'],
  summary: 'Important: openssl security update',
  details: 'An update for openssl is now available.',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'AlmaLinux:9', name: 'openssl', purl: 'pkg:rpm/almalinux/openssl' },
      severity: [{ type: 'Ubuntu', score: 'high' }],
      ranges: [
        { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:3.0.7-16.el9_2' }], database_specific: { source: 'errata' } },
        { type: 'GIT', repo: 'https://github.com/openssl/openssl', events: [{ introduced: '0' }, { last_affected: 'abc123' }] },
      ],
      versions: ['3.0.7-6.el9_2'],
      ecosystem_specific: { severity: 'high', nested: { list: ['x'] } },
      database_specific: { note: 'n' },
    },
  ],
  references: [{ type: 'ADVISORY', url: 'https://errata.almalinux.org/9/ALSA-2026-0001.html' }],
  database_specific: { extra: 'e' },
});

type Path = ReadonlyArray<string | number>;

/** Every string of the record, with whether it is free text (summary, details, *_specific values). */
const STRING_FIELDS: ReadonlyArray<{ path: Path; multiline: boolean }> = [
  { path: ['schema_version'], multiline: false },
  { path: ['id'], multiline: false },
  { path: ['aliases', 0], multiline: false },
  { path: ['related', 0], multiline: false },
  { path: ['summary'], multiline: true },
  { path: ['details'], multiline: true },
  { path: ['severity', 0, 'type'], multiline: false },
  { path: ['severity', 0, 'score'], multiline: false },
  { path: ['affected', 0, 'package', 'ecosystem'], multiline: false },
  { path: ['affected', 0, 'package', 'name'], multiline: false },
  { path: ['affected', 0, 'package', 'purl'], multiline: false },
  { path: ['affected', 0, 'severity', 0, 'type'], multiline: false },
  { path: ['affected', 0, 'severity', 0, 'score'], multiline: false },
  { path: ['affected', 0, 'ranges', 0, 'events', 0, 'introduced'], multiline: false },
  { path: ['affected', 0, 'ranges', 0, 'events', 1, 'fixed'], multiline: false },
  { path: ['affected', 0, 'ranges', 0, 'database_specific', 'source'], multiline: true },
  { path: ['affected', 0, 'ranges', 1, 'repo'], multiline: false },
  { path: ['affected', 0, 'ranges', 1, 'events', 1, 'last_affected'], multiline: false },
  { path: ['affected', 0, 'versions', 0], multiline: false },
  { path: ['affected', 0, 'ecosystem_specific', 'severity'], multiline: true },
  { path: ['affected', 0, 'ecosystem_specific', 'nested', 'list', 0], multiline: true },
  { path: ['affected', 0, 'database_specific', 'note'], multiline: true },
  { path: ['references', 0, 'type'], multiline: false },
  { path: ['references', 0, 'url'], multiline: false },
  { path: ['database_specific', 'extra'], multiline: true },
];

function jsonPathOf(path: Path): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

function withValue(path: Path, change: (old: unknown) => unknown): unknown {
  const record = fullRecord() as Record<string | number, unknown>;
  let parent = record;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  parent[last] = change(parent[last]);
  return record;
}

function problemsOf(raw: unknown): Array<{ field: string | undefined; message: string }> {
  const reading = readOsvRecord(raw, { file: 'bad.json' });
  if (!('errors' in reading)) return [];
  return reading.errors.map((error) => {
    expect(error).toBeInstanceOf(InputError);
    expect(error.location.file).toBe('bad.json');
    return { field: error.location.field, message: error.message };
  });
}

describe('OSV records: the well-formed-text rule on every string', () => {
  it('reads the full record cleanly, as the baseline', () => {
    expect(problemsOf(fullRecord())).toEqual([]);
  });

  const cases = STRING_FIELDS.flatMap((field) => BAD_CHARACTERS.map((character) => ({ ...field, character, field: jsonPathOf(field.path) })));
  it.each(cases)('$field with $character.name', ({ path, multiline, character, field }) => {
    const raw = withValue(path, (old) => `${String(old).slice(0, 2)}${character.text}${String(old).slice(2)}`);
    const problems = problemsOf(raw);
    if (multiline && character.multilineAllows) expect(problems).toEqual([]);
    else expect(problems).toEqual([{ field, message: expect.stringMatching(/contains (a NUL character|a control character|a lone UTF-16 surrogate)/) }]);
  });

  it.each(ALWAYS_BAD)('a key of a *_specific object with $name', ({ text }) => {
    const raw = withValue(['affected', 0, 'database_specific'], () => ({ [`k${text}`]: 'v' }));
    expect(problemsOf(raw)).toEqual([{ field: expect.stringMatching(/^affected\[0\]\.database_specific\.k\\u[0-9a-f]{4}/), message: expect.stringMatching(/key contains/) }]);
  });

  it('shows a bad id escaped in the message, never raw', () => {
    const [problem] = problemsOf({ ...fullRecord(), id: 'BAD-\u0000' });
    expect(problem?.message).toContain('(\"BAD-\\u0000\")');
    expect(problem?.message).not.toContain('\u0000');
  });

  it('walks deeply nested *_specific values without recursion', () => {
    let nested: unknown = 'bad\u0000';
    for (let depth = 0; depth < 100_000; depth++) nested = [nested];
    const problems = problemsOf({ ...fullRecord(), database_specific: { deep: nested } });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/NUL/);
  });
});

describe('OSV records: timestamps PostgreSQL can store', () => {
  const cases = ['modified', 'published', 'withdrawn'].flatMap((field) => BAD_DATES.map((date) => ({ field, date })));
  it.each(cases)('$field = $date', ({ field, date }) => {
    expect(problemsOf({ ...fullRecord(), [field]: date })).toEqual([{ field, message: expect.stringMatching(/year|before|after|does not exist|not a time|RFC 3339/) }]);
  });

  it('bounds YAML-decoded dates the same way', () => {
    const yearZero = new Date('2000-01-01T00:00:00Z');
    yearZero.setUTCFullYear(0);
    expect(problemsOf({ ...fullRecord(), modified: yearZero })).toEqual([{ field: 'modified', message: expect.stringMatching(/before 0001-01-01/) }]);
    expect(problemsOf({ ...fullRecord(), modified: new Date('2026-01-01T00:00:00Z') })).toEqual([]);
  });
});
