// --distro flags: name:version, code names, OSV ecosystem spellings, and the error for anything else.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseDistroFlag } from './distro-flag.js';
import { osvEcosystemFor } from './os-ecosystem.js';

describe('parseDistroFlag', () => {
  it.each([
    ['debian:12', 'Debian:12'],
    ['debian:bookworm', 'Debian:12'],
    ['bookworm', 'Debian:12'],
    ['ubuntu:22.04', 'Ubuntu:22.04:LTS'],
    ['ubuntu:jammy', 'Ubuntu:22.04:LTS'],
    ['Ubuntu:22.04:LTS', 'Ubuntu:22.04:LTS'],
    ['alpine:3.18', 'Alpine:v3.18'],
    ['Alpine:v3.18', 'Alpine:v3.18'],
    ['almalinux:9', 'AlmaLinux:9'],
    ['AlmaLinux:9', 'AlmaLinux:9'],
    ['rocky:9', 'Rocky Linux:9'],
    ['Rocky Linux:9', 'Rocky Linux:9'],
    ['rhel:9', 'Red Hat:enterprise_linux:9'],
    ['opensuse-leap:15.5', 'openSUSE:Leap 15.5'],
    ['sles:15.5', 'SUSE:Linux Enterprise Server 15 SP5'],
  ])('%s → %s', (flag, ecosystem) => {
    expect(osvEcosystemFor(parseDistroFlag(flag))).toBe(ecosystem);
  });

  it('keeps the code name it was given', () => {
    expect(parseDistroFlag('debian:bookworm')).toEqual({ id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm' });
  });

  it.each(['debian', 'debian:', 'ubuntu:bookworm', 'debian:12:extra', '12'])('rejects %s naming the flag, with a hint', (flag) => {
    let error: unknown;
    try {
      parseDistroFlag(flag);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ field: '--distro' });
    expect((error as InputError).hint).toContain('debian:12');
  });
});
