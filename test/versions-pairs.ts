/**
 * Generates realistic version pairs for cross-checking comparators against the ecosystems' own
 * tools: real versions from the conformance data, paired with near neighbours and with mutations
 * that exercise the tricky rules (`~`, `^`, epochs, leading zeros, letters, separators).
 */
import { readFileSync } from 'node:fs';
import { sharedData } from './data-path.js';

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function realVersions(files: string[]): string[] {
  const versions = new Set<string>();
  for (const file of files) {
    for (const entry of JSON.parse(readFileSync(sharedData(`versions/${file}`), 'utf8')) as Array<{ a: string; b: string }>) {
      versions.add(entry.a);
      versions.add(entry.b);
    }
  }
  return [...versions];
}

type Mutation = (version: string, random: () => number) => string;

const COMMON_MUTATIONS: Mutation[] = [
  (version) => `${version}~rc1`,
  (version) => `${version}.1`,
  (version) => `${version}a`,
  (version) => version.replace(/\d+/, (digits) => String(Number(digits) + 1)),
  (version) => version.replace(/\d+$/, (digits) => `0${digits}`),
  (version) => version.replace(/(\d+)(?!.*\d)/, (digits) => String(Math.max(0, Number(digits) - 1))),
  (version) => `1:${version.replace(/^\d+:/, '')}`,
  (version) => version.replace(/^\d+:/, ''),
  (version, random) => version.slice(0, Math.max(1, Math.floor(random() * version.length))),
];

const SCHEME_MUTATIONS: Record<'dpkg' | 'rpm', Mutation[]> = {
  dpkg: [(version) => `${version}+deb12u1`, (version) => version.replace(/-/, '~bpo1-'), (version) => `${version}-1`],
  rpm: [(version) => `${version}^20240101git`, (version) => version.replace(/\./, '_'), (version) => `${version}-1.el9`, (version) => version.replace(/-.*/, '')],
};

/** At least `count` pairs: neighbours in the real data, and each version against mutations of itself. */
export function generatePairs(scheme: 'dpkg' | 'rpm', versions: string[], count: number, seed: number): Array<[string, string]> {
  const random = seededRandom(seed);
  const mutations = [...COMMON_MUTATIONS, ...SCHEME_MUTATIONS[scheme]];
  const pairs: Array<[string, string]> = [];
  while (pairs.length < count) {
    const index = Math.floor(random() * versions.length);
    const version = versions[index]!;
    const roll = random();
    if (roll < 0.3) pairs.push([version, versions[Math.min(versions.length - 1, index + 1 + Math.floor(random() * 3))]!]);
    else if (roll < 0.4) pairs.push([version, versions[Math.floor(random() * versions.length)]!]);
    else {
      const mutate = mutations[Math.floor(random() * mutations.length)]!;
      const mutated = mutate(version, random);
      pairs.push(random() < 0.5 ? [version, mutated] : [mutated, version]);
    }
  }
  return pairs.filter(([a, b]) => a !== '' && b !== '' && !/\s/.test(a + b));
}
