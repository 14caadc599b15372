// Kernel packages and the uname -r they boot as, per package family; the package behind the running kernel.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import type { InstalledPackage, VersionScheme } from '../types.js';
import { isKernelPackage, kernelReleaseOf, runningKernelPackage } from './kernel.js';
import { parseDpkgStatus } from './dpkg-status.js';
import { parseRpmQa } from './rpm-qa.js';

const pkg = (name: string, version: string, arch?: string): InstalledPackage => ({ ecosystem: 'x', name, version, ...(arch === undefined ? {} : { arch }) });

describe('kernelReleaseOf', () => {
  it.each<[InstalledPackage, VersionScheme, string | undefined]>([
    [pkg('linux-image-6.1.0-18-amd64', '6.1.76-1', 'amd64'), 'dpkg', '6.1.0-18-amd64'],
    [pkg('linux-image-6.1.0-18-cloud-amd64', '6.1.76-1'), 'dpkg', '6.1.0-18-cloud-amd64'],
    [pkg('linux-image-6.1.0-18-amd64-unsigned', '6.1.76-1'), 'dpkg', '6.1.0-18-amd64'],
    [pkg('linux-image-5.15.0-91-generic', '5.15.0-91.101'), 'dpkg', '5.15.0-91-generic'],
    [pkg('linux-image-unsigned-5.15.0-91-generic', '5.15.0-91.101'), 'dpkg', '5.15.0-91-generic'],
    [pkg('linux-modules-5.15.0-91-generic', '5.15.0-91.101'), 'dpkg', '5.15.0-91-generic'],
    [pkg('linux-modules-extra-5.15.0-91-generic', '5.15.0-91.101'), 'dpkg', '5.15.0-91-generic'],
    [pkg('linux-headers-6.1.0-18-amd64', '6.1.76-1'), 'dpkg', '6.1.0-18-amd64'],
    [pkg('linux-headers-6.1.0-18-common', '6.1.76-1'), 'dpkg', undefined],
    [pkg('linux-image-6.1.0-18-amd64-dbg', '6.1.76-1'), 'dpkg', undefined],
    [pkg('linux-image-amd64', '6.1.76-1'), 'dpkg', undefined],
    [pkg('linux-image-generic', '5.15.0.91.88'), 'dpkg', undefined],
    [pkg('linux-image-generic-hwe-22.04', '6.5.0.17.17~22.04.9'), 'dpkg', undefined],
    [pkg('linux-libc-dev', '6.1.76-1'), 'dpkg', undefined],
    [pkg('kernel-core', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', '5.14.0-284.11.1.el9_2.x86_64'],
    [pkg('kernel', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', '5.14.0-284.11.1.el9_2.x86_64'],
    [pkg('kernel-modules-extra', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', '5.14.0-284.11.1.el9_2.x86_64'],
    [pkg('kernel-debug-core', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', '5.14.0-284.11.1.el9_2.x86_64+debug'],
    [pkg('kernel-64k-core', '5.14.0-284.11.1.el9_2', 'aarch64'), 'rpm', '5.14.0-284.11.1.el9_2.aarch64+64k'],
    [pkg('kernel-rt-core', '5.14.0-284.11.1.rt14.296.el9_2', 'x86_64'), 'rpm', '5.14.0-284.11.1.rt14.296.el9_2.x86_64'],
    [pkg('kernel-uek', '5.15.0-200.131.27.el9uek', 'x86_64'), 'rpm', '5.15.0-200.131.27.el9uek.x86_64'],
    [pkg('kernel-headers', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', undefined],
    [pkg('kernel-tools', '5.14.0-284.11.1.el9_2', 'x86_64'), 'rpm', undefined],
    [pkg('kernel-srpm-macros', '1.0-12.el9', 'noarch'), 'rpm', undefined],
    [pkg('linux-lts', '6.1.50-r0', 'x86_64'), 'apk', '6.1.50-0-lts'],
    [pkg('linux-virt', '6.1.62-r0'), 'apk', '6.1.62-0-virt'],
    [pkg('linux-edge', '6.5.7-r1'), 'apk', '6.5.7-1-edge'],
    [pkg('linux-firmware', '20230515-r6'), 'apk', undefined],
    [pkg('linux-headers', '6.3-r0'), 'apk', undefined],
    [pkg('linux-image-6.1.0-18-amd64', '6.1.76-1'), 'semver', undefined],
  ])('%o (%s) → %s', (kernelPackage, scheme, release) => {
    expect(kernelReleaseOf(kernelPackage, scheme)).toBe(release);
    expect(isKernelPackage(kernelPackage, scheme)).toBe(release !== undefined);
  });
});

describe('runningKernelPackage', () => {
  it('picks the image package of the running release among modules and older kernels', () => {
    const packages = [
      pkg('linux-modules-5.15.0-91-generic', '5.15.0-91.101'),
      pkg('linux-image-5.15.0-88-generic', '5.15.0-88.98'),
      pkg('linux-image-5.15.0-91-generic', '5.15.0-91.101'),
      pkg('linux-image-generic', '5.15.0.91.88'),
    ];
    expect(runningKernelPackage(packages, '5.15.0-91-generic', 'dpkg')?.name).toBe('linux-image-5.15.0-91-generic');
    expect(runningKernelPackage(packages, '6.8.0-custom', 'dpkg')).toBeUndefined();
  });

  it('finds kernel-core of the running kernel in the real AlmaLinux 9.2 list', () => {
    const packages = parseRpmQa(readFileSync(sharedData('inventories/almalinux-9.2-rpm-qa.txt'), 'utf8'), 'rpm-qa', 'AlmaLinux:9').packages;
    const kernels = packages.filter((candidate) => isKernelPackage(candidate, 'rpm')).map((candidate) => candidate.name);
    expect(kernels.sort()).toEqual(['kernel', 'kernel-core', 'kernel-devel', 'kernel-modules', 'kernel-modules-core']);
    expect(runningKernelPackage(packages, '5.14.0-284.11.1.el9_2.x86_64', 'rpm')?.name).toBe('kernel-core');
  });

  it('finds no kernel in the real Debian 12 container image, whose host kernel comes from elsewhere', () => {
    const packages = parseDpkgStatus(readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'), 'dpkg-status', 'Debian:12').packages;
    const uname = readFileSync(sharedData('inventories/debian12-node-image/uname-r'), 'utf8').trim();
    expect(packages.filter((candidate) => isKernelPackage(candidate, 'dpkg'))).toEqual([]);
    expect(runningKernelPackage(packages, uname, 'dpkg')).toBeUndefined();
  });
});
