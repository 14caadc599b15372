// Package managers' dry runs: apt-get --simulate, dnf check-update (with wrapped lines), apk version.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseApkVersion, parseAptSimulation, parseDnfCheckUpdate } from './available-updates.js';

// Taken from `apt-get --simulate -qq dist-upgrade` on a Debian 12 host.
const APT = `NOTE: This is only a simulation!
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libgcrypt20-dev [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
Inst login [1:4.13+dfsg1-1+deb12u1] (1:4.13+dfsg1-1+deb12u2 Debian:12.15/oldstable [amd64])
Inst libc6:i386 [2.36-9+deb12u9] (2.36-9+deb12u13 Debian:12.15/oldstable [i386])
Inst linux-image-6.1.0-41-amd64 (6.1.158-1 Debian-Security:12/oldstable-security [amd64])
Remv linux-image-6.1.0-30-amd64 [6.1.124-1]
Inst libuuid1 [2.38.1-5+deb12u4] (2.38.1-5+deb12u4 localhost [amd64])
Inst openssl [3.0.17-1~deb12u2] (3.0.15-1~deb12u1 Debian:12.15/oldstable [amd64])
`;

describe('parseAptSimulation', () => {
  it('lists upgrades of installed packages with their origin, not new installs, reinstalls, downgrades or removals', () => {
    expect(parseAptSimulation(APT, 'apt-get')).toEqual([
      { name: 'base-files', installedVersion: '12.4+deb12u11', candidateVersion: '12.4+deb12u15', arch: 'amd64', repository: 'Debian:12.15/oldstable' },
      { name: 'libgcrypt20-dev', installedVersion: '1.10.1-3', candidateVersion: '1.10.1-3+deb12u1', arch: 'amd64', repository: 'Debian:12.15/oldstable, Debian-Security:12/oldstable-security' },
      { name: 'login', installedVersion: '1:4.13+dfsg1-1+deb12u1', candidateVersion: '1:4.13+dfsg1-1+deb12u2', arch: 'amd64', repository: 'Debian:12.15/oldstable' },
      { name: 'libc6', installedVersion: '2.36-9+deb12u9', candidateVersion: '2.36-9+deb12u13', arch: 'i386', repository: 'Debian:12.15/oldstable' },
    ]);
  });

  it('names the line of output it cannot read', () => {
    const error = (() => {
      try {
        parseAptSimulation('Inst base-files [12.4]\n', 'apt-get');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ file: 'apt-get', line: 1 });
  });
});

const DNF = `
openssl-libs.x86_64                    1:3.0.7-28.el9_4                  baseos
kernel-core.x86_64                     5.14.0-427.42.1.el9_4             baseos
python3-some-really-long-package-name-for-wrapping.noarch
                                       1.2.3-4.el9                       appstream
Obsoleting Packages
grub2-tools.x86_64                     1:2.06-80.el9                     baseos
`;

describe('parseDnfCheckUpdate', () => {
  const installed = [
    { ecosystem: 'AlmaLinux:9', name: 'openssl-libs', version: '1:3.0.7-27.el9', arch: 'x86_64' },
    { ecosystem: 'AlmaLinux:9', name: 'kernel-core', version: '5.14.0-427.13.1.el9_4', arch: 'x86_64' },
  ];

  it('reads name.arch, version and repository triples, joins wrapped lines and stops at obsoletes', () => {
    expect(parseDnfCheckUpdate(DNF, 'dnf', installed)).toEqual([
      { name: 'openssl-libs', arch: 'x86_64', installedVersion: '1:3.0.7-27.el9', candidateVersion: '1:3.0.7-28.el9_4', repository: 'baseos' },
      { name: 'kernel-core', arch: 'x86_64', installedVersion: '5.14.0-427.13.1.el9_4', candidateVersion: '5.14.0-427.42.1.el9_4', repository: 'baseos' },
      { name: 'python3-some-really-long-package-name-for-wrapping', arch: 'noarch', candidateVersion: '1.2.3-4.el9', repository: 'appstream' },
    ]);
  });

  it('rejects a line with extra fields, naming the line', () => {
    expect(() => parseDnfCheckUpdate('\nbash.x86_64 5.1.8-9.el9 baseos extra\n', 'dnf', [])).toThrow(/dnf, line 2: expected "name.arch version repository"/);
  });
});

describe('parseApkVersion', () => {
  it('splits the installed name-version and reads the candidate', () => {
    const text = 'Installed:                                Available:\nbusybox-1.36.1-r5                       < 1.36.1-r7\nlibcrypto3-3.1.4-r1                     < 3.1.4-r6\n';
    expect(parseApkVersion(text, 'apk')).toEqual([
      { name: 'busybox', installedVersion: '1.36.1-r5', candidateVersion: '1.36.1-r7' },
      { name: 'libcrypto3', installedVersion: '3.1.4-r1', candidateVersion: '3.1.4-r6' },
    ]);
  });

  it('rejects what is not an upgrade line', () => {
    expect(() => parseApkVersion('busybox = 1.36.1-r5\n', 'apk')).toThrow(/apk, line 1/);
  });
});
