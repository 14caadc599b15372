/**
 * Debian and Ubuntu release code names and the versions they stand for, so `--distro
 * debian:bookworm` and purl qualifiers such as `distro=jammy` name a release.
 */

const DEBIAN_VERSIONS: Record<string, string> = {
  etch: '4',
  lenny: '5',
  squeeze: '6',
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
};

const UBUNTU_VERSIONS: Record<string, string> = {
  precise: '12.04',
  trusty: '14.04',
  xenial: '16.04',
  bionic: '18.04',
  cosmic: '18.10',
  disco: '19.04',
  eoan: '19.10',
  focal: '20.04',
  groovy: '20.10',
  hirsute: '21.04',
  impish: '21.10',
  jammy: '22.04',
  kinetic: '22.10',
  lunar: '23.04',
  mantic: '23.10',
  noble: '24.04',
  oracular: '24.10',
  plucky: '25.04',
  questing: '25.10',
};

export interface CodenameRelease {
  id: 'debian' | 'ubuntu';
  versionId: string;
}

/**
 * @example releaseOfCodename('bookworm') // { id: 'debian', versionId: '12' }
 * @example releaseOfCodename('jammy') // { id: 'ubuntu', versionId: '22.04' }
 */
export function releaseOfCodename(codename: string): CodenameRelease | undefined {
  const lower = codename.toLowerCase();
  const debian = Object.hasOwn(DEBIAN_VERSIONS, lower) ? DEBIAN_VERSIONS[lower] : undefined;
  if (debian !== undefined) return { id: 'debian', versionId: debian };
  const ubuntu = Object.hasOwn(UBUNTU_VERSIONS, lower) ? UBUNTU_VERSIONS[lower] : undefined;
  if (ubuntu !== undefined) return { id: 'ubuntu', versionId: ubuntu };
  return undefined;
}
