/**
 * The agent ↔ server protocol: what an agent sends on check-in, validated with zod on the server,
 * and the package-list digest both sides compute so an agent can send only what changed (a delta
 * against the list the server already holds).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HostInventory, InstalledPackage } from '../domain/types.js';

export const AGENT_PROTOCOL_VERSION = 1;

const label = z.string().min(1).max(128);

export const installedPackageSchema = z.object({
  ecosystem: z.string().min(1).max(128),
  name: z.string().min(1).max(256),
  version: z.string().max(256),
  arch: z.string().max(32).optional(),
  sourceName: z.string().max(256).optional(),
  sourceVersion: z.string().max(256).optional(),
  epochKnown: z.boolean().optional(),
  purl: z.string().max(1024).optional(),
});

export const osReleaseSchema = z.object({
  id: z.string().min(1).max(64),
  idLike: z.array(z.string().max(64)).max(16),
  versionId: z.string().max(64).optional(),
  versionCodename: z.string().max(64).optional(),
  prettyName: z.string().max(256).optional(),
  cpeName: z.string().max(256).optional(),
});

export const availableUpdateSchema = z.object({
  name: z.string().min(1).max(256),
  arch: z.string().max(32).optional(),
  installedVersion: z.string().max(256).optional(),
  candidateVersion: z.string().min(1).max(256),
  repository: z.string().max(512).optional(),
});

const hostFacts = {
  os: osReleaseSchema.optional(),
  osEcosystem: z.string().max(128).optional(),
  arch: z.string().max(32).optional(),
  runningKernel: z.string().max(256).optional(),
  rebootRequired: z.boolean(),
  bootTime: z.iso.datetime({ offset: true }).optional(),
  bootId: z.string().max(64).optional(),
  labels: z.record(label, z.string().max(256)).default({}),
  agentVersion: z.string().max(64).optional(),
  /** The package manager's pending upgrades (every check-in carries the whole list); absent: not collected. */
  availableUpdates: z.array(availableUpdateSchema).max(100_000).optional(),
  /** Digest of the full package list after this check-in (see `packageListDigest`). */
  packageDigest: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
};

/** A full inventory, sent on first contact and whenever the server asks for one. */
export const fullCheckInSchema = z.object({ kind: z.literal('full'), ...hostFacts, packages: z.array(installedPackageSchema).max(100_000) });

/** Only what changed since the list whose digest is `baseDigest`. */
export const deltaCheckInSchema = z.object({
  kind: z.literal('delta'),
  ...hostFacts,
  baseDigest: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  added: z.array(installedPackageSchema).max(100_000),
  removed: z.array(installedPackageSchema).max(100_000),
});

export const checkInSchema = z.discriminatedUnion('kind', [fullCheckInSchema, deltaCheckInSchema]);
export type CheckIn = z.infer<typeof checkInSchema>;

export const heartbeatSchema = z.object({
  rebootRequired: z.boolean().optional(),
  bootId: z.string().max(64).optional(),
  packageDigest: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const enrollSchema = z.object({
  token: z.string().min(16).max(256),
  hostname: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, 'a host name: letters, digits, ".", "_" and "-"'),
  labels: z.record(label, z.string().max(256)).default({}),
});

/** One line per package, in a fixed field order: the unit of both digests and deltas. */
export function packageLine(pkg: InstalledPackage): string {
  return [pkg.ecosystem, pkg.name, pkg.version, pkg.arch ?? '', pkg.sourceName ?? '', pkg.sourceVersion ?? '', pkg.epochKnown === false ? 'e?' : '', pkg.purl ?? ''].join('\t');
}

/**
 * Order-independent digest of a package list (SHA-256 of the sorted lines, base64url).
 *
 * @example packageListDigest([{ ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2' }])
 */
export function packageListDigest(packages: InstalledPackage[]): string {
  const lines = packages.map(packageLine).sort();
  return createHash('sha256').update(lines.join('\n')).digest('base64url');
}

/** The delta that turns `previous` into `current`. */
export function packageDelta(previous: InstalledPackage[], current: InstalledPackage[]): { added: InstalledPackage[]; removed: InstalledPackage[] } {
  const before = new Map(previous.map((pkg) => [packageLine(pkg), pkg]));
  const after = new Map(current.map((pkg) => [packageLine(pkg), pkg]));
  return {
    added: [...after].filter(([line]) => !before.has(line)).map(([, pkg]) => pkg),
    removed: [...before].filter(([line]) => !after.has(line)).map(([, pkg]) => pkg),
  };
}

/** Applies a delta to a package list (each package's line built once: this runs on every delta). */
export function applyPackageDelta(base: InstalledPackage[], added: InstalledPackage[], removed: InstalledPackage[]): InstalledPackage[] {
  const gone = new Set(removed.map(packageLine));
  const present = new Set<string>();
  const result: InstalledPackage[] = [];
  const keep = (pkg: InstalledPackage, line: string) => {
    if (present.has(line)) return;
    present.add(line);
    result.push(pkg);
  };
  for (const pkg of base) {
    const line = packageLine(pkg);
    if (!gone.has(line)) keep(pkg, line);
  }
  for (const pkg of added) keep(pkg, packageLine(pkg));
  return result;
}

/** The full check-in an agent on this host would send. */
export function fullCheckInOf(host: HostInventory): Extract<CheckIn, { kind: 'full' }> {
  return {
    kind: 'full',
    rebootRequired: host.rebootRequired,
    labels: host.labels,
    packageDigest: packageListDigest(host.packages),
    packages: host.packages,
    ...(host.os ? { os: host.os } : {}),
    ...(host.osEcosystem ? { osEcosystem: host.osEcosystem } : {}),
    ...(host.arch ? { arch: host.arch } : {}),
    ...(host.kernel.running ? { runningKernel: host.kernel.running } : {}),
    ...(host.bootTime ? { bootTime: host.bootTime.toISOString() } : {}),
    ...(host.availableUpdates ? { availableUpdates: host.availableUpdates } : {}),
  };
}
