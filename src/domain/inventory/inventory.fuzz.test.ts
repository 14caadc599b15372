// Property-based fuzzing of every inventory parser, seeded from the real inventories of the shared
// data (dpkg, rpm, apk databases and lockfiles; SBOMs built from the real package lists). The only
// allowed failure is a clean InputError naming the file; what is accepted is well-formed, and OS
// package versions are valid for their scheme. `npm run fuzz` raises the run count.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { fuzzParameters, mutatedJson, mutatedText } from '../../../test/fuzz/mutations.js';
import { InputError } from '../errors.js';
import { versionProblem } from '../versions/index.js';
import { textProblem } from '../well-formed-text.js';
import { parseInventory, type InventoryFormat } from './index.js';

const read = (path: string) => readFileSync(sharedData(path), 'utf8');

/** Windows of `size` blank-line separated records, at several places in a real database. */
function recordWindows(text: string, size: number, count: number): string[] {
  const records = text.split('\n\n');
  const step = Math.max(1, Math.floor(records.length / count));
  return Array.from({ length: count }, (_, index) => records.slice(index * step, index * step + size).join('\n\n') + '\n\n');
}

function lineWindows(text: string, size: number, count: number): string[] {
  const lines = text.split('\n');
  const step = Math.max(1, Math.floor(lines.length / count));
  return Array.from({ length: count }, (_, index) => lines.slice(index * step, index * step + size).join('\n') + '\n');
}

const almaPackages = (JSON.parse(read('inventories/almalinux-9.2-packages-epoch-inferred.json')) as { packages: Array<{ name: string; version: string; release: string; arch: string; epoch_inferred: string }> }).packages;

function cycloneDxOf(packages: typeof almaPackages): unknown {
  const components = packages.map((pkg) => ({ type: 'library', name: pkg.name, version: `${pkg.version}-${pkg.release}`, purl: `pkg:rpm/almalinux/${encodeURIComponent(pkg.name)}@${pkg.version}-${pkg.release}?arch=${pkg.arch}&distro=almalinux-9.2` }));
  // A little nesting, as SBOM generators write for packages inside packages.
  return { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ ...components[0], components: components.slice(1, 4) }, ...components.slice(4)] };
}

function spdxOf(packages: typeof almaPackages): unknown {
  return {
    spdxVersion: 'SPDX-2.3',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'host',
    packages: packages.map((pkg, index) => ({
      SPDXID: `SPDXRef-${index}`,
      name: pkg.name,
      versionInfo: `${pkg.version}-${pkg.release}`,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:rpm/almalinux/${encodeURIComponent(pkg.name)}@${pkg.version}-${pkg.release}?distro=almalinux-9.2` }],
    })),
  };
}

const queryFormatLines = almaPackages.map((pkg) => [pkg.name, pkg.epoch_inferred, pkg.version, pkg.release, pkg.arch, `${pkg.name}-${pkg.version}-${pkg.release}.src.rpm`].join('\t')).join('\n');
const npmLockV1 = JSON.parse(read('inventories/lang/trivy-npm.package-lock.json')) as unknown;
const pipfileLock = JSON.parse(read('inventories/lang/trivy-ci-test.Pipfile.lock')) as unknown;

interface Target {
  format: InventoryFormat;
  fileName: string;
  osEcosystem?: string;
  texts: string[];
  documents?: unknown[];
}

const TARGETS: Target[] = [
  { format: 'dpkg-status', fileName: 'status', osEcosystem: 'Debian:12', texts: [...recordWindows(read('inventories/debian12-node-image/dpkg-status'), 4, 6), ...recordWindows(read('inventories/ubuntu1804-dpkg-status'), 4, 6)] },
  { format: 'rpm', fileName: 'rpm-qa.txt', osEcosystem: 'AlmaLinux:9', texts: [...lineWindows(read('inventories/almalinux-9.2-rpm-qa.txt'), 20, 8), ...lineWindows(queryFormatLines, 20, 4)] },
  { format: 'apk', fileName: 'installed', osEcosystem: 'Alpine:v3.18', texts: ['alpine-3.10.4-apk-installed', 'alpine-3.11.5-apk-installed', 'alpine-3.18-apk-installed'].flatMap((file) => recordWindows(read(`inventories/${file}`), 3, 4)) },
  { format: 'cyclonedx', fileName: 'bom.json', texts: [], documents: [cycloneDxOf(almaPackages.slice(0, 12)), cycloneDxOf(almaPackages.slice(600, 612))] },
  { format: 'spdx', fileName: 'sbom.spdx.json', texts: [], documents: [spdxOf(almaPackages.slice(100, 110))] },
  { format: 'npm-lock', fileName: 'package-lock.json', texts: [], documents: [npmLockV1] },
  { format: 'pipfile-lock', fileName: 'Pipfile.lock', texts: [], documents: [pipfileLock] },
  { format: 'go-mod', fileName: 'go.mod', texts: [read('inventories/lang/trivy-gomod.go.mod')] },
];

const OS_SCHEMES: Partial<Record<InventoryFormat, 'dpkg' | 'rpm' | 'apk'>> = { 'dpkg-status': 'dpkg', rpm: 'rpm', apk: 'apk' };

/** Parses, and checks that the outcome is either a well-formed inventory or a clean InputError. */
function parsesCleanly(target: Target, text: string): void {
  let parsed;
  try {
    parsed = parseInventory({ text, fileName: target.fileName, format: target.format, ...(target.osEcosystem ? { osEcosystem: target.osEcosystem } : {}) });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.location.file).toBe(target.fileName);
    expect(textProblem(error.message, true), 'the message itself is printable').toBeUndefined();
    return;
  }
  const scheme = OS_SCHEMES[target.format];
  for (const pkg of parsed.packages) {
    for (const value of [pkg.ecosystem, pkg.name, pkg.version, pkg.arch, pkg.sourceName, pkg.sourceVersion, pkg.purl]) {
      if (value !== undefined) expect(textProblem(value), JSON.stringify(value)).toBeUndefined();
    }
    if (scheme !== undefined) expect(versionProblem(scheme, pkg.version)).toBeUndefined();
  }
}

describe('inventory parsers under fuzzing', () => {
  for (const target of TARGETS) {
    const texts = [...target.texts, ...(target.documents ?? []).map((document) => JSON.stringify(document, null, 1))];

    it(`${target.format}: every seed parses`, () => {
      for (const text of texts) expect(() => parsesCleanly(target, text)).not.toThrow();
    });

    it(`${target.format}: character, line and truncation mutations of real files`, () => {
      fc.assert(
        fc.property(mutatedText(texts), (text) => parsesCleanly(target, text)),
        fuzzParameters(60),
      );
    });

    if (target.documents !== undefined) {
      it(`${target.format}: structural mutations of the decoded document`, () => {
        fc.assert(
          fc.property(mutatedJson(target.documents!), (document) => parsesCleanly(target, JSON.stringify(document))),
          fuzzParameters(60),
        );
      });
    }
  }
});
