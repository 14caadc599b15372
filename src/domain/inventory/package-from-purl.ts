/**
 * Turns an SBOM component's purl into an installed package of the OSV ecosystem its advisories
 * use, so SBOM components meet the same advisories as host packages; says why when it cannot.
 */
import type { InstalledPackage, OsRelease, VersionScheme } from '../types.js';
import { releaseOfCodename } from './distro-codename.js';
import { normalizeDistroId } from './distro-flag.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import type { PackageUrl } from './purl.js';
import { versionSchemeFor } from './version-scheme.js';

export type PurlSkipReason = 'no-version' | 'unsupported-type' | 'unknown-distro';

export type PurlOutcome = { package: InstalledPackage } | { skipped: PurlSkipReason };

/** What the SBOM says around the purl. */
export interface PurlContext {
  /** Ecosystem for OS purls without a usable `distro` qualifier: the SBOM's OS component, or the caller's. */
  fallbackOsEcosystem?: string;
  /** Source package from tool-specific fields (trivy's `SrcName`/`SrcVersion`, SPDX `sourceInfo`). */
  source?: { name: string; version?: string };
}

const OS_TYPE_SCHEMES: Record<string, VersionScheme> = { deb: 'dpkg', rpm: 'rpm', apk: 'apk' };

/**
 * Language types map to their OSV ecosystem with OSV's name spelling: npm `@scope/name`, PyPI
 * PEP 503 normalised, Go `module/path` without the `v` of the version, Maven `group:artifact`,
 * Packagist `vendor/name`. OS types (`deb`, `rpm`, `apk`) take their release from the `distro`
 * qualifier, their epoch from `epoch` and their source package from `upstream`.
 *
 * @example packageFromPurl(parsePurl('pkg:pypi/Django@4.2.1'), 'pkg:pypi/Django@4.2.1')
 *   // { package: { ecosystem: 'PyPI', name: 'django', version: '4.2.1', purl: 'pkg:pypi/Django@4.2.1' } }
 */
export function packageFromPurl(purl: PackageUrl, raw: string, context: PurlContext = {}): PurlOutcome {
  if (purl.version === undefined) return { skipped: 'no-version' };
  const scoped = purl.namespace === undefined ? purl.name : `${purl.namespace}/${purl.name}`;
  const language = (ecosystem: string, name: string, version = purl.version!): PurlOutcome => ({ package: { ecosystem, name, version, purl: raw } });
  switch (purl.type) {
    case 'npm':
      return language('npm', scoped);
    case 'pypi':
      return language('PyPI', purl.name.toLowerCase().replace(/[-_.]+/g, '-'));
    case 'golang':
      return language('Go', scoped, purl.version.replace(/^v(?=\d)/, ''));
    case 'maven':
      return language('Maven', purl.namespace === undefined ? purl.name : `${purl.namespace}:${purl.name}`);
    case 'gem':
      return language('RubyGems', purl.name);
    case 'cargo':
      return language('crates.io', purl.name);
    case 'nuget':
      return language('NuGet', purl.name);
    case 'composer':
      return language('Packagist', scoped);
    case 'deb':
    case 'rpm':
    case 'apk':
      return osPackage(purl, purl.version, raw, context);
    default:
      return { skipped: 'unsupported-type' };
  }
}

function osPackage(purl: PackageUrl, purlVersion: string, raw: string, context: PurlContext): PurlOutcome {
  const fromDistro = purl.qualifiers.distro === undefined ? undefined : distroRelease(purl.qualifiers.distro, purl.namespace);
  const fallback = context.fallbackOsEcosystem;
  const ecosystem =
    (fromDistro && osvEcosystemFor(fromDistro)) ??
    (fallback !== undefined && versionSchemeFor(fallback) === OS_TYPE_SCHEMES[purl.type] ? fallback : undefined);
  if (ecosystem === undefined) return { skipped: 'unknown-distro' };

  const epoch = purl.qualifiers.epoch;
  const version = epoch !== undefined && epoch !== '0' && !purlVersion.includes(':') ? `${epoch}:${purlVersion}` : purlVersion;
  const pkg: InstalledPackage = { ecosystem, name: purl.name, version, purl: raw };
  if (purl.qualifiers.arch) pkg.arch = purl.qualifiers.arch;
  // syft and trivy write the epoch qualifier whenever the epoch is not 0, so its absence means 0.
  if (purl.type === 'rpm') pkg.epochKnown = true;

  const source = upstreamSource(purl) ?? context.source;
  if (source && source.name !== '' && (source.name !== pkg.name || source.version !== undefined)) {
    pkg.sourceName = source.name;
    if (purl.type === 'deb' && source.version !== undefined && source.version !== pkg.version) pkg.sourceVersion = source.version;
  }
  return { package: pkg };
}

/**
 * `upstream` qualifier: deb `util-linux` or `util-linux@2.38.1-5` (syft), rpm the source rpm file
 * name `bash-5.1.8-6.el9_1.src.rpm`, apk the origin.
 */
function upstreamSource(purl: PackageUrl): { name: string; version?: string } | undefined {
  const upstream = purl.qualifiers.upstream;
  if (upstream === undefined) return undefined;
  if (purl.type === 'rpm') {
    const nvr = upstream.replace(/\.(?:no)?src\.rpm$/, '');
    if (nvr === upstream) return { name: upstream };
    const match = /^(.+)-[^-]+-[^-]+$/.exec(nvr);
    return match ? { name: match[1]! } : undefined;
  }
  const at = upstream.indexOf('@');
  return at === -1 ? { name: upstream } : { name: upstream.slice(0, at), version: upstream.slice(at + 1) };
}

/**
 * The `distro` qualifier as a release: `debian-12`, `debian-12.4`, `ubuntu-22.04`, `alpine-3.18.4`,
 * `almalinux-9.2`, `alma-9.2`, `rocky-9.2`, `redhat-9.2`, `opensuse-leap-15.5`, a code name
 * (`bookworm`, `jammy`), or a bare version (trivy's apk `distro=3.18.4`) with the id from the
 * purl namespace.
 */
function distroRelease(distro: string, namespace: string | undefined): OsRelease | undefined {
  const match = /^(?:(.*?)-)?v?(\d+(?:\.\d+)*)$/i.exec(distro.trim());
  if (match) {
    const id = normalizeDistroId(match[1] ?? namespace ?? '');
    return id === '' ? undefined : { id, idLike: [], versionId: match[2]! };
  }
  const codename = releaseOfCodename(distro);
  return codename ? { id: codename.id, idLike: [], versionId: codename.versionId } : undefined;
}
