// Terminal tables show what hosts and files put in them without obeying it: control characters
// escaped, long cells cut with an ellipsis, every row on one line and aligned; --json stays exact.
import { describe, expect, it } from 'vitest';
import type { HostListing } from '../store/finding-queries.js';
import { formatHosts } from './commands/hosts.js';
import { createProgress } from './progress.js';
import { DEFAULT_MAX_WIDTH, displayCell, renderTable } from './table.js';

const host = (name: string, extra: Partial<HostListing> = {}): HostListing => ({ name, rebootRequired: false, packages: 3, openFindings: 1, labels: {}, ...extra });

describe('displayCell', () => {
  it('escapes C0, DEL and C1 controls, line breaks and bidirectional overrides', () => {
    expect(displayCell('\x1b[31mred\x1b[0m', 80).text).toBe('\\x1b[31mred\\x1b[0m');
    expect(displayCell('a\nb\r\nc\td', 80).text).toBe('a\\nb\\r\\nc\\td');
    expect(displayCell('\x00\x07\x7f\x9b', 80).text).toBe('\\x00\\x07\\x7f\\x9b');
    expect(displayCell('evil\u202etxt.exe\u2028x', 80).text).toBe('evil\\u{202e}txt.exe\\u{2028}x');
  });

  it('keeps printable text as it is, backslashes and non-ASCII included', () => {
    expect(displayCell('db-7.example.com', 80)).toEqual({ text: 'db-7.example.com', width: 16 });
    expect(displayCell('C:\\temp', 80).text).toBe('C:\\temp');
    expect(displayCell('café-ünïcode', 80)).toEqual({ text: 'café-ünïcode', width: 12 });
  });

  it('cuts long cells with an ellipsis, never inside an escape or a character', () => {
    expect(displayCell('x'.repeat(2000), 10)).toEqual({ text: `${'x'.repeat(9)}…`, width: 10 });
    expect(displayCell('ab\x1bcdef', 5)).toEqual({ text: 'ab…', width: 3 });
    expect(displayCell('ab\x1bcdef', 7)).toEqual({ text: 'ab\\x1b…', width: 7 });
    expect(displayCell('😀😀😀😀', 3).text).toBe('😀😀…');
  });
});

describe('renderTable', () => {
  it('keeps every row on one line, aligned, and no column wider than the default cap', () => {
    const rows = [{ name: 'a\nb' }, { name: 'x'.repeat(2000) }, { name: '\x1b[2J\x1b[H' }];
    const lines = renderTable(rows, [{ header: 'NAME', value: (row) => row.name }, { header: 'N', value: () => '1' }]).split('\n');
    expect(lines).toHaveLength(rows.length + 2);
    expect(lines.at(-1)).toBe('');
    for (const line of lines) expect(line).not.toMatch(/[\x00-\x1f\x7f]/u);
    const widths = new Set(lines.slice(0, -1).map((line) => [...line].length));
    expect(widths).toEqual(new Set([DEFAULT_MAX_WIDTH + 3]));
  });
});

describe('fleetpatch hosts table', () => {
  it('shows hostile host names escaped and cut', () => {
    const table = formatHosts([host('\x1b[31m'), host('a\nb', { runningKernel: '6.1\x1b]0;title\x07' }), host('x'.repeat(2000)), host('web-1')]);
    expect(table).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/u);
    const lines = table.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^\\x1b\[31m /);
    expect(lines[2]).toMatch(/^a\\nb +- +6\.1\\x1b\]0;title\\x07 /);
    expect(lines[3]).toMatch(new RegExp(`^${'x'.repeat(DEFAULT_MAX_WIDTH - 1)}… `));
    expect(lines[4]).toMatch(/^web-1 /);
    expect(Math.max(...lines.map((line) => [...line].length))).toBeLessThan(DEFAULT_MAX_WIDTH + 100);
  });
});

describe('progress on standard error', () => {
  it('escapes control characters in messages taken from files', () => {
    let written = '';
    const stream = { isTTY: false, write: (text: string) => ((written += text), true) } as unknown as NodeJS.WriteStream;
    createProgress(true, stream).note('warning: package \x1b[31mevil\x1b[0m skipped');
    expect(written).toBe('warning: package \\x1b[31mevil\\x1b[0m skipped\n');
  });
});
