/**
 * A package URL (purl) for a stored package: how VEX documents name the component a statement is
 * about. OS packages carry their distribution as the `distro` qualifier, as syft and grype write it.
 */

const OS_TYPES: Array<{ prefix: string; type: string; namespace: string; distro: (release: string) => string }> = [
  { prefix: 'Debian', type: 'deb', namespace: 'debian', distro: (release) => `debian-${release}` },
  { prefix: 'Ubuntu', type: 'deb', namespace: 'ubuntu', distro: (release) => `ubuntu-${release.replace(/:LTS$/, '')}` },
  { prefix: 'Alpine', type: 'apk', namespace: 'alpine', distro: (release) => `alpine-${release.replace(/^v/, '')}` },
  { prefix: 'Red Hat', type: 'rpm', namespace: 'redhat', distro: (release) => `rhel-${release.split(':').at(-1) ?? release}` },
  { prefix: 'Rocky Linux', type: 'rpm', namespace: 'rocky', distro: (release) => `rocky-${release}` },
  { prefix: 'AlmaLinux', type: 'rpm', namespace: 'almalinux', distro: (release) => `almalinux-${release}` },
  { prefix: 'openSUSE', type: 'rpm', namespace: 'opensuse', distro: (release) => `opensuse-${release.toLowerCase().replaceAll(' ', '-')}` },
  { prefix: 'SUSE', type: 'rpm', namespace: 'suse', distro: (release) => `sles-${release.toLowerCase().replaceAll(' ', '-')}` },
];
const LANGUAGE_TYPES: Record<string, string> = { npm: 'npm', PyPI: 'pypi', Go: 'golang', 'crates.io': 'cargo', Maven: 'maven', RubyGems: 'gem', NuGet: 'nuget', Packagist: 'composer' };

/** Percent-encodes what a purl segment may not hold (`:` of an epoch, `+`, spaces). */
const segment = (text: string) => encodeURIComponent(text).replaceAll('%2F', '/');

/**
 * @example packageUrl('Debian:12', 'openssl', '3.0.15-1~deb12u1') // 'pkg:deb/debian/openssl@3.0.15-1~deb12u1?distro=debian-12'
 * @example packageUrl('npm', '@babel/core', '7.24.0') // 'pkg:npm/%40babel/core@7.24.0'
 */
export function packageUrl(ecosystem: string, name: string, version: string): string {
  const separator = ecosystem.indexOf(':');
  const family = separator === -1 ? ecosystem : ecosystem.slice(0, separator);
  const os = OS_TYPES.find((candidate) => candidate.prefix === family);
  if (os && separator !== -1) return `pkg:${os.type}/${os.namespace}/${segment(name)}@${segment(version)}?distro=${segment(os.distro(ecosystem.slice(separator + 1)))}`;
  const type = LANGUAGE_TYPES[ecosystem] ?? 'generic';
  return `pkg:${type}/${segment(name)}@${segment(version)}`;
}
