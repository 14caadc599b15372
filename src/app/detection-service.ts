/**
 * Keeps the advisory index in memory and turns stored inventories into stored findings. Hosts
 * that share a package set (and running kernel) are evaluated once; every package version is
 * matched once for the whole fleet.
 */
import type pg from 'pg';
import type { Advisory } from '../domain/advisories/advisory.js';
import type { InstalledPackage } from '../domain/types.js';
import { AdvisoryIndex } from '../domain/detection/advisory-index.js';
import { evaluateHost, type FindingDraft } from '../domain/detection/host-findings.js';
import { VersionMatcher } from '../domain/detection/version-matcher.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import { loadAdvisories, type StoredAdvisory } from '../store/advisory-store.js';
import { mergeFindings, type MergeCounts, type StagedFinding } from '../store/finding-store.js';
import { loadHosts, loadPackageSets, loadPackageVersions, type HostSummary, type StoredPackageVersion } from '../store/inventory-store.js';
import { replacePackageMatches } from '../store/match-store.js';

export interface EvaluationReport extends MergeCounts {
  hosts: number;
  packageInstances: number;
  distinctVersions: number;
  findings: number;
  seconds: { load: number; match: number; write: number };
}

export type ProgressListener = (message: string) => void;

export class DetectionService {
  readonly index = new AdvisoryIndex();
  private readonly matcher = new VersionMatcher(this.index, versionSchemeFor);
  private readonly advisoryKeys = new Map<string, number>();

  /** Builds the service from every advisory stored in the database. */
  static async load(db: pg.Pool | pg.PoolClient): Promise<DetectionService> {
    const service = new DetectionService();
    service.addAdvisories(await loadAdvisories(db));
    return service;
  }

  /** Forgets everything and reloads the advisories the database holds (after a rolled-back import). */
  async reload(db: pg.Pool | pg.PoolClient): Promise<void> {
    const stored = await loadAdvisories(db);
    const storedIds = new Set(stored.map(({ advisory }) => advisory.id));
    const stale = [...this.index.advisories()].filter((advisory) => !storedIds.has(advisory.id));
    for (const advisory of stale) {
      this.matcher.invalidate(AdvisoryIndex.packagesOf(advisory));
      this.index.remove(advisory.id);
      this.advisoryKeys.delete(advisory.id);
    }
    this.addAdvisories(stored);
  }

  /** Adds or replaces advisories and forgets cached verdicts for the packages they touch. */
  addAdvisories(stored: StoredAdvisory[]): Array<{ ecosystem: string; name: string }> {
    const touched: Array<{ ecosystem: string; name: string }> = [];
    for (const { key, advisory } of stored) {
      const previous = this.index.get(advisory.id);
      if (previous) touched.push(...AdvisoryIndex.packagesOf(previous));
      touched.push(...AdvisoryIndex.packagesOf(advisory));
      this.advisoryKeys.set(advisory.id, key);
      this.index.add(advisory);
    }
    this.matcher.invalidate(touched);
    return touched;
  }

  /** The (ecosystem, name, version) under which a package meets advisories. */
  identityOf(pkg: InstalledPackage) {
    return this.matcher.identityOf(pkg);
  }

  get warnings() {
    return this.matcher.warnings;
  }

  /**
   * Re-evaluates the given hosts (all hosts when undefined) and merges their findings, in the
   * caller's transaction.
   */
  async evaluateHosts(client: pg.PoolClient, hostKeys: number[] | undefined, now: Date, progress?: ProgressListener): Promise<EvaluationReport> {
    const started = performance.now();
    const hosts = await loadHosts(client, hostKeys);
    const setKeys = [...new Set(hosts.flatMap((host) => (host.packageSetKey === undefined ? [] : [host.packageSetKey])))];
    const packageSets = await loadPackageSets(client, setKeys);
    const packageKeys = new Set<number>();
    for (const keys of packageSets.values()) for (const key of keys) packageKeys.add(key);
    const packages = await loadPackageVersions(client, [...packageKeys]);
    const loaded = performance.now();
    progress?.(`loaded ${hosts.length} hosts, ${packageSets.size} package sets, ${packages.size} distinct package versions`);

    const evaluationsBefore = this.matcher.evaluations;
    const perGroup = new Map<string, FindingDraft<StoredPackageVersion>[]>();
    const staged: StagedFinding[] = [];
    let packageInstances = 0;
    for (const host of hosts) {
      const setPackageKeys = host.packageSetKey === undefined ? [] : (packageSets.get(host.packageSetKey) ?? []);
      packageInstances += setPackageKeys.length;
      const groupKey = `${host.packageSetKey ?? ''}\u0000${host.runningKernel ?? ''}`;
      let drafts = perGroup.get(groupKey);
      if (!drafts) {
        drafts = evaluateHost(packagesOf(setPackageKeys, packages, host), this.matcher, versionSchemeFor);
        perGroup.set(groupKey, drafts);
      }
      for (const draft of drafts) staged.push(this.stagedFinding(host.key, draft));
    }
    const matched = performance.now();
    progress?.(`matched ${this.matcher.evaluations - evaluationsBefore} new distinct versions; writing ${staged.length} findings`);

    await replacePackageMatches(client, [...packages.values()], (pkg) => this.matcher.match(pkg), this.advisoryKeys);
    const counts = await mergeFindings(client, hosts.map((host) => host.key), staged, now);
    const written = performance.now();
    return {
      hosts: hosts.length,
      packageInstances,
      distinctVersions: packages.size,
      findings: staged.length,
      ...counts,
      seconds: { load: (loaded - started) / 1000, match: (matched - loaded) / 1000, write: (written - matched) / 1000 },
    };
  }

  advisoryKey(advisory: Advisory): number {
    return this.advisoryKeys.get(advisory.id)!;
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

function packagesOf(keys: number[], packages: Map<number, StoredPackageVersion>, host: HostSummary) {
  const hostPackages = keys.map((key) => packages.get(key)!);
  return host.runningKernel === undefined ? { packages: hostPackages } : { packages: hostPackages, runningKernel: host.runningKernel };
}
