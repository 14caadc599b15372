/**
 * Keeps the advisory index in memory and turns inventories into stored findings. Hosts that share
 * a package set (and running kernel) are evaluated once; every package version is matched once for
 * the whole fleet; only findings that changed are written. The index follows the database, not
 * this process: other replicas and the CLI import advisories too, so every evaluation first takes
 * the advisory lock and catches up with the generation committed (`holdCurrentAdvisories`).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Advisory } from '../domain/advisories/advisory.js';
import { AdvisoryIndex } from '../domain/detection/advisory-index.js';
import { collapseDrafts, evaluateHost, type FindingDraft } from '../domain/detection/host-findings.js';
import { VersionMatcher } from '../domain/detection/version-matcher.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { InstalledPackage } from '../domain/types.js';
import { loadAdvisories, lockAdvisoriesShared, type StoredAdvisory } from '../store/advisory-store.js';
import type { ChangeListener } from '../store/change-notifications.js';
import type { DatedUpdate, FirstSightings } from '../store/available-update-store.js';
import { loadFindingDigests, mergeFindings, nothingMerged, type HostFindingSummary, type MergeCounts, type StagedFinding } from '../store/finding-store.js';
import { loadHosts, loadPackageSets, loadPackageVersions, type StoredPackageVersion } from '../store/inventory-store.js';
import { replacePackageMatches } from '../store/match-store.js';
import { PackageCatalog, type PackageCatalogOptions } from '../store/package-catalog.js';

export interface EvaluationReport extends MergeCounts {
  hosts: number;
  /** Hosts whose findings differed from what was stored (only these were written). */
  hostsChanged: number;
  packageInstances: number;
  distinctVersions: number;
  /** Open findings (vulnerable or pending reboot) of the evaluated hosts, as their summaries count them. */
  findings: number;
  /** Each evaluated host's own open findings, opened and resolved (a batch of check-ins answers each with its own). */
  byHost: Map<number, { findings: number; opened: number; resolved: number }>;
  seconds: { load: number; match: number; write: number };
}

/** One host to evaluate: its packages (stored, keyed) and what decides kernel findings. */
export interface HostToEvaluate {
  hostKey: number;
  packages: StoredPackageVersion[];
  runningKernel?: string;
  /** Decides whether a fix that left the findings is `fixed` or still `pending-reboot`. */
  rebootRequired: boolean;
  /** Hosts with the same package set and running kernel share one evaluation. */
  packageSetKey?: number;
  /** The findings digest stored for the host, when the caller has already read it (null: none). */
  storedDigest?: string | null;
  /** Upgrades the host's package manager offers; those no open finding covers count as open fixes too. */
  availableUpdates?: DatedUpdate[];
}

export type ProgressListener = (message: string) => void;

interface EvaluatedGroup {
  /** One per (advisory, package name): the findings rows to write. */
  drafts: FindingDraft<StoredPackageVersion>[];
  /** Of those, the open ones (vulnerable or pending reboot), as the summary counts them. */
  openFindings: number;
  summary: HostFindingSummary;
  /** Packages whose fixes the summary already counts (open findings with a fixed version). */
  packagesWithOpenFixes: Set<string>;
}

const DAY_MS = 86_400_000;
/** Bounds of the per-process caches beside the catalog: the oldest entries go first. */
const MAX_STORED_MATCHES = 500_000;
const MAX_FIRST_SIGHTINGS = 200_000;

export class DetectionService {
  readonly index = new AdvisoryIndex();
  private readonly packageCatalog: PackageCatalog;
  /**
   * When the fleet first saw each candidate version (committed rows of `update_first_seen`). A
   * sighting only moves earlier, and only when an import is dated in the past (a backfill): a
   * replica remembering a later one dates that update from it until the entry ages out.
   */
  readonly firstSightings: FirstSightings = new Map();
  private readonly matcher = new VersionMatcher(this.index, versionSchemeFor);
  private readonly advisoryKeys = new Map<string, number>();
  /**
   * Package versions whose current matches are already in `package_version_matches`. Another
   * process may rewrite them, but only with what this one would write: whoever writes holds the
   * advisory lock at the same generation. Cleared whenever the index changes.
   */
  private readonly storedMatches = new Set<number>();
  /** The advisory generation the index holds: every advisory written by imports up to it. */
  private loadedGeneration = 0;
  private catchingUp: Promise<void> | undefined;

  /** Which package versions and sets are stored (a cache of immutable rows). */
  get catalog(): PackageCatalog {
    return this.packageCatalog;
  }

  /**
   * Forgets which versions' matches are stored; called when a transaction that may have written
   * them rolls back. (The package catalog holds committed rows only; see `CatalogStage`.)
   */
  discardRowCaches(): void {
    this.storedMatches.clear();
  }

  constructor(catalogOptions?: PackageCatalogOptions) {
    this.packageCatalog = new PackageCatalog(catalogOptions);
  }

  /** Builds the service from every advisory stored in the database. */
  static async load(db: pg.Pool | pg.PoolClient, catalogOptions?: PackageCatalogOptions): Promise<DetectionService> {
    const service = new DetectionService(catalogOptions);
    service.addAdvisories(await loadAdvisories(db));
    return service;
  }

  /** The advisory generation the index holds. */
  get generation(): number {
    return this.loadedGeneration;
  }

  /**
   * Forgets everything and reloads the advisories the database holds (after a rolled-back import,
   * whose advisories the index already held).
   */
  async reload(db: pg.Pool | pg.PoolClient): Promise<void> {
    const stored = await loadAdvisories(db);
    const storedIds = new Set(stored.map(({ advisory }) => advisory.id));
    for (const advisory of [...this.index.advisories()].filter((candidate) => !storedIds.has(candidate.id))) {
      this.matcher.invalidate(AdvisoryIndex.packagesOf(advisory));
      this.index.remove(advisory.id);
      this.advisoryKeys.delete(advisory.id);
    }
    this.discardRowCaches();
    this.loadedGeneration = 0;
    this.addAdvisories(stored);
  }

  /**
   * Takes the shared advisory lock in the caller's transaction and brings the index up to the
   * generation committed: no advisory import (of any process) commits until the transaction ends,
   * so what the transaction evaluates against stays the latest. Must be its first statement, before
   * any row lock an import could be waiting for.
   */
  async holdCurrentAdvisories(client: pg.PoolClient): Promise<void> {
    await this.catchUp(client, await lockAdvisoriesShared(client));
  }

  /**
   * Loads the advisories written after the loaded generation, until the index holds at least
   * `committed`. Concurrent callers share one load; a load that read an older snapshot than the
   * caller's (started before the import committed) is followed by another.
   */
  async catchUp(db: pg.Pool | pg.PoolClient, committed: number): Promise<void> {
    while (this.loadedGeneration < committed) {
      this.catchingUp ??= loadAdvisories(db, this.loadedGeneration)
        .then((stored) => void this.addAdvisories(stored))
        .finally(() => (this.catchingUp = undefined));
      await this.catchingUp;
    }
  }

  /**
   * Catches up as soon as another process announces an import, so the next check-in finds the
   * index current; correctness never waits for this (see `holdCurrentAdvisories`).
   */
  follow(listener: ChangeListener, pool: pg.Pool, log: (message: string) => void): void {
    listener.subscribe('fleetpatch_advisories', (payload) => {
      const generation = Number(payload);
      if (!Number.isSafeInteger(generation)) return;
      this.catchUp(pool, generation).catch((error: unknown) => log(`loading advisories imported elsewhere failed (the next check-in retries): ${String(error)}`));
    });
  }

  /**
   * Adds or replaces advisories and forgets cached verdicts for the packages they touch. Each
   * carries the generation that wrote it; the index then holds the highest one seen.
   */
  addAdvisories(stored: StoredAdvisory[]): Array<{ ecosystem: string; name: string }> {
    const touched: Array<{ ecosystem: string; name: string }> = [];
    for (const { key, advisory, generation } of stored) {
      if (generation !== undefined && generation > this.loadedGeneration) this.loadedGeneration = generation;
      const previous = this.index.get(advisory.id);
      if (previous) touched.push(...AdvisoryIndex.packagesOf(previous));
      touched.push(...AdvisoryIndex.packagesOf(advisory));
      this.advisoryKeys.set(advisory.id, key);
      this.index.add(advisory);
    }
    if (touched.length > 0) {
      this.matcher.invalidate(touched);
      this.storedMatches.clear();
    }
    return touched;
  }

  /** The (ecosystem, name, version) under which a package meets advisories. */
  identityOf(pkg: InstalledPackage) {
    return this.matcher.identityOf(pkg);
  }

  get warnings() {
    return this.matcher.warnings;
  }

  advisoryKey(advisory: Advisory): number {
    return this.advisoryKeys.get(advisory.id)!;
  }

  /** Re-evaluates stored hosts (all of them when `hostKeys` is undefined), in the caller's transaction. */
  async evaluateHosts(client: pg.PoolClient, hostKeys: number[] | undefined, now: Date, progress?: ProgressListener): Promise<EvaluationReport> {
    const started = performance.now();
    const hosts = await loadHosts(client, hostKeys);
    const setKeys = [...new Set(hosts.flatMap((host) => (host.packageSetKey === undefined ? [] : [host.packageSetKey])))];
    const packageSets = await loadPackageSets(client, setKeys);
    const packageKeys = new Set<number>();
    for (const keys of packageSets.values()) for (const key of keys) packageKeys.add(key);
    const packages = new Map([...(await loadPackageVersions(client, [...packageKeys]))].map(([key, pkg]) => [key, this.catalog.adopt(pkg)]));
    const loadSeconds = (performance.now() - started) / 1000;
    progress?.(`loaded ${hosts.length} hosts, ${packageSets.size} package sets, ${packages.size} distinct package versions`);
    const toEvaluate = hosts.map((host): HostToEvaluate => ({
      hostKey: host.key,
      rebootRequired: host.rebootRequired,
      ...(host.availableUpdates ? { availableUpdates: host.availableUpdates } : {}),
      packages: host.packageSetKey === undefined ? [] : (packageSets.get(host.packageSetKey) ?? []).map((key) => packages.get(key)!),
      ...(host.runningKernel !== undefined ? { runningKernel: host.runningKernel } : {}),
      ...(host.packageSetKey !== undefined ? { packageSetKey: host.packageSetKey } : {}),
    }));
    const report = await this.evaluate(client, toEvaluate, now, new Set(), progress);
    return { ...report, seconds: { ...report.seconds, load: loadSeconds } };
  }

  /**
   * Evaluates hosts whose packages are at hand and merges their findings, in the caller's
   * transaction. `newHostKeys` are hosts created in this transaction (no finding history yet).
   */
  async evaluate(client: pg.PoolClient, hosts: HostToEvaluate[], now: Date, newHostKeys: ReadonlySet<number>, progress?: ProgressListener): Promise<EvaluationReport> {
    const started = performance.now();
    const perGroup = new Map<string, EvaluatedGroup>();
    const distinct = new Set<StoredPackageVersion>();
    const evaluated: Array<{ host: HostToEvaluate; group: EvaluatedGroup }> = [];
    let packageInstances = 0;
    let findings = 0;
    for (const host of hosts) {
      packageInstances += host.packages.length;
      const groupKey = host.packageSetKey === undefined ? undefined : `${host.packageSetKey}\u0000${host.runningKernel ?? ''}`;
      let group = groupKey === undefined ? undefined : perGroup.get(groupKey);
      if (!group) {
        for (const pkg of host.packages) distinct.add(pkg);
        const input = host.runningKernel === undefined ? { packages: host.packages } : { packages: host.packages, runningKernel: host.runningKernel };
        group = this.evaluatedGroup(collapseDrafts(evaluateHost(input, this.matcher, versionSchemeFor)));
        if (groupKey !== undefined) perGroup.set(groupKey, group);
      }
      findings += group.openFindings;
      evaluated.push({ host, group });
    }
    const matched = performance.now();

    // Hosts whose findings digest is unchanged have nothing to write.
    const unknown = hosts.filter((host) => host.storedDigest === undefined).map((host) => host.hostKey);
    const previousDigests = unknown.length === 0 ? new Map<number, string | undefined>() : await loadFindingDigests(client, unknown);
    for (const host of hosts) if (host.storedDigest !== undefined) previousDigests.set(host.hostKey, host.storedDigest ?? undefined);
    const changedDigests = new Map<number, HostFindingSummary>();
    const staged: StagedFinding[] = [];
    for (const { host, group } of evaluated) {
      const updates = updatesBehind(host.availableUpdates, group.packagesWithOpenFixes);
      const digest = `${group.summary.digest}${host.rebootRequired ? '+reboot' : ''}${updates.count > 0 ? `+updates:${updates.count}:${updates.daySum}` : ''}`;
      if (!newHostKeys.has(host.hostKey) && previousDigests.get(host.hostKey) === digest) continue;
      changedDigests.set(host.hostKey, {
        ...group.summary,
        digest,
        openFixes: group.summary.openFixes + updates.count,
        openFixAvailableDaySum: group.summary.openFixAvailableDaySum + updates.daySum,
      });
      for (const draft of group.drafts) staged.push(this.stagedFinding(host.hostKey, draft));
    }
    progress?.(`matched ${distinct.size} distinct package versions; ${changedDigests.size} of ${hosts.length} hosts changed, merging ${staged.length} findings`);

    // Claimed before writing, so concurrent check-ins never write the same version's matches twice.
    const unrecorded = [...distinct].filter((pkg) => !this.storedMatches.has(pkg.key));
    for (const pkg of unrecorded) this.storedMatches.add(pkg.key);
    forgetOldest(this.storedMatches, MAX_STORED_MATCHES);
    forgetOldest(this.firstSightings, MAX_FIRST_SIGHTINGS);
    if (unrecorded.length > 0) await replacePackageMatches(client, unrecorded, (pkg) => this.matcher.match(pkg), this.advisoryKeys);
    const { byHost: mergedByHost, ...counts } = changedDigests.size === 0 ? nothingMerged() : await mergeFindings(client, staged, now, changedDigests, newHostKeys);
    const written = performance.now();
    const byHost = new Map(evaluated.map(({ host, group }) => {
      const merged = mergedByHost.get(host.hostKey);
      return [host.hostKey, { findings: group.openFindings, opened: merged?.opened ?? 0, resolved: merged?.resolved ?? 0 }];
    }));
    return {
      hosts: hosts.length,
      hostsChanged: changedDigests.size,
      packageInstances,
      distinctVersions: distinct.size,
      findings,
      byHost,
      ...counts,
      seconds: { load: 0, match: (matched - started) / 1000, write: (written - matched) / 1000 },
    };
  }

  /** A group's drafts, a digest of what they would write (order-independent), and their summary. */
  private evaluatedGroup(drafts: FindingDraft<StoredPackageVersion>[]): EvaluatedGroup {
    // Severity and publication feed the summary, so they are part of the digest too.
    const rows = drafts.map((draft) =>
      [this.advisoryKey(draft.advisory), draft.packageName, draft.installed.key, draft.fixedVersion ?? '', draft.state, draft.stateReason ?? '', draft.advisory.severity, (draft.advisory.published ?? draft.advisory.modified).getTime()].join('\u0001'),
    );
    const summary: HostFindingSummary = {
      digest: createHash('sha256').update(rows.sort().join('\u0002')).digest('base64url'),
      openCritical: 0,
      openHigh: 0,
      openMedium: 0,
      openLow: 0,
      openOther: 0,
      pendingRebootFindings: 0,
      openFixes: 0,
      openFixAvailableDaySum: 0,
    };
    const packagesWithOpenFixes = new Set<string>();
    for (const draft of drafts) {
      if (draft.state === 'not-applicable') continue;
      const severity = draft.advisory.severity;
      if (severity === 'critical') summary.openCritical++;
      else if (severity === 'high') summary.openHigh++;
      else if (severity === 'medium') summary.openMedium++;
      else if (severity === 'low') summary.openLow++;
      else summary.openOther++;
      if (draft.state === 'pending-reboot') summary.pendingRebootFindings++;
      if (draft.fixedVersion !== undefined) {
        // The fix became available when the advisory was published.
        summary.openFixes++;
        summary.openFixAvailableDaySum += (draft.advisory.published ?? draft.advisory.modified).getTime() / DAY_MS;
        packagesWithOpenFixes.add(draft.installed.name);
      }
    }
    const openFindings = summary.openCritical + summary.openHigh + summary.openMedium + summary.openLow + summary.openOther;
    return { drafts, openFindings, summary, packagesWithOpenFixes };
  }

  private stagedFinding(hostKey: number, draft: FindingDraft<StoredPackageVersion>): StagedFinding {
    const finding: StagedFinding = {
      hostKey,
      advisoryKey: this.advisoryKey(draft.advisory),
      packageName: draft.packageName,
      packageKey: draft.installed.key,
      state: draft.state,
    };
    if (draft.fixedVersion !== undefined) finding.fixedVersion = draft.fixedVersion;
    if (draft.stateReason !== undefined) finding.stateReason = draft.stateReason;
    return finding;
  }
}

/** Sets and maps iterate in insertion order: the first entries are the oldest. */
function forgetOldest(collection: Set<number> | Map<string, unknown>, limit: number): void {
  for (const key of collection.keys()) {
    if (collection.size <= limit) return;
    collection.delete(key as never);
  }
}

/**
 * The host's available updates that no open finding already counts, as open fixes dated from the
 * fleet's first sight of the candidate version.
 */
function updatesBehind(updates: DatedUpdate[] | undefined, counted: Set<string>): { count: number; daySum: number } {
  let count = 0;
  let daySum = 0;
  for (const update of updates ?? []) {
    if (counted.has(update.name)) continue;
    count++;
    daySum += Date.parse(update.availableSince) / DAY_MS;
  }
  return { count, daySum };
}
