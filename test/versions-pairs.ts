/**
 * Generates realistic version pairs for cross-checking comparators against the ecosystems' own
 * tools: real versions (conformance vectors, dpkg status files, AlmaLinux advisories' fixed
 * versions), paired with near neighbours and with mutations that exercise the tricky rules
 * (`~`, `^`, epochs, leading zeros, letters, separators, and for dpkg strings it warns about or
 * rejects).
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { seededRandom } from '../src/simulator/seeded-random.js';
import { sharedData } from './data-path.js';

/** Both sides of every entry of the named files under versions/. */
export function vectorVersions(files: string[]): string[] {
  const versions = new Set<string>();
  for (const file of files) {
    for (const entry of JSON.parse(readFileSync(sharedData(`versions/${file}`), 'utf8')) as Array<{ a: string; b: string }>) {
      versions.add(entry.a);
      versions.add(entry.b);
    }
  }
  return [...versions];
}

/** `Version:` values of the real dpkg status files. */
export function dpkgStatusVersions(): string[] {
  const versions = new Set<string>();
  for (const file of ['inventories/debian12-node-image/dpkg-status', 'inventories/ubuntu1804-dpkg-status']) {
    for (const line of readFileSync(sharedData(file), 'utf8').split('\n')) {
      if (line.startsWith('Version: ')) versions.add(line.slice('Version: '.length));
    }
  }
  return [...versions];
}

/** Every `fixed` version of the AlmaLinux OSV advisories (a quarter carry an epoch). */
export function almaLinuxFixedVersions(): string[] {
  const versions = new Set<string>();
  for (const release of [8, 9, 10]) {
    const files = unzipSync(readFileSync(sharedData(`osv/almalinux/almalinux${release}.zip`)));
    const decoder = new TextDecoder();
    for (const [name, bytes] of Object.entries(files)) {
      if (!name.endsWith('.json')) continue;
      const record = JSON.parse(decoder.decode(bytes)) as { affected?: Array<{ ranges?: Array<{ events?: Array<{ fixed?: string }> }> }> };
      for (const affected of record.affected ?? []) {
        for (const range of affected.ranges ?? []) {
          for (const event of range.events ?? []) if (event.fixed !== undefined) versions.add(event.fixed);
        }
      }
    }
  }
  return [...versions];
}

type Mutation = (version: string, random: () => number) => string;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

const COMMON_MUTATIONS: Mutation[] = [
  (version) => `${version}~rc1`,
  (version) => `${version}~`,
  (version) => version.replace(/\./, '~'),
  (version) => `${version}.1`,
  (version) => `${version}a`,
  (version, random) => `${version}${pick(['alpha', 'b2', 'Z', 'rc', 'p1', 'git20240101'], random)}`,
  (version) => version.replace(/\d+/, (digits) => String(Number(digits) + 1)),
  (version) => version.replace(/\d+$/, (digits) => `0${digits}`),
  (version) => version.replace(/\.(\d)/, '.00$1'),
  (version) => version.replace(/(\d+)(?!.*\d)/, (digits) => String(Math.max(0, Number(digits) - 1))),
  (version) => `1:${version.replace(/^\d+:/, '')}`,
  (version) => `${version.replace(/^\d+:/, '')}`,
  (version) => `0:${version.replace(/^\d+:/, '')}`,
  (version) => `10:${version.replace(/^\d+:/, '')}`,
  (version, random) => version.slice(0, Math.max(1, Math.floor(random() * version.length))),
  (version, random) => version.replace(/[.+_]/, pick(['.', '+', '_', '', '..', '-'], random)),
  (version) => version.toUpperCase(),
];

const SCHEME_MUTATIONS: Record<'dpkg' | 'rpm', Mutation[]> = {
  dpkg: [
    (version) => `${version}+deb12u1`,
    (version) => version.replace(/-/, '~bpo1-'),
    (version) => `${version}-1`,
    (version) => `${version}-`,
    (version) => `${version}+really1.0`,
    // Strings dpkg warns about (still compared) or rejects (must throw).
    (version, random) => `${pick(['a', ':', '-', 'x:', '+1:', '-1:', ' '], random)}${version}`,
    (version, random) => `${version}${pick(['!', '@', 'é', 'ß~', '\u00a0', ':1', ' 1'], random)}`,
  ],
  rpm: [
    (version) => `${version}^20240101git`,
    (version) => `${version}^`,
    (version) => version.replace(/\./, '^'),
    (version) => version.replace(/\./, '_'),
    (version) => `${version}-1.el9`,
    (version) => `${version}.el9_2`,
    (version) => version.replace(/-.*/, ''),
    (version) => version.replace(/-/, '-0'),
    (version) => `:${version}`,
    (version) => `${version}-`,
  ],
};

/** `count` pairs: neighbours in the real data, random pairs, and versions against mutations of themselves. */
export function generatePairs(scheme: 'dpkg' | 'rpm', versions: string[], count: number, seed: number): Array<[string, string]> {
  const random = seededRandom(seed);
  const mutations = [...COMMON_MUTATIONS, ...SCHEME_MUTATIONS[scheme]];
  const pairs: Array<[string, string]> = [];
  while (pairs.length < count) {
    const index = Math.floor(random() * versions.length);
    const version = versions[index]!;
    const roll = random();
    let pair: [string, string];
    if (roll < 0.25) pair = [version, versions[Math.min(versions.length - 1, index + 1 + Math.floor(random() * 3))]!];
    else if (roll < 0.35) pair = [version, versions[Math.floor(random() * versions.length)]!];
    else {
      let mutated = pick(mutations, random)(version, random);
      if (random() < 0.3) mutated = pick(mutations, random)(mutated, random);
      pair = random() < 0.5 ? [version, mutated] : [mutated, version];
    }
    pairs.push(pair);
  }
  return pairs;
}
