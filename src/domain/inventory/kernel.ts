/**
 * Which installed packages belong to a kernel, and which `uname -r` that kernel boots as: detection
 * judges kernel advisories on the running kernel, not on every kernel left on disk.
 */
import type { InstalledPackage, VersionScheme } from '../types.js';

/**
 * Debian/Ubuntu packages built per kernel release, longest prefix first. Besides the image, Ubuntu
 * ships modules separately, and headers follow their kernel too: all of them are judged with it.
 */
const DPKG_KERNEL_PREFIXES = ['linux-image-unsigned-', 'linux-image-', 'linux-modules-extra-', 'linux-modules-', 'linux-headers-'];
/** Debug symbols and the arch-independent headers (`linux-headers-6.1.0-18-common`) boot as nothing. */
const DPKG_NOT_BOOTABLE_SUFFIXES = ['-dbg', '-dbgsym', '-common'];

/**
 * rpm kernel package names and the suffix their flavour adds to `uname -r`
 * (`5.14.0-284.11.1.el9_2.x86_64+debug`). `kernel` is the image on EL7 and a meta package depending
 * on `kernel-core` and `kernel-modules` since EL8; `kernel-devel` follows its kernel like Debian's
 * headers. `kernel-headers`, `kernel-tools` and `kernel-srpm-macros` are ordinary packages.
 */
const RPM_KERNEL_FLAVOURS = new Map<string, string>();
for (const [flavour, unameSuffix] of [['', ''], ['-debug', '+debug'], ['-64k', '+64k'], ['-rt', ''], ['-rt-debug', '+debug'], ['-uek', '']] as const) {
  for (const part of ['', '-core', '-modules', '-modules-core', '-modules-extra', '-devel']) RPM_KERNEL_FLAVOURS.set(`kernel${flavour}${part}`, unameSuffix);
}

/** Alpine kernel flavours; `linux-lts` 6.1.50-r0 boots as `6.1.50-0-lts`. */
const APK_KERNEL = /^linux-(lts|virt|edge|rpi|rpi4|stable)(-dev)?$/;

/** @example isKernelPackage({ ecosystem: 'Debian:12', name: 'linux-image-6.1.0-18-amd64', version: '6.1.76-1' }, 'dpkg') // true */
export function isKernelPackage(pkg: InstalledPackage, scheme: VersionScheme): boolean {
  return kernelReleaseOf(pkg, scheme) !== undefined;
}

/**
 * The `uname -r` a kernel package belongs to, or undefined for anything that is not a kernel
 * package (including meta packages such as `linux-image-amd64` that only depend on the newest one).
 *
 * @example kernelReleaseOf({ ecosystem: 'AlmaLinux:9', name: 'kernel-core', version: '5.14.0-284.11.1.el9_2', arch: 'x86_64' }, 'rpm')
 *   // '5.14.0-284.11.1.el9_2.x86_64'
 * @example kernelReleaseOf({ ecosystem: 'Alpine:v3.18', name: 'linux-lts', version: '6.1.50-r0' }, 'apk') // '6.1.50-0-lts'
 */
export function kernelReleaseOf(pkg: InstalledPackage, scheme: VersionScheme): string | undefined {
  switch (scheme) {
    case 'dpkg':
      return dpkgKernelRelease(pkg.name);
    case 'rpm': {
      const unameSuffix = RPM_KERNEL_FLAVOURS.get(pkg.name);
      if (unameSuffix === undefined) return undefined;
      const versionRelease = pkg.version.replace(/^\d+:/, '');
      return `${versionRelease}${pkg.arch ? `.${pkg.arch}` : ''}${unameSuffix}`;
    }
    case 'apk': {
      const flavour = APK_KERNEL.exec(pkg.name)?.[1];
      const revision = pkg.version.lastIndexOf('-r');
      if (flavour === undefined || revision <= 0) return undefined;
      return `${pkg.version.slice(0, revision)}-${pkg.version.slice(revision + 2)}-${flavour}`;
    }
    default:
      return undefined;
  }
}

function dpkgKernelRelease(name: string): string | undefined {
  const prefix = DPKG_KERNEL_PREFIXES.find((candidate) => name.startsWith(candidate));
  if (prefix === undefined) return undefined;
  let release = name.slice(prefix.length);
  // Meta packages name a flavour (`amd64`, `generic`, `generic-hwe-22.04`); releases start with digits.
  if (!/^\d+\.\d+/.test(release) || DPKG_NOT_BOOTABLE_SUFFIXES.some((suffix) => release.endsWith(suffix))) return undefined;
  // Debian's linux-image-6.1.0-18-amd64-unsigned boots as 6.1.0-18-amd64 like its signed twin.
  if (release.endsWith('-unsigned')) release = release.slice(0, -'-unsigned'.length);
  return release;
}

/**
 * The package that installed the running kernel: among the packages of that release, the one
 * holding the kernel image (`linux-image-*`, `kernel-core`, then `kernel`), else any of them.
 * Undefined when the running kernel came from no installed package (a custom or removed kernel).
 *
 * @example runningKernelPackage(packages, '6.1.0-18-amd64', 'dpkg')?.name // 'linux-image-6.1.0-18-amd64'
 */
export function runningKernelPackage<P extends InstalledPackage>(packages: readonly P[], runningRelease: string, scheme: VersionScheme): P | undefined {
  let best: P | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const pkg of packages) {
    if (kernelReleaseOf(pkg, scheme) !== runningRelease) continue;
    const rank = imageRank(pkg.name);
    if (rank < bestRank) {
      best = pkg;
      bestRank = rank;
    }
  }
  return best;
}

function imageRank(name: string): number {
  if (name.startsWith('linux-image-') || /^kernel(-debug|-64k|-rt|-rt-debug|-uek)?-core$/.test(name) || /^linux-[a-z0-9]+$/.test(name)) return 0;
  if (/^kernel(-debug|-64k|-rt|-rt-debug|-uek)?$/.test(name)) return 1;
  if (name.includes('modules')) return 2;
  return 3;
}
