// $host and $bucket are replaced whole-word, escaped for where they go, and refused where they have no value.
import { describe, expect, it } from 'vitest';
import { escapePromqlString, placeholdersIn, substitutePlaceholders } from './gate-placeholders.js';

describe('gate placeholders', () => {
  it('replaces $host and $bucket, not names that merely start with them', () => {
    expect(substitutePlaceholders('up{host="$host", b="$bucket", o="$hostname"}', { host: 'db-1', bucket: 'databases' }, escapePromqlString)).toBe('up{host="db-1", b="databases", o="$hostname"}');
    expect([...placeholdersIn('$bucket $hostname')]).toEqual(['bucket']);
  });

  it('escapes values for PromQL string literals in either quote', () => {
    expect(escapePromqlString('a"b\'c\\d\ne')).toBe('a\\"b\\\'c\\\\d\\ne');
  });

  it('refuses $host where no host is measured', () => {
    expect(() => substitutePlaceholders('up{host="$host"}', { bucket: 'databases' }, escapePromqlString)).toThrow(/\$host has no value here/);
  });
});
