// The documented choices of the comparators where the vectors say nothing: dpkg's blank, warned and
// rejected strings; rpm's missing release and unknown epoch (grype's `auto` rule on real AlmaLinux
// fixed versions); the registry of schemes.
import { describe, expect, it } from 'vitest';
import { almaLinuxFixedVersions } from '../../../test/versions-pairs.js';
import { InputError } from '../errors.js';
import { compareDpkg, dpkgComparator, parseDpkgVersion } from './dpkg.js';
import { ALL_SCHEMES, comparatorFor } from './index.js';
import { compareEvr, compareRpmWithUnknownEpoch, parseEvr } from './rpm.js';

describe('dpkg decisions', () => {
  it('throws InputError for what dpkg --compare-versions rejects', () => {
    for (const rejected of ['a:1.0', ':1.0', '1:', '1.0-', '-1', '1 0', '-1:1.0', '99999999999:1']) {
      expect(() => compareDpkg(rejected, '1.0'), rejected).toThrow(InputError);
      expect(dpkgComparator.isValid(rejected), rejected).toBe(false);
    }
  });

  it('compares what dpkg only warns about, but does not call it valid', () => {
    for (const warned of ['a1.0', '1.0!', '1.0-1@', '1.0é']) {
      expect(() => compareDpkg(warned, '1.0'), warned).not.toThrow();
      expect(dpkgComparator.isValid(warned), warned).toBe(false);
    }
    expect(compareDpkg('1.0é', '1.0+')).toBe(-1); // non-ASCII bytes order after letters, before ASCII punctuation
    expect(compareDpkg('1.0é', '1.0z')).toBe(1);
  });

  it('reads the empty version as dpkg blank version, earlier than any other', () => {
    expect(compareDpkg('', '~')).toBe(-1);
    expect(compareDpkg('0', '')).toBe(1);
    expect(compareDpkg('', '')).toBe(0);
  });

  it('trims spaces and tabs, reads epochs like strtol, and splits at the last hyphen', () => {
    expect(parseDpkgVersion(' \t+1:2.30-1-1+deb12u1 ')).toEqual({ epoch: 1, upstream: '2.30-1', revision: '1+deb12u1' });
    expect(compareDpkg('-0:1.0', '1.0')).toBe(0);
  });
});

describe('rpm decisions', () => {
  it('sorts a missing release before any release, even an empty one, and rejects the empty string', () => {
    expect(compareEvr('1.0', '1.0-')).toBe(-1);
    expect(compareEvr('1.0', '1.0-0')).toBe(-1);
    expect(() => compareEvr('', '1.0')).toThrow(InputError);
    expect(parseEvr(':1.0-2')).toEqual({ epoch: '0', version: '1.0', release: '2' });
  });

  it('borrows the other epoch when the installed epoch is unknown (grype auto), on real AlmaLinux fixes', () => {
    const withEpoch = almaLinuxFixedVersions().filter((version) => /^[1-9]\d*:/.test(version));
    expect(withEpoch.length).toBeGreaterThan(1000);
    // Installed exactly at the fix, but `rpm -qa` dropped the epoch.
    const bare = (version: string) => version.slice(version.indexOf(':') + 1);
    expect(withEpoch.filter((fixed) => compareRpmWithUnknownEpoch(bare(fixed), fixed) !== 0)).toEqual([]);
    // Assuming epoch 0 instead would call every one of them older than its own fix.
    expect(withEpoch.filter((fixed) => compareEvr(bare(fixed), fixed) !== -1)).toEqual([]);
    // An epoch written on the installed side is not trusted either.
    expect(compareRpmWithUnknownEpoch('9:1.0-1', '1:1.0-2')).toBe(-1);
  });
});

describe('comparator registry', () => {
  it('has one comparator per scheme, each declaring its scheme', () => {
    expect(ALL_SCHEMES).toEqual(['dpkg', 'rpm', 'apk', 'semver', 'pypi']);
    for (const scheme of ALL_SCHEMES) expect(comparatorFor(scheme).scheme).toBe(scheme);
  });
});
