// The inventory entry point: format detection on every real inventory, the distribution an OS format needs, SBOM fallbacks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { InputError } from '../errors.js';
import { detectFormat, parseInventory, type InventoryFormat } from './index.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import { parseOsRelease } from './os-release.js';

const read = (path: string) => readFileSync(sharedData(`inventories/${path}`), 'utf8');

describe('parseInventory on every real inventory', () => {
  it.each<[string, string | undefined, InventoryFormat, string | undefined, number]>([
    ['debian12-node-image/dpkg-status', 'debian12-node-image/os-release', 'dpkg-status', 'Debian:12', 775],
    ['ubuntu1804-dpkg-status', undefined, 'dpkg-status', 'Ubuntu:18.04:LTS', 90],
    ['alpine-3.10.4-apk-installed', 'alpine-3.10.4-os-release', 'apk', 'Alpine:v3.10', 14],
    ['alpine-3.11.5-apk-installed', 'alpine-3.11.5-os-release', 'apk', 'Alpine:v3.11', 14],
    ['alpine-3.18-apk-installed', undefined, 'apk', 'Alpine:v3.18', 15],
    ['almalinux-9.2-rpm-qa.txt', 'almalinux-9.2-os-release', 'rpm', 'AlmaLinux:9', 1277],
    ['lang/trivy-ci-test.Pipfile.lock', undefined, 'pipfile-lock', undefined, 91],
    ['lang/trivy-gomod.go.mod', undefined, 'go-mod', undefined, 18],
    ['lang/trivy-npm.package-lock.json', undefined, 'npm-lock', undefined, 13],
  ])('%s is detected as %s and parsed', (file, osReleaseFile, format, osEcosystem, count) => {
    if (osReleaseFile) expect(osvEcosystemFor(parseOsRelease(read(osReleaseFile), osReleaseFile))).toBe(osEcosystem);
    const text = read(file);
    expect(detectFormat(text, file)).toBe(format);
    // Content alone is enough too: the file name only helps.
    expect(detectFormat(text, 'inventory.txt')).toBe(format);
    const parsed = parseInventory({ text, fileName: file, format: 'auto', ...(osEcosystem ? { osEcosystem } : {}) });
    expect(parsed.format).toBe(format);
    expect(parsed.packages).toHaveLength(count);
    const expectedEcosystem = osEcosystem ?? { 'pipfile-lock': 'PyPI', 'go-mod': 'Go', 'npm-lock': 'npm' }[format as string];
    expect(parsed.packages.every((pkg) => pkg.ecosystem === expectedEcosystem && pkg.name !== '' && pkg.version !== '')).toBe(true);
  });
});

describe('parseInventory', () => {
  it('asks for the distribution of an OS package list, naming the file and the flags', () => {
    let error: unknown;
    try {
      parseInventory({ text: 'Package: bash\nVersion: 5.2.15-2\n', fileName: 'status', format: 'auto' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ file: 'status' });
    expect((error as InputError).hint).toContain('--os-release FILE');
    expect((error as InputError).hint).toContain('--distro debian:12');
  });

  it('uses an explicit format even when the content would say otherwise', () => {
    expect(() => parseInventory({ text: 'P:musl\nV:1.2.4-r1\n', fileName: 'x', format: 'dpkg-status', osEcosystem: 'Debian:12' })).toThrowError(InputError);
  });

  it('passes the host distribution to SBOMs for OS purls that name none', () => {
    const text = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'library', name: 'bash', purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64' }] });
    expect(parseInventory({ text, fileName: 'bom.json', format: 'auto' }).skipped).toBe(1);
    expect(parseInventory({ text, fileName: 'bom.json', format: 'auto', osEcosystem: 'Debian:12' }).packages.map((pkg) => pkg.ecosystem)).toEqual(['Debian:12']);
  });
});

describe('detectFormat', () => {
  it.each<[string, string, InventoryFormat]>([
    ['{"bomFormat": "CycloneDX", "specVersion": "1.6"}', 'sbom.json', 'cyclonedx'],
    ['{\n  "spdxVersion": "SPDX-2.3",\n  "SPDXID": "SPDXRef-DOCUMENT"\n}', 'sbom.json', 'spdx'],
    ['{"name": "x", "lockfileVersion": 3, "packages": {}}', 'lock.json', 'npm-lock'],
    ['{"_meta": {"pipfile-spec": 6}, "default": {}}', 'lock.json', 'pipfile-lock'],
    ['{}', 'services/api/package-lock.json', 'npm-lock'],
    ['{}', 'Pipfile.lock', 'pipfile-lock'],
    ['module example.com/m\n', 'deps.txt', 'go-mod'],
    ['bash\t0\t5.1.8\t6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\n', 'rpm.txt', 'rpm'],
    ['gpg-pubkey-fd431d51-4ae0493b\n', 'rpm.txt', 'rpm'],
    ['C:Q1abc=\nP:musl\nV:1.2.4-r1\n', 'installed', 'apk'],
    ['Package: bash\nStatus: install ok installed\n', 'status', 'dpkg-status'],
  ])('%s (%s) → %s', (text, fileName, format) => {
    expect(detectFormat(text, fileName)).toBe(format);
  });

  it('names the file and suggests --format when it cannot tell', () => {
    expect(() => detectFormat('hello world\n', 'notes.txt')).toThrowError(/^notes\.txt: cannot tell the inventory format/);
  });
});
