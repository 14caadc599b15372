// versionProblem: the table of strings dpkg and rpmbuild refuse (cross-checked by hand against
// dpkg 1.21 `--compare-versions` and rpm 4.18 `rpmspec -q`), fleetpatch's own stricter rpm rule,
// and the real versions of the shared data, every one of which must pass.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { almaLinuxFixedVersions, dpkgStatusVersions } from '../../../test/versions-pairs.js';
import { ALL_SCHEMES, versionProblem } from './index.js';

describe('versionProblem: dpkg (parseversion errors)', () => {
  it.each([
    ['', 'version string is empty'],
    [':', 'epoch in version is empty'],
    ['x:1.0-1', 'epoch in version is empty'],
    ['1:', 'nothing after colon in version number'],
    ['1:-1', 'version number is empty'],
    ['1.0-', 'revision number is empty'],
    ['1 0', 'version string has embedded spaces'],
    ['-1:1', 'epoch in version is negative'],
    ['2147483648:1', 'epoch in version is too big'],
    [`${'9'.repeat(256)}:1`, 'epoch in version is too big'],
  ])('%j: %s', (version, reason) => {
    expect(versionProblem('dpkg', version)).toBe(`invalid dpkg version ${JSON.stringify(version.length > 80 ? `${version.slice(0, 80)}…` : version)}: ${reason}`);
  });

  it('lets through what dpkg only warns about, as dpkg installs it', () => {
    for (const version of ['~', 'a1.0', '1.0!', '0:1', '+1:1', '2147483647:1', '1:2:3', '1.0-1-1']) expect(versionProblem('dpkg', version), version).toBeUndefined();
  });
});

describe('versionProblem: rpm (rpmbuild rules)', () => {
  it.each([
    ['', /version is empty/],
    [':', /epoch before ":" is empty/],
    [':1.0-1', /epoch before ":" is empty/],
    ['1:', /version after the epoch is empty/],
    ['x:1.0-1', /epoch "x" is not an unsigned number/],
    ['4294967296:1.0-1', /larger than 4294967295/],
    [`${'1'.repeat(256)}:1.0-1`, /\(256 digits\) is larger/],
    ['1.0-', /release is empty/],
    ['-1', /version is empty/],
    ['1:2:3-1', /holds ":"/],
    ['1.0 -1', /holds " "/],
    ['1.0-1.el9\u00e9', /release holds "é"/],
    ['a..b-1', /holds "\.\."/],
    ['1@-1', /holds "@"/],
    // fleetpatch's rule beyond rpmbuild: nothing for rpmvercmp to compare.
    ['~', /version "~" holds no letter or digit/],
    ['_-1', /holds no letter or digit/],
    ['1.0-~', /release "~" holds no letter or digit/],
  ])('%j', (version, reason) => {
    expect(versionProblem('rpm', version)).toMatch(reason);
  });

  it('accepts epochs, tildes, carets and real release tags', () => {
    for (const version of ['1.0', '1.0-1', '0:1.0-1', '4294967295:1.0-1', '0012:1.0-1', '1.0~rc1-1.el9', '1.0^git1-2', '2.28-225.el9_2.alma.1', 'a+b-1']) {
      expect(versionProblem('rpm', version), version).toBeUndefined();
    }
  });
});

describe('versionProblem: the other schemes follow their grammars', () => {
  it.each([
    ['apk', '1.2.3_rc1-r0', '5.7.1p1-r0'],
    ['semver', '1.2.3-beta.1', '1.2'],
    ['pypi', '1.0.post1', 'not a version'],
  ] as const)('%s', (scheme, valid, invalid) => {
    expect(versionProblem(scheme, valid)).toBeUndefined();
    expect(versionProblem(scheme, invalid)).toMatch(new RegExp(`invalid ${scheme} version .*grammar`));
  });

  it('covers every scheme and never throws', () => {
    for (const scheme of ALL_SCHEMES) for (const version of ['', '\u0000', '1', ':', '-', '~']) expect(() => versionProblem(scheme, version)).not.toThrow();
  });
});

describe('versionProblem on the real data', () => {
  it('accepts every real dpkg and rpm version (status files, rpm -qa, AlmaLinux fixed versions)', () => {
    const rpmQa = readFileSync(sharedData('inventories/almalinux-9.2-rpm-qa.txt'), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && line !== 'gpg-pubkey')
      .map((line) => line.replace(/\.[^.]+$/, '').split('-').slice(-2).join('-'));
    const rejected = [
      ...dpkgStatusVersions().filter((version) => versionProblem('dpkg', version) !== undefined),
      ...[...almaLinuxFixedVersions(), ...rpmQa].filter((version) => versionProblem('rpm', version) !== undefined),
    ];
    expect(rejected).toEqual([]);
  });
});
