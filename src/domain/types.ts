/**
 * The shared vocabulary of the pipeline (inventory → detection → prioritization → …).
 *
 * Glossary
 * - host: one machine (VM, node, physical box, container image) that fleetpatch knows by name.
 * - inventory: what a host runs: OS release, installed packages, kernels, reboot state.
 * - ecosystem: an OSV ecosystem string naming where versions come from and how they compare,
 *   e.g. `Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.18`, `AlmaLinux:9`, `npm`, `PyPI`, `Go`.
 * - advisory: one OSV record (ALSA-…, DSA-…, GHSA-…, CVE-…); `aliases` carry the CVE ids.
 * - finding: (host, package, advisory) with installed and fixed versions and a state.
 * - distinct version: one (ecosystem, package name, version) tuple; a fleet shares most of them,
 *   so detection evaluates each distinct version once, never host × package.
 */

/** How versions of an ecosystem are ordered; each family has one comparator in `domain/versions`. */
export type VersionScheme = 'dpkg' | 'rpm' | 'apk' | 'semver' | 'pypi';

/** One installed package, as an inventory parser reports it. */
export interface InstalledPackage {
  /** OSV ecosystem of this package, e.g. `Debian:12`, `npm`. */
  ecosystem: string;
  /** Binary package name (dpkg `Package:`, rpm `%{NAME}`, apk `P:`, purl name). */
  name: string;
  /**
   * Full version as the ecosystem's tool prints it. For rpm: `[epoch:]version-release`, with the
   * epoch present whenever it is known and non-zero.
   */
  version: string;
  arch?: string;
  /**
   * The name advisories key this package by when it differs from `name`: dpkg `Source:`,
   * apk origin (`o:`), rpm source rpm name.
   */
  sourceName?: string;
  /** dpkg `Source: name (version)` when the source version differs from the binary one. */
  sourceVersion?: string;
  /**
   * rpm only: false when the inventory could not say the epoch (plain `rpm -qa` drops it);
   * the matcher then applies the documented missing-epoch rule instead of assuming 0.
   */
  epochKnown?: boolean;
  /** Package URL, when the inventory came from an SBOM. */
  purl?: string;
}

/** Parsed `/etc/os-release`. */
export interface OsRelease {
  id: string;
  idLike: string[];
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  cpeName?: string;
}

export interface KernelState {
  /** `uname -r` of the running kernel. */
  running?: string;
  /** Kernel package versions installed on disk (names and versions as the package manager has them). */
  installed: InstalledPackage[];
}

/** Everything fleetpatch knows about one host at one moment. */
export interface HostInventory {
  hostname: string;
  os?: OsRelease;
  /** OSV ecosystem of the OS packages (derived from `os`), e.g. `Debian:12`. */
  osEcosystem?: string;
  arch?: string;
  packages: InstalledPackage[];
  kernel: KernelState;
  /** True when the OS says a reboot is needed (`/var/run/reboot-required`, needs-restarting -r). */
  rebootRequired: boolean;
  bootTime?: Date;
  labels: Record<string, string>;
  /** What the package manager would upgrade now; undefined when not collected (an SBOM, a mounted image). */
  availableUpdates?: AvailableUpdate[];
}

/** An upgrade the host's package manager offers for an installed package. */
export interface AvailableUpdate {
  name: string;
  arch?: string;
  installedVersion?: string;
  candidateVersion: string;
  /** Where the candidate comes from, as the package manager names it (e.g. `Debian-Security:12/stable-security`). */
  repository?: string;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'none' | 'unknown';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'none', 'unknown'];

/**
 * Finding states.
 * - vulnerable: the installed (or, for kernels, running) version is affected.
 * - pending-reboot: a fixed kernel is on disk but the running kernel is still affected.
 * - fixed: a previously open finding whose package is now at or past the fix (kept for time-to-patch).
 * - accepted: risk accepted by a person, with a reason and an expiry.
 * - not-applicable: judged not to apply to this host (e.g. a kernel package that is not running).
 */
export const FINDING_STATES = ['vulnerable', 'pending-reboot', 'fixed', 'accepted', 'not-applicable'] as const;
export type FindingState = (typeof FINDING_STATES)[number];
