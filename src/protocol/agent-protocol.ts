/**
 * The agent ↔ server protocol: what an agent sends on check-in, validated with zod on the server,
 * and the package-list digest both sides compute so an agent can send only what changed (a delta
 * against the list the server already holds).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { hostNameSchema } from '../domain/host-name.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { versionProblem } from '../domain/versions/index.js';
import { isoDateTime, wellFormedString } from '../domain/well-formed-text.js';

export const AGENT_PROTOCOL_VERSION = 1;

// Every string an agent sends passes the one well-formed-text rule (no NUL, lone surrogates or
// control characters): refused here with a 400 naming the field, never stored, never a 500.
const text = (max: number, min = 0) => wellFormedString({ min, max });

/** Label keys and values; at most 64 labels, so one host cannot grow every label index. */
export const labelsSchema = z.record(text(128, 1), text(256)).refine((labels) => Object.keys(labels).length <= 64, 'at most 64 labels');

export const installedPackageSchema = z
  .object({
    ecosystem: text(128, 1),
    name: text(256, 1),
    version: text(256),
    arch: text(32).optional(),
    sourceName: text(256).optional(),
    sourceVersion: text(256).optional(),
    epochKnown: z.boolean().optional(),
    purl: text(1024).optional(),
  })
  .superRefine((pkg, context) => {
    // A version its ecosystem's own tool would refuse can never be compared correctly.
    const scheme = versionSchemeFor(pkg.ecosystem);
    if (scheme === undefined) return;
    const problem = versionProblem(scheme, pkg.version);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['version'], message: problem });
    const sourceProblem = pkg.sourceVersion === undefined || pkg.sourceVersion === '' ? undefined : versionProblem(scheme, pkg.sourceVersion);
    if (sourceProblem !== undefined) context.addIssue({ code: 'custom', path: ['sourceVersion'], message: sourceProblem });
  });

export const osReleaseSchema = z.object({
  id: text(64, 1),
  idLike: z.array(text(64)).max(16),
  versionId: text(64).optional(),
  versionCodename: text(64).optional(),
  prettyName: text(256).optional(),
  cpeName: text(256).optional(),
});

export const availableUpdateSchema = z.object({
  name: text(256, 1),
  arch: text(32).optional(),
  installedVersion: text(256).optional(),
  candidateVersion: text(256, 1),
  repository: text(512).optional(),
});

const digestSchema = z.string().max(43).regex(/^[A-Za-z0-9_-]{43}$/, 'a package-list digest: 43 base64url characters');

const hostFacts = {
  os: osReleaseSchema.optional(),
  osEcosystem: text(128).optional(),
  arch: text(32).optional(),
  runningKernel: text(256).optional(),
  rebootRequired: z.boolean(),
  bootTime: isoDateTime.max(64).meta({ format: 'date-time' }).optional(),
  bootId: text(64).optional(),
  labels: labelsSchema.default({}),
  agentVersion: text(64).optional(),
  /** The package manager's pending upgrades (every check-in carries the whole list); absent: not collected. */
  availableUpdates: z.array(availableUpdateSchema).max(100_000).optional(),
  /** Digest of the full package list after this check-in (see `packageListDigest`). */
  packageDigest: digestSchema,
};

/** A full inventory, sent on first contact and whenever the server asks for one. */
export const fullCheckInSchema = z.object({ kind: z.literal('full'), ...hostFacts, packages: z.array(installedPackageSchema).max(100_000) });

/** Only what changed since the list whose digest is `baseDigest`. */
export const deltaCheckInSchema = z.object({
  kind: z.literal('delta'),
  ...hostFacts,
  baseDigest: digestSchema,
  added: z.array(installedPackageSchema).max(100_000),
  removed: z.array(installedPackageSchema).max(100_000),
});

export const checkInSchema = z.discriminatedUnion('kind', [fullCheckInSchema, deltaCheckInSchema]);
export type CheckIn = z.infer<typeof checkInSchema>;

export const heartbeatSchema = z.object({
  rebootRequired: z.boolean().optional(),
  bootId: text(64).optional(),
  packageDigest: digestSchema.optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const enrollSchema = z.object({
  token: text(256, 16),
  hostname: hostNameSchema,
  labels: labelsSchema.default({}),
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
