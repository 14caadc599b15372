// Every real inventory in ../shared/data/inventories parses, with counts checked against the files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parseInventory } from './index.js';
import { kernelReleaseOf } from './kernel.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import { parseOsRelease } from './os-release.js';

function read(path: string): string {
  return readFileSync(sharedData(`inventories/${path}`), 'utf8');
}

function ecosystemOf(osReleasePath: string): string {
  return osvEcosystemFor(parseOsRelease(read(osReleasePath), osReleasePath))!;
}

describe('real inventories', () => {
  it('parses the Debian 12 image: installed packages only, source names and versions kept', () => {
    const text = read('debian12-node-image/dpkg-status');
    const ecosystem = ecosystemOf('debian12-node-image/os-release');
    expect(ecosystem).toBe('Debian:12');
    const parsed = parseInventory({ text, fileName: 'dpkg-status', format: 'auto', osEcosystem: ecosystem });
    expect(parsed.format).toBe('dpkg-status');
    expect(parsed.packages).toHaveLength(text.match(/^Status: install ok installed$/gm)!.length);
    expect(parsed.packages.length + parsed.skipped).toBe(text.match(/^Package: /gm)!.length);
    const uuid = parsed.packages.find((pkg) => pkg.sourceName === 'util-linux' && pkg.sourceVersion !== undefined);
    expect(uuid?.sourceVersion).toBe('2.38.1-5+deb12u3');
    expect(parsed.packages.filter((pkg) => pkg.sourceVersion !== undefined).length).toBe(text.match(/^Source: \S+ \(/gm)!.length);
  });

  it('parses the Ubuntu 18.04 dpkg status', () => {
    const parsed = parseInventory({ text: read('ubuntu1804-dpkg-status'), fileName: 'ubuntu1804', format: 'dpkg-status', osEcosystem: 'Ubuntu:18.04:LTS' });
    // 91 records, one of them `deinstall ok config-files`.
    expect(parsed.packages.length).toBe(90);
    expect(parsed.skipped).toBe(1);
  });

  it.each([
    ['alpine-3.10.4-apk-installed', 'alpine-3.10.4-os-release', 'Alpine:v3.10', 14],
    ['alpine-3.11.5-apk-installed', 'alpine-3.11.5-os-release', 'Alpine:v3.11', 14],
  ])('parses %s with origins', (file, osRelease, ecosystem, count) => {
    expect(ecosystemOf(osRelease)).toBe(ecosystem);
    const parsed = parseInventory({ text: read(file), fileName: file, format: 'auto', osEcosystem: ecosystem });
    expect(parsed.format).toBe('apk');
    expect(parsed.packages).toHaveLength(count);
    const origin = (name: string) => parsed.packages.find((pkg) => pkg.name === name)?.sourceName;
    expect(origin('libcrypto1.1')).toBe('openssl');
    expect(origin('ssl_client')).toBe('busybox');
    expect(origin('scanelf')).toBe('pax-utils');
  });

  it('parses the Alpine 3.18 database', () => {
    const parsed = parseInventory({ text: read('alpine-3.18-apk-installed'), fileName: 'installed', format: 'apk', osEcosystem: 'Alpine:v3.18' });
    expect(parsed.packages).toHaveLength(15);
    expect(parsed.packages.find((pkg) => pkg.name === 'apk-tools')?.version).toBe('2.14.0-r0');
  });

  it('parses the AlmaLinux 9.2 rpm -qa list (no epochs) exactly as the epoch oracle splits it', () => {
    const ecosystem = ecosystemOf('almalinux-9.2-os-release');
    expect(ecosystem).toBe('AlmaLinux:9');
    const parsed = parseInventory({ text: read('almalinux-9.2-rpm-qa.txt'), fileName: 'rpm-qa.txt', format: 'auto', osEcosystem: ecosystem });
    expect(parsed.format).toBe('rpm');
    expect(parsed.packages).toHaveLength(1277);
    expect(parsed.packages.every((pkg) => pkg.epochKnown === false)).toBe(true);
    const oracle = JSON.parse(read('almalinux-9.2-packages-epoch-inferred.json')) as { packages: Array<{ nevra: string; name: string; version: string; release: string; arch: string }> };
    const split = new Map(parsed.packages.map((pkg) => [`${pkg.name}-${pkg.version}${pkg.arch ? `.${pkg.arch}` : ''}`, pkg]));
    for (const entry of oracle.packages) {
      const pkg = split.get(entry.nevra);
      expect(pkg, entry.nevra).toBeDefined();
      expect([pkg!.name, pkg!.version, pkg!.arch ?? '']).toEqual([entry.name, `${entry.version}-${entry.release}`, entry.arch === '(none)' ? '' : entry.arch]);
    }
    const kernels = parsed.packages.filter((pkg) => kernelReleaseOf(pkg, 'rpm') !== undefined);
    expect(kernels.map((pkg) => kernelReleaseOf(pkg, 'rpm'))).toContain('5.14.0-284.11.1.el9_2.x86_64');
  });

  it.each([
    ['lang/trivy-ci-test.Pipfile.lock', 'pipfile-lock', 'PyPI'],
    ['lang/trivy-gomod.go.mod', 'go-mod', 'Go'],
    ['lang/trivy-npm.package-lock.json', 'npm-lock', 'npm'],
  ])('parses %s', (file, format, ecosystem) => {
    const parsed = parseInventory({ text: read(file), fileName: file, format: 'auto' });
    expect(parsed.format).toBe(format);
    expect(parsed.packages.length).toBeGreaterThan(0);
    expect(parsed.packages.every((pkg) => pkg.ecosystem === ecosystem && pkg.version !== '')).toBe(true);
  });
});
