/**
 * Turns one host's packages into findings with a state. Kernels are judged on the running kernel
 * (FleetDM and Wazuh users rightly complain about CVEs reported against every kernel on disk): a
 * fixed kernel installed but not booted is `pending-reboot`, a vulnerable kernel that is not
 * running is `not-applicable`.
 */
import type { Advisory } from '../advisories/advisory.js';
import { isKernelPackage, kernelReleaseOf } from '../inventory/kernel.js';
import type { FindingState, InstalledPackage, VersionScheme } from '../types.js';
import type { VersionMatch, VersionMatcher } from './version-matcher.js';

export type DetectedState = Extract<FindingState, 'vulnerable' | 'pending-reboot' | 'not-applicable'>;

/** A finding as detection produces it, before storage adds its history and any accepted risk. */
export interface FindingDraft<P extends InstalledPackage = InstalledPackage> {
  /** The installed package the finding is about. */
  installed: P;
  ecosystem: string;
  packageName: string;
  /** Name advisories key the package by (source package for Debian/Ubuntu, origin for Alpine). */
  sourcePackage: string;
  installedVersion: string;
  advisory: Advisory;
  fixedVersion?: string;
  state: DetectedState;
  /** Why the state is what it is, for anything but plain `vulnerable`. */
  stateReason?: string;
  kernel: boolean;
}

export interface HostPackages<P extends InstalledPackage> {
  packages: P[];
  /** `uname -r`; without it every kernel package on disk is judged as it is. */
  runningKernel?: string;
}

/**
 * @example evaluateHost({ packages, runningKernel: '5.14.0-284.11.1.el9_2.x86_64' }, matcher)
 */
export function evaluateHost<P extends InstalledPackage>(
  host: HostPackages<P>,
  matcher: VersionMatcher,
  schemeFor: (ecosystem: string) => VersionScheme | undefined,
): FindingDraft<P>[] {
  const findings: FindingDraft<P>[] = [];
  const kernelPackages: P[] = [];
  for (const pkg of host.packages) {
    const scheme = schemeFor(pkg.ecosystem);
    if (host.runningKernel !== undefined && scheme !== undefined && isKernelPackage(pkg, scheme)) {
      kernelPackages.push(pkg);
      continue;
    }
    for (const match of matcher.match(pkg)) findings.push(draft(pkg, match, matcher, { state: 'vulnerable', kernel: false }));
  }
  if (kernelPackages.length > 0) findings.push(...evaluateKernels(kernelPackages, host.runningKernel!, matcher, schemeFor));
  return findings;
}

function evaluateKernels<P extends InstalledPackage>(
  kernelPackages: P[],
  runningKernel: string,
  matcher: VersionMatcher,
  schemeFor: (ecosystem: string) => VersionScheme | undefined,
): FindingDraft<P>[] {
  const isRunning = (pkg: P) => kernelReleaseOf(pkg, schemeFor(pkg.ecosystem)!) === runningKernel;
  const running = kernelPackages.filter(isRunning);
  const idle = kernelPackages.filter((pkg) => !isRunning(pkg));
  const findings: FindingDraft<P>[] = [];
  for (const pkg of running) {
    const sourceName = matcher.identityOf(pkg).name;
    const alternatives = idle.filter((other) => matcher.identityOf(other).name === sourceName);
    for (const match of matcher.match(pkg)) {
      const fixedOnDisk = alternatives.find((other) => !matcher.match(other).some((m) => m.advisory.id === match.advisory.id));
      findings.push(
        fixedOnDisk
          ? draft(pkg, match, matcher, {
              state: 'pending-reboot',
              kernel: true,
              stateReason: `fixed kernel ${fixedOnDisk.version} is installed but ${runningKernel} is running`,
            })
          : draft(pkg, match, matcher, { state: 'vulnerable', kernel: true }),
      );
    }
  }
  const reason = running.length > 0
    ? `kernel is installed but not running (running: ${runningKernel})`
    : `kernel is installed but not running; the running kernel ${runningKernel} does not come from an installed package`;
  for (const pkg of idle) {
    for (const match of matcher.match(pkg)) findings.push(draft(pkg, match, matcher, { state: 'not-applicable', kernel: true, stateReason: reason }));
  }
  return findings;
}

const STATE_RANK: Record<DetectedState, number> = { vulnerable: 0, 'pending-reboot': 1, 'not-applicable': 2 };

/**
 * One draft per (advisory, package name), as findings are kept: a package installed for two
 * architectures, or several installed versions of one name (kernels, a library nested twice in a
 * lockfile), meets an advisory once. The most urgent state wins; among equals the lowest installed
 * version, then architecture, so the choice does not depend on the order packages were listed in.
 *
 * @example collapseDrafts(evaluateHost(host, matcher, versionSchemeFor))
 */
export function collapseDrafts<P extends InstalledPackage>(drafts: FindingDraft<P>[]): FindingDraft<P>[] {
  const byKey = new Map<string, FindingDraft<P>>();
  for (const candidate of drafts) {
    const key = `${candidate.advisory.id}\u0000${candidate.packageName}`;
    const kept = byKey.get(key);
    if (!kept || precedes(candidate, kept)) byKey.set(key, candidate);
  }
  return byKey.size === drafts.length ? drafts : [...byKey.values()];
}

function precedes(a: FindingDraft, b: FindingDraft): boolean {
  const rank = STATE_RANK[a.state] - STATE_RANK[b.state];
  if (rank !== 0) return rank < 0;
  if (a.installedVersion !== b.installedVersion) return a.installedVersion < b.installedVersion;
  return (a.installed.arch ?? '') < (b.installed.arch ?? '');
}

interface DraftState {
  state: DetectedState;
  kernel: boolean;
  stateReason?: string;
}

function draft<P extends InstalledPackage>(pkg: P, match: VersionMatch, matcher: VersionMatcher, { state, kernel, stateReason }: DraftState): FindingDraft<P> {
  const finding: FindingDraft<P> = {
    installed: pkg,
    ecosystem: pkg.ecosystem,
    packageName: pkg.name,
    sourcePackage: matcher.identityOf(pkg).name,
    installedVersion: pkg.version,
    advisory: match.advisory,
    state,
    kernel,
  };
  if (match.fixedVersion !== undefined) finding.fixedVersion = match.fixedVersion;
  if (stateReason !== undefined) finding.stateReason = stateReason;
  return finding;
}
