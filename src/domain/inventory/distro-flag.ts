/**
 * Reads a distribution named by hand (`--distro debian:12`) or by a purl `distro` qualifier into
 * the `OsRelease` fields that decide the OSV ecosystem, accepting the spellings people and SBOM
 * tools actually use.
 */
import { InputError } from '../errors.js';
import type { OsRelease } from '../types.js';
import { releaseOfCodename } from './distro-codename.js';

/** Other names of os-release IDs, as written by SBOM tools (trivy: `alma`, `redhat`) and people. */
const ID_ALIASES: Record<string, string> = {
  alma: 'almalinux',
  rockylinux: 'rocky',
  'rocky-linux': 'rocky',
  'rocky linux': 'rocky',
  redhat: 'rhel',
  'red-hat': 'rhel',
  'red hat': 'rhel',
  opensuse: 'opensuse-leap',
  'opensuse.leap': 'opensuse-leap',
  suse: 'sles',
};

/** @example normalizeDistroId('Rocky Linux') // 'rocky' */
export function normalizeDistroId(id: string): string {
  const lower = id.trim().toLowerCase();
  return Object.hasOwn(ID_ALIASES, lower) ? ID_ALIASES[lower]! : lower;
}

/**
 * `name:version` (`debian:12`, `ubuntu:22.04`, `alpine:3.18`, `almalinux:9`, `rocky:9`,
 * `opensuse-leap:15.5`, `sles:15.5`), a code name (`debian:bookworm`, `jammy`), or the OSV
 * ecosystem itself (`Ubuntu:22.04:LTS`, `Alpine:v3.18`, `Rocky Linux:9`).
 *
 * @example parseDistroFlag('ubuntu:22.04') // { id: 'ubuntu', idLike: [], versionId: '22.04' }
 * @example parseDistroFlag('debian:bookworm') // { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm' }
 */
export function parseDistroFlag(flag: string): OsRelease {
  const where = { field: '--distro' };
  const hint = 'write it as name:version, e.g. debian:12, ubuntu:22.04, alpine:3.18, almalinux:9, rocky:9, rhel:9';
  const parts = flag.trim().split(':');
  if (parts.length === 1) {
    const release = releaseOfCodename(parts[0]!);
    if (!release) throw new InputError(`cannot read distribution ${JSON.stringify(flag)}`, where, hint);
    return { id: release.id, idLike: [], versionId: release.versionId, versionCodename: parts[0]!.toLowerCase() };
  }
  const id = normalizeDistroId(parts[0]!);
  // `Ubuntu:22.04:LTS` and `Ubuntu:Pro:18.04:LTS` name the same release as `ubuntu:22.04`.
  const rest = parts.slice(1).filter((part) => part !== 'LTS' && part !== 'Pro');
  const version = rest.length === 1 ? rest[0]!.replace(/^v(?=\d)/, '') : '';
  if (!/^[a-z][a-z0-9 .-]*$/.test(id) || version === '') throw new InputError(`cannot read distribution ${JSON.stringify(flag)}`, where, hint);
  if (/^\d+(\.\d+)*$/.test(version)) return { id, idLike: [], versionId: version };
  const release = releaseOfCodename(version);
  if (release && release.id === id) return { id, idLike: [], versionId: release.versionId, versionCodename: version.toLowerCase() };
  throw new InputError(`cannot read the version of distribution ${JSON.stringify(flag)}`, where, hint);
}
