// Malformed inventories are rejected with the file, line and field of the problem.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseInventory } from './index.js';
import { parseOsRelease } from './os-release.js';

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('malformed inventories', () => {
  it('dpkg status: a stanza without Version names the line and field', () => {
    const text = 'Package: bash\nStatus: install ok installed\nVersion: 5.2-1\n\nPackage: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n';
    const error = errorOf(() => parseInventory({ text, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' }));
    expect(error.message).toBe('status, line 5, field Version: package zlib1g has no Version');
  });

  it('dpkg status: a line that is not a field names the line', () => {
    const text = 'Package: bash\nthis is not a field\n';
    expect(errorOf(() => parseInventory({ text, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' })).location).toEqual({ file: 'status', line: 2 });
  });

  it('rpm query format: a bad epoch names the line and field', () => {
    const text = 'bash\t0\t5.1.8\t6.el9\tx86_64\tbash-5.1.8-6.el9.src.rpm\nzlib\tx\t1.2\t1.el9\tx86_64\tzlib-1.2-1.el9.src.rpm\n';
    const error = errorOf(() => parseInventory({ text, fileName: 'rpm.txt', format: 'rpm', osEcosystem: 'AlmaLinux:9' }));
    expect(error.location).toEqual({ file: 'rpm.txt', line: 2, field: 'EPOCHNUM' });
  });

  it('rpm query format keeps epochs and source names', () => {
    const text = 'podman\t4\t4.4.1\t5.el9\tx86_64\tpodman-4.4.1-5.el9.src.rpm\n';
    const [pkg] = parseInventory({ text, fileName: 'rpm.txt', format: 'auto', osEcosystem: 'AlmaLinux:9' }).packages;
    expect(pkg).toEqual({ ecosystem: 'AlmaLinux:9', name: 'podman', version: '4:4.4.1-5.el9', arch: 'x86_64', sourceName: 'podman', epochKnown: true });
  });

  it('apk: a record without a version names its first line and the field', () => {
    const text = 'P:musl\nV:1.2.4-r1\n\nP:busybox\nA:x86_64\n';
    expect(errorOf(() => parseInventory({ text, fileName: 'installed', format: 'apk', osEcosystem: 'Alpine:v3.18' })).location).toEqual({ file: 'installed', line: 4, field: 'V' });
  });

  it('an OS package list without a distribution asks for one', () => {
    const error = errorOf(() => parseInventory({ text: 'Package: bash\nVersion: 1\n', fileName: 'status', format: 'auto' }));
    expect(error.hint).toContain('--distro');
  });

  it('CycloneDX: a wrong field type names the JSON path', () => {
    const text = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'a', purl: 'pkg:npm/a@1.0.0' }, { name: 'b', purl: 42 }] });
    expect(errorOf(() => parseInventory({ text, fileName: 'bom.json', format: 'auto' })).location).toEqual({ file: 'bom.json', field: 'components[1].purl' });
  });

  it('CycloneDX: nested components and purl ecosystems', () => {
    const text = JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [
        { name: 'core', purl: 'pkg:npm/%40babel/core@7.22.0', components: [{ name: 'Django', purl: 'pkg:pypi/Django@4.2.1' }] },
        { name: 'openssl', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl%403.0.11-1~deb12u2' },
        { name: 'no-purl' },
      ],
    });
    const parsed = parseInventory({ text, fileName: 'bom.json', format: 'auto' });
    expect(parsed.packages.map((pkg) => [pkg.ecosystem, pkg.name, pkg.version, pkg.sourceName])).toEqual([
      ['npm', '@babel/core', '7.22.0', undefined],
      ['PyPI', 'django', '4.2.1', undefined],
      ['Debian:12', 'libssl3', '3.0.11-1~deb12u2', 'openssl'],
    ]);
    expect(parsed.skipped).toBe(1);
  });

  it('SPDX 2.3: packages with purl references', () => {
    const text = JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      packages: [
        { name: 'musl', versionInfo: '1.2.4-r1', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4' }] },
      ],
    });
    expect(parseInventory({ text, fileName: 'sbom.spdx.json', format: 'auto' }).packages).toEqual([
      { ecosystem: 'Alpine:v3.18', name: 'musl', version: '1.2.4-r1', arch: 'x86_64', purl: 'pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4' },
    ]);
  });

  it('os-release: a malformed line is named', () => {
    expect(errorOf(() => parseOsRelease('ID=debian\nnot a pair\n', '/etc/os-release')).location).toEqual({ file: '/etc/os-release', line: 2 });
  });
});
