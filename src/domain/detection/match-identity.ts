/**
 * Says under which (ecosystem, name, version) an installed package meets advisories: Debian and
 * Ubuntu key advisories by source package and source version, Alpine by origin, rpm distributions
 * by binary name, PyPI by the PEP 503 normalised name, Go's toolchain as `stdlib`.
 */
import type { InstalledPackage, VersionScheme } from '../types.js';
import { ecosystemBase } from './ecosystem-key.js';

export interface MatchIdentity {
  ecosystem: string;
  name: string;
  version: string;
}

/**
 * @example matchIdentity({ ecosystem: 'Debian:12', name: 'libuuid1', version: '2.38.1-5+b1',
 *   sourceName: 'util-linux', sourceVersion: '2.38.1-5' }, 'dpkg')
 *   // { ecosystem: 'Debian:12', name: 'util-linux', version: '2.38.1-5' }
 */
export function matchIdentity(pkg: InstalledPackage, scheme: VersionScheme | undefined): MatchIdentity {
  const ecosystem = pkg.ecosystem;
  if (scheme === 'dpkg') return dpkgIdentity(pkg);
  if (scheme === 'apk') return { ecosystem, name: pkg.sourceName ?? pkg.name, version: pkg.version };
  const base = ecosystemBase(ecosystem);
  if (base === 'PyPI') return { ecosystem, name: normalizePypiName(pkg.name), version: pkg.version };
  if (base === 'Go' && (pkg.name === 'go' || pkg.name === 'golang' || pkg.name === 'toolchain')) {
    return { ecosystem, name: 'stdlib', version: pkg.version.replace(/^go/, '') };
  }
  return { ecosystem, name: pkg.name, version: pkg.version };
}

function dpkgIdentity(pkg: InstalledPackage): MatchIdentity {
  const sourceName = pkg.sourceName ?? pkg.name;
  // Kernels are signed in a separate source (Debian `linux-signed-amd64` 6.1.76+1, Ubuntu
  // `linux-signed-hwe-5.15`) whose binaries carry the real kernel version; advisories name the
  // unsigned source (`linux`, `linux-hwe-5.15`), so match that with the binary version.
  if (sourceName.startsWith('linux-signed')) {
    const unsigned = sourceName.replace('-signed', '').replace(DEBIAN_ARCH_SUFFIX, '');
    return { ecosystem: pkg.ecosystem, name: unsigned, version: pkg.version };
  }
  return { ecosystem: pkg.ecosystem, name: sourceName, version: pkg.sourceVersion ?? pkg.version };
}

const DEBIAN_ARCH_SUFFIX = /-(amd64|arm64|armhf|armel|i386|mips64el|ppc64el|riscv64|s390x)$/;

/** PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
