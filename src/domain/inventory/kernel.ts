/**
 * Which installed packages are kernels, and which `uname -r` each one boots as: detection judges
 * kernel advisories on the running kernel, not on every kernel left on disk.
 */
import type { InstalledPackage, VersionScheme } from '../types.js';

const RPM_KERNEL_NAMES = new Set(['kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core', 'kernel-modules-extra', 'kernel-rt', 'kernel-rt-core', 'kernel-uek', 'kernel-uek-core']);
const DPKG_KERNEL_PREFIXES = ['linux-image-', 'linux-modules-', 'linux-modules-extra-'];
/** Debian/Ubuntu meta packages that only depend on the newest kernel: no release of their own. */
const DPKG_RELEASE = /^\d+\.\d+(\.\d+)?-\d+/;
const APK_KERNEL = /^linux-(lts|virt|edge|rpi|rpi4|stable)$/;

/** @example isKernelPackage({ ecosystem: 'Debian:12', name: 'linux-image-6.1.0-18-amd64', version: '6.1.76-1' }, 'dpkg') // true */
export function isKernelPackage(pkg: InstalledPackage, scheme: VersionScheme): boolean {
  return kernelReleaseOf(pkg, scheme) !== undefined;
}

/**
 * The `uname -r` a kernel package boots as, or undefined for anything that is not a kernel.
 *
 * @example kernelReleaseOf({ ecosystem: 'AlmaLinux:9', name: 'kernel-core', version: '5.14.0-284.11.1.el9_2', arch: 'x86_64' }, 'rpm')
 *   // '5.14.0-284.11.1.el9_2.x86_64'
 */
export function kernelReleaseOf(pkg: InstalledPackage, scheme: VersionScheme): string | undefined {
  switch (scheme) {
    case 'dpkg': {
      const prefix = DPKG_KERNEL_PREFIXES.find((candidate) => pkg.name.startsWith(candidate));
      if (!prefix) return undefined;
      const release = pkg.name.slice(prefix.length);
      // linux-image-6.1.0-18-amd64-unsigned boots as 6.1.0-18-amd64 just like its signed twin.
      return DPKG_RELEASE.test(release) && !release.endsWith('-dbg') ? release.replace(/-unsigned$/, '') : undefined;
    }
    case 'rpm': {
      if (!RPM_KERNEL_NAMES.has(pkg.name)) return undefined;
      const versionRelease = pkg.version.replace(/^\d+:/, '');
      return pkg.arch ? `${versionRelease}.${pkg.arch}` : versionRelease;
    }
    case 'apk': {
      const flavor = APK_KERNEL.exec(pkg.name)?.[1];
      if (!flavor) return undefined;
      // linux-lts 6.1.50-r0 boots as 6.1.50-0-lts.
      const match = /^(.+)-r(\d+)$/.exec(pkg.version);
      return match ? `${match[1]}-${match[2]}-${flavor}` : undefined;
    }
    default:
      return undefined;
  }
}
