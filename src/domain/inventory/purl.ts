/**
 * Package URLs (purl spec): `pkg:type/namespace/name@version?qualifiers#subpath`, and the OSV
 * ecosystem each type maps to, so SBOM components meet the same advisories as host packages.
 */
import { InputError, type InputLocation } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import { osvEcosystemFor } from './os-ecosystem.js';

export interface PackageUrl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
}

/** @example parsePurl('pkg:npm/%40babel/core@7.0.0') // { type: 'npm', namespace: '@babel', name: 'core', version: '7.0.0', qualifiers: {} } */
export function parsePurl(purl: string, where: InputLocation = {}): PackageUrl {
  if (!purl.startsWith('pkg:')) throw new InputError(`not a package URL: ${JSON.stringify(purl)}`, where);
  let rest = purl.slice(4).replace(/^\/+/, '');
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question !== -1) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const equals = pair.indexOf('=');
      if (equals > 0) qualifiers[pair.slice(0, equals).toLowerCase()] = decodeURIComponent(pair.slice(equals + 1));
    }
    rest = rest.slice(0, question);
  }
  let version: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at > rest.indexOf('/')) {
    version = decodeURIComponent(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments.length < 2) throw new InputError(`package URL without a name: ${JSON.stringify(purl)}`, where);
  const parsed: PackageUrl = { type: segments[0]!.toLowerCase(), name: segments[segments.length - 1]!, qualifiers };
  if (segments.length > 2) parsed.namespace = segments.slice(1, -1).join('/');
  if (version !== undefined) parsed.version = version;
  return parsed;
}

/**
 * The installed package a purl describes, or undefined when its type has no OSV ecosystem.
 *
 * @example packageFromPurl(parsePurl('pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12'))
 *   // { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.11-1~deb12u2' }
 */
export function packageFromPurl(purl: PackageUrl, raw: string): InstalledPackage | undefined {
  if (purl.version === undefined) return undefined;
  const base = { name: purl.name, version: purl.version, purl: raw };
  switch (purl.type) {
    case 'npm':
      return { ...base, ecosystem: 'npm', name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    case 'pypi':
      return { ...base, ecosystem: 'PyPI', name: purl.name.toLowerCase().replace(/[-_.]+/g, '-') };
    case 'golang':
      return { ...base, ecosystem: 'Go', name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    case 'maven':
      return { ...base, ecosystem: 'Maven', name: `${purl.namespace ?? ''}:${purl.name}` };
    case 'gem':
      return { ...base, ecosystem: 'RubyGems' };
    case 'cargo':
      return { ...base, ecosystem: 'crates.io' };
    case 'nuget':
      return { ...base, ecosystem: 'NuGet' };
    case 'composer':
      return { ...base, ecosystem: 'Packagist', name: purl.namespace ? `${purl.namespace}/${purl.name}` : purl.name };
    case 'deb':
    case 'rpm':
    case 'apk':
      return osPackageFromPurl(purl, base);
    default:
      return undefined;
  }
}

function osPackageFromPurl(purl: PackageUrl, base: { name: string; version: string; purl: string }): InstalledPackage | undefined {
  const distro = /^([a-z-]+?)-(\d+(?:\.\d+)*)$/i.exec(purl.qualifiers.distro ?? '');
  const id = distro?.[1]?.toLowerCase() ?? purl.namespace?.toLowerCase();
  const ecosystem = distro && id ? osvEcosystemFor({ id, idLike: [], versionId: distro[2]! }) : undefined;
  if (!ecosystem) return undefined;
  const pkg: InstalledPackage = { ...base, ecosystem };
  if (purl.qualifiers.arch) pkg.arch = purl.qualifiers.arch;
  if (purl.type === 'rpm' && purl.qualifiers.epoch && purl.qualifiers.epoch !== '0') pkg.version = `${purl.qualifiers.epoch}:${purl.version}`;
  const upstream = purl.qualifiers.upstream;
  if (upstream) {
    // deb: `upstream=util-linux` or `upstream=util-linux@2.38.1-5`; apk: the origin.
    const [sourceName, sourceVersion] = upstream.split('@');
    if (purl.type === 'rpm') pkg.sourceName = sourceName!.replace(/-[^-]+-[^-]+\.src\.rpm$/, '');
    else pkg.sourceName = sourceName!;
    if (purl.type === 'deb' && sourceVersion) pkg.sourceVersion = sourceVersion;
  }
  return pkg;
}
