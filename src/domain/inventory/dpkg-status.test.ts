// dpkg status parsing: installed-state filtering, Source with version, continuation lines, malformed input, real files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { InputError } from '../errors.js';
import { parseDpkgStatus } from './dpkg-status.js';

const STATUS = `Package: libuuid1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 75
Maintainer: util-linux packagers <util-linux@packages.debian.org>
Architecture: amd64
Multi-Arch: same
Source: util-linux (2.38.1-5+deb12u3)
Version: 2.38.1-5+deb12u3+b1
Depends: libc6 (>= 2.25)
Description: Universally Unique ID library
 The libuuid library generates and parses 128-bit Universally Unique IDs.
 .
 See RFC 4122 for more information.

Package: bash
Essential: yes
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7
Conffiles:
 /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d
 /etc/skel/.bashrc 0ec9dd1f3fd2e5e9b8f1ab8e9b9b9e8a
Description: GNU Bourne Again SHell

Package: libssl1.1
Status: deinstall ok config-files
Architecture: amd64
Source: openssl
Version: 1.1.1n-0+deb11u5

Package: libgcrypt20
Status: hold ok installed
Architecture: amd64
Version: 1.10.1-3

Package: login
Status: install ok half-configured
Architecture: amd64
Source: shadow
Version: 1:4.13+dfsg1-1+b1
`;

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('parseDpkgStatus', () => {
  it('keeps packages whose files are on disk, with architecture and source name and version', () => {
    const parsed = parseDpkgStatus(STATUS, 'status', 'Debian:12');
    expect(parsed.packages).toEqual([
      { ecosystem: 'Debian:12', name: 'libuuid1', version: '2.38.1-5+deb12u3+b1', arch: 'amd64', sourceName: 'util-linux', sourceVersion: '2.38.1-5+deb12u3' },
      { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b7', arch: 'amd64' },
      { ecosystem: 'Debian:12', name: 'libgcrypt20', version: '1.10.1-3', arch: 'amd64' },
      { ecosystem: 'Debian:12', name: 'login', version: '1:4.13+dfsg1-1+b1', arch: 'amd64', sourceName: 'shadow' },
    ]);
    expect(parsed.skipped).toBe(1);
    expect(parsed.warnings).toEqual(['1 package(s) in dpkg state "half-configured" kept: their files are on disk']);
  });

  it('reads CRLF files and stanzas without Status (distroless status.d) as installed', () => {
    const parsed = parseDpkgStatus('Package: base-files\r\nVersion: 12.4+deb12u5\r\nArchitecture: amd64\r\n', 'status.d/base', 'Debian:12');
    expect(parsed.packages).toEqual([{ ecosystem: 'Debian:12', name: 'base-files', version: '12.4+deb12u5', arch: 'amd64' }]);
  });

  it('does not require a Version on records that are not installed', () => {
    const parsed = parseDpkgStatus('Package: gone\nStatus: purge ok not-installed\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n', 'status', 'Debian:12');
    expect(parsed.packages.map((pkg) => pkg.name)).toEqual(['zlib1g']);
    expect(parsed.skipped).toBe(1);
  });

  it('names file, line and field for a stanza without Version', () => {
    const text = 'Package: bash\nStatus: install ok installed\nVersion: 5.2-1\n\nPackage: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n';
    expect(() => parseDpkgStatus(text, 'status', 'Debian:12')).toThrowError('status, line 5, field Version: package zlib1g has no Version');
  });

  it('names file, line and field for a stanza without Package', () => {
    const text = 'Package: bash\nVersion: 5.2-1\n\n\nStatus: install ok installed\nVersion: 1.0\n';
    expect(errorOf(() => parseDpkgStatus(text, 'status', 'Debian:12')).location).toEqual({ file: 'status', line: 5, field: 'Package' });
  });

  it('names the line and the field being continued when a line is neither a field nor a continuation', () => {
    const text = 'Package: bash\nVersion: 5.2-1\nDescription: GNU Bourne Again SHell\nan unindented continuation\n';
    const error = errorOf(() => parseDpkgStatus(text, 'status', 'Debian:12'));
    expect(error.message).toMatch(/^status, line 4, field Description: expected "Field: value"/);
    expect(error.hint).toContain('start with a space');
  });

  it('rejects a continuation line before any field', () => {
    expect(errorOf(() => parseDpkgStatus(' orphan continuation\n', 'status', 'Debian:12')).location).toEqual({ file: 'status', line: 1 });
  });

  it('names the Source line when it is malformed', () => {
    const text = 'Package: libuuid1\nStatus: install ok installed\nSource: util-linux 2.38.1-5\nVersion: 2.38.1-5\n';
    expect(errorOf(() => parseDpkgStatus(text, 'status', 'Debian:12')).location).toEqual({ file: 'status', line: 3, field: 'Source' });
  });
});

describe('real dpkg status files', () => {
  const read = (path: string) => readFileSync(sharedData(`inventories/${path}`), 'utf8');
  const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

  it('Debian 12 image: 775 installed packages, source versions kept', () => {
    const text = read('debian12-node-image/dpkg-status');
    const parsed = parseDpkgStatus(text, 'dpkg-status', 'Debian:12');
    expect(parsed.packages).toHaveLength(775);
    expect(parsed.packages).toHaveLength(count(text, /^Status: install ok installed$/gm));
    expect(parsed.skipped).toBe(0);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.packages.filter((pkg) => pkg.sourceName !== undefined)).toHaveLength(count(text, /^Source: /gm));
    expect(parsed.packages.filter((pkg) => pkg.sourceVersion !== undefined)).toHaveLength(count(text, /^Source: \S+ \(/gm));
    expect(parsed.packages.filter((pkg) => pkg.sourceVersion !== undefined)).toHaveLength(72);
    expect(parsed.packages.find((pkg) => pkg.sourceName === 'util-linux' && pkg.sourceVersion !== undefined)?.sourceVersion).toBe('2.38.1-5+deb12u3');
    expect(parsed.packages.filter((pkg) => pkg.version.includes(':')).length).toBe(count(text, /^Version: \d+:/gm));
    expect(parsed.packages.every((pkg) => pkg.arch !== undefined)).toBe(true);
  });

  it('Ubuntu 18.04: 90 installed, the deinstall ok config-files record skipped', () => {
    const text = read('ubuntu1804-dpkg-status');
    const parsed = parseDpkgStatus(text, 'ubuntu1804-dpkg-status', 'Ubuntu:18.04:LTS');
    expect(parsed.packages).toHaveLength(90);
    expect(parsed.packages).toHaveLength(count(text, /^Status: install ok installed$/gm));
    expect(parsed.skipped).toBe(1);
    expect(parsed.skipped).toBe(count(text, /^Status: deinstall ok config-files$/gm));
    expect(parsed.packages.length + parsed.skipped).toBe(count(text, /^Package: /gm));
  });
});
