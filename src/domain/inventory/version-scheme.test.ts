// Which comparator orders each OSV ecosystem's versions.
import { describe, expect, it } from 'vitest';
import { versionSchemeFor } from './version-scheme.js';

describe('versionSchemeFor', () => {
  it.each([
    ['Debian:12', 'dpkg'],
    ['Ubuntu:22.04:LTS', 'dpkg'],
    ['Ubuntu:Pro:18.04:LTS', 'dpkg'],
    ['AlmaLinux:9', 'rpm'],
    ['Rocky Linux:9', 'rpm'],
    ['Red Hat:enterprise_linux:9::baseos', 'rpm'],
    ['openSUSE:Leap 15.5', 'rpm'],
    ['SUSE:Linux Enterprise Server 15 SP5', 'rpm'],
    ['Alpine:v3.18', 'apk'],
    ['npm', 'semver'],
    ['Go', 'semver'],
    ['crates.io', 'semver'],
    ['PyPI', 'pypi'],
    ['Maven', undefined],
    ['RubyGems', undefined],
    ['NuGet', undefined],
    ['Packagist', undefined],
    ['Debianish:12', undefined],
  ])('%s → %s', (ecosystem, scheme) => {
    expect(versionSchemeFor(ecosystem)).toBe(scheme);
  });
});
