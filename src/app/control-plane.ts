/**
 * The control plane's use cases: taking check-ins (full or delta) and heartbeats, and syncing
 * advisories. Every check-in re-evaluates that host at once; heartbeats are coalesced and written
 * once a second (`HeartbeatWriter`). Enrollment and retirement live in `host-access.ts`. One host
 * cannot grow the server without bound: per check-in quotas (`QuotaExceeded`), a few slots for
 * large check-ins (`TooBusy`), and pruning of package rows nothing references any more.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import type { OwnershipRules } from '../domain/policy/ownership.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { packageLine, packageListDigest, type CheckIn } from '../protocol/agent-protocol.js';
import { loadHosts, loadPackageSets, loadPackageVersions, prunePackages, type PruneReport } from '../store/inventory-store.js';
import { withTransaction } from '../store/transaction.js';
import { importAdvisories, type AdvisoryImportReport, type OpenIncidentsHook } from './advisory-import.js';
import { CallBatcher } from './call-batcher.js';
import { CheckInGate, LargeCheckInSlots } from './check-in-gate.js';
import { HeartbeatWriter } from './heartbeat-writer.js';
import type { DetectionService } from './detection-service.js';
import { importInventories, QuotaExceeded, type AgentFacts } from './inventory-import.js';

export { QuotaExceeded };

export interface CheckInResult {
  accepted: true;
  packages: number;
  findings: number;
  opened: number;
  resolved: number;
  packageDigest: string;
}

/** The server is at its limit for this kind of work; the client should retry after a while. */
export class TooBusy extends Error {
  override readonly name = 'TooBusy';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The server holds no package list matching the delta's base: the agent must send a full one. */
export class DeltaBaseMismatch extends Error {
  override readonly name = 'DeltaBaseMismatch';
}

export interface ControlPlaneOptions {
  /** Who owns a host; the server passes the policy in force, which may change while it runs. */
  ownership: OwnershipRules;
  staleAfterSeconds: number;
  /** Tells a database outage from bad data (a heartbeat batch is kept, not dropped, on an outage). */
  isDatabaseUnavailable?: (error: unknown) => boolean;
  limits?: Partial<CheckInLimits>;
  /** Opens the incidents a sync's advisories call for, in its transaction (the server passes the policy's emergency triggers). */
  openIncidents?: OpenIncidentsHook;
}

/** What one host may ask of the server per check-in, and how many large check-ins run at once. */
export interface CheckInLimits {
  /** Packages in one host's list (QuotaExceeded beyond). */
  maxPackages: number;
  /** Package versions new to the fleet in one check-in (QuotaExceeded beyond). */
  maxNewPackageVersions: number;
  /** A check-in sending at least this many packages (full) or changes (delta) is large. */
  largeCheckInPackages: number;
  /** Large check-ins in flight at once; one more is TooBusy. */
  maxConcurrentLargeCheckIns: number;
  retryAfterSeconds: number;
  /** Unreferenced package sets and versions are pruned after going unconfirmed this long. */
  pruneGraceSeconds: number;
}

export const DEFAULT_CHECK_IN_LIMITS: CheckInLimits = {
  maxPackages: 30_000,
  maxNewPackageVersions: 10_000,
  largeCheckInPackages: 5_000,
  maxConcurrentLargeCheckIns: 2,
  retryAfterSeconds: 15,
  pruneGraceSeconds: 3_600,
};

/** Limits from FLEETPATCH_MAX_PACKAGES_PER_CHECK_IN, FLEETPATCH_MAX_NEW_VERSIONS_PER_CHECK_IN, FLEETPATCH_LARGE_CHECK_IN_PACKAGES, FLEETPATCH_MAX_CONCURRENT_LARGE_CHECK_INS and FLEETPATCH_PRUNE_GRACE_SECONDS. */
export function checkInLimitsFrom(env: NodeJS.ProcessEnv): Partial<CheckInLimits> {
  const limits: Partial<CheckInLimits> = {};
  const read = (name: string, field: keyof CheckInLimits) => {
    const text = env[name];
    if (text === undefined || text === '') return;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new InputError(`${name} must be a positive integer, not ${JSON.stringify(text)}`, { field: name });
    limits[field] = value;
  };
  read('FLEETPATCH_MAX_PACKAGES_PER_CHECK_IN', 'maxPackages');
  read('FLEETPATCH_MAX_NEW_VERSIONS_PER_CHECK_IN', 'maxNewPackageVersions');
  read('FLEETPATCH_LARGE_CHECK_IN_PACKAGES', 'largeCheckInPackages');
  read('FLEETPATCH_MAX_CONCURRENT_LARGE_CHECK_INS', 'maxConcurrentLargeCheckIns');
  read('FLEETPATCH_PRUNE_GRACE_SECONDS', 'pruneGraceSeconds');
  return limits;
}

/** Rows deleted per prune statement: short transactions beside the check-ins. */
const PRUNE_BATCH = 5_000;
/** Arbitrary, fixed: one process prunes at a time ("fppr"). */
const PRUNE_LOCK_KEY = 0x66707072;

/**
 * How many hosts' last package lists are kept in memory for deltas (least recently used out). A
 * list costs about 8 KB (a reference per package; the packages are the catalog's shared objects),
 * so 10,000 is 80 MB; a delta from a host not among them reads its list from the database.
 */
const PACKAGE_LIST_CACHE_HOSTS = 10_000;

/** One check-in's inventory on its way to the database, and what the import answers it. */
interface PendingImport {
  inventory: HostInventory;
  source: string;
  agent: AgentFacts;
  now: Date;
}
interface ImportedCheckIn {
  findings: number;
  opened: number;
  resolved: number;
  storedPackages: InstalledPackage[];
}

/**
 * Check-ins stored in one transaction at most, and transactions of check-ins at once. A rollout's
 * hosts check in by the hundred when a wave's upgrades end; one at a time, each took a connection
 * for its six round trips and the rest queued for the pool (bench:rollout: 500 ms at the p99).
 */
const CHECK_IN_BATCH = 50;
const CHECK_IN_BATCHES_IN_FLIGHT = 4;

export class ControlPlane {
  private readonly gate = new CheckInGate();
  private readonly imports = new CallBatcher<PendingImport, ImportedCheckIn>((batch) => this.importTogether(batch), CHECK_IN_BATCH, CHECK_IN_BATCHES_IN_FLIGHT);
  readonly limits: CheckInLimits;
  private readonly largeSlots: LargeCheckInSlots;
  /** Each host's last package list, sorted by package line without repeats (see `applySortedDelta`). */
  private readonly lastPackages = new Map<string, { digest: string; packages: InstalledPackage[] }>();
  /**
   * Package lines of the shared stored objects the lists hold, built once per object rather than
   * once per package per delta; entries go with their objects.
   */
  private readonly storedLines = new WeakMap<InstalledPackage, string>();
  readonly heartbeats: HeartbeatWriter;
  // A retired host's heartbeats on another replica then update no row: harmless, and its agent's
  // credential is refused anyway.
  private readonly knownHosts = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly detection: DetectionService,
    readonly options: ControlPlaneOptions,
  ) {
    this.heartbeats = new HeartbeatWriter(pool, options.isDatabaseUnavailable);
    this.limits = { ...DEFAULT_CHECK_IN_LIMITS, ...options.limits };
    // A cached key is trusted for the touch interval; pruning waits several of them (see package-catalog.ts).
    if (this.limits.pruneGraceSeconds < 4 * detection.catalog.options.trustSeconds) {
      throw new InputError(`the prune grace (${this.limits.pruneGraceSeconds} s) must be at least 4 × the catalog's trust (${detection.catalog.options.trustSeconds} s)`, { field: 'FLEETPATCH_PRUNE_GRACE_SECONDS' });
    }
    this.largeSlots = new LargeCheckInSlots(this.limits.maxConcurrentLargeCheckIns);
  }

  /**
   * Stores a check-in and evaluates the host. `grantedLabels` (from the host's enrollment token)
   * override the labels the agent sends: an agent cannot move itself to another bucket or team.
   */
  async checkIn(hostname: string, checkIn: CheckIn, now = new Date(), grantedLabels: Record<string, string> = {}): Promise<CheckInResult> {
    const sent = checkIn.kind === 'full' ? checkIn.packages.length : checkIn.added.length + checkIn.removed.length;
    if (checkIn.kind === 'full' ? sent > this.limits.maxPackages : checkIn.added.length > this.limits.maxPackages) this.refuseSize(sent);
    let release: (() => void) | undefined;
    if (sent >= this.limits.largeCheckInPackages) {
      release = this.largeSlots.tryTake();
      if (!release) throw new TooBusy(`${this.largeSlots.slots} large check-ins are in flight; this one (${sent} packages) must wait`, this.limits.retryAfterSeconds);
    }
    try {
      return await this.gate.forHost(hostname, () => this.store(hostname, checkIn, now, grantedLabels));
    } finally {
      release?.();
    }
  }

  private refuseSize(packages: number): never {
    throw new QuotaExceeded(`${packages} packages in one check-in; a host may list at most ${this.limits.maxPackages}`, { field: 'packages' }, 'raise FLEETPATCH_MAX_PACKAGES_PER_CHECK_IN if real hosts list more');
  }

  private async store(hostname: string, checkIn: CheckIn, now: Date, grantedLabels: Record<string, string>): Promise<CheckInResult> {
    const { packages, digest } = checkIn.kind === 'full'
      ? { packages: checkIn.packages, digest: packageListDigest(checkIn.packages) }
      : applySortedDelta(await this.storedPackages(hostname, checkIn.baseDigest), checkIn.added, checkIn.removed, (pkg) => this.lineOf(pkg));
    if (packages.length > this.limits.maxPackages) this.refuseSize(packages.length);
    if (digest !== checkIn.packageDigest) {
      if (checkIn.kind === 'delta') throw new DeltaBaseMismatch(`the delta does not lead to the package list the agent describes (${hostname})`);
      throw new InputError('packageDigest does not match the packages sent', { field: 'packageDigest' });
    }
    const inventory: HostInventory = {
      hostname,
      packages,
      kernel: checkIn.runningKernel ? { running: checkIn.runningKernel, installed: [] } : { installed: [] },
      rebootRequired: checkIn.rebootRequired,
      labels: { ...checkIn.labels, ...grantedLabels },
      ...(checkIn.os ? { os: stripUndefined(checkIn.os) } : {}),
      ...(checkIn.osEcosystem ? { osEcosystem: checkIn.osEcosystem } : {}),
      ...(checkIn.arch ? { arch: checkIn.arch } : {}),
      ...(checkIn.bootTime ? { bootTime: new Date(checkIn.bootTime) } : {}),
      ...(checkIn.availableUpdates ? { availableUpdates: checkIn.availableUpdates.map(stripUndefined) } : {}),
    };
    const pending: PendingImport = {
      inventory, now, source: `agent:${checkIn.kind}`,
      agent: { version: checkIn.agentVersion ?? 'unknown', inventoryDigest: digest, ...(checkIn.bootId ? { bootId: checkIn.bootId } : {}) },
    };
    // A large check-in goes alone: a batch would wait for its thousands of versions.
    const imported = packages.length >= this.limits.largeCheckInPackages ? (await this.importTogether([pending]))[0]! : await this.imports.call(pending);
    this.rememberPackages(hostname, digest, imported.storedPackages);
    this.heartbeats.forget(hostname);
    return { accepted: true, packages: packages.length, findings: imported.findings, opened: imported.opened, resolved: imported.resolved, packageDigest: digest };
  }

  /**
   * Stores and evaluates check-ins in one transaction, as of the latest one's time. A batch that
   * fails is tried again one check-in at a time, so each gets its own answer: one host's quota
   * or bad data fails that host alone. (Check-ins of one host never meet in a batch: the gate
   * runs them one after another.)
   */
  private async importTogether(batch: PendingImport[]): Promise<ImportedCheckIn[]> {
    const now = new Date(Math.max(...batch.map((pending) => pending.now.getTime())));
    const importing = () => importInventories(this.pool, this.detection, batch.map((pending) => pending.inventory), {
      source: batch.map((pending) => pending.source),
      agent: batch.map((pending) => pending.agent),
      now,
      // If the server crashes before the flush, the agent's next delta names a base the server
      // no longer has; the server answers 409 and the agent sends its full inventory again.
      waitForFlush: false,
      maxNewPackageVersions: this.limits.maxNewPackageVersions,
      ownership: this.options.ownership,
    });
    if (batch.length === 1) {
      const report = await importing();
      return [{ ...report.byHost.get(report.hostKeys[0]!)!, storedPackages: report.storedPackages[0]! }];
    }
    const report = await importing().catch(() => undefined);
    if (!report) return Promise.all(batch.map(async (pending) => (await this.importTogether([pending]))[0]!));
    return batch.map((_, index) => ({ ...report.byHost.get(report.hostKeys[index]!)!, storedPackages: report.storedPackages[index]! }));
  }

  private lineOf(pkg: InstalledPackage): string {
    let line = this.storedLines.get(pkg);
    if (line === undefined) {
      line = packageLine(pkg);
      this.storedLines.set(pkg, line);
    }
    return line;
  }

  /** A package list sorted by line without repeats (the first of equal lines stays), as `applySortedDelta` needs its base. */
  private sortedByLine(packages: InstalledPackage[]): InstalledPackage[] {
    let sorted = true;
    for (let index = 1; index < packages.length && sorted; index++) sorted = this.lineOf(packages[index - 1]!) < this.lineOf(packages[index]!);
    if (sorted) return packages;
    const byLine = new Map<string, InstalledPackage>();
    for (const pkg of packages) {
      const line = this.lineOf(pkg);
      if (!byLine.has(line)) byLine.set(line, pkg);
    }
    return [...byLine.keys()].sort().map((line) => byLine.get(line)!);
  }

  private rememberPackages(hostname: string, digest: string, packages: InstalledPackage[]): void {
    this.lastPackages.delete(hostname);
    this.lastPackages.set(hostname, { digest, packages: this.sortedByLine(packages) });
    if (this.lastPackages.size > PACKAGE_LIST_CACHE_HOSTS) this.lastPackages.delete(this.lastPackages.keys().next().value!);
  }

  /** The package list the server holds for a host, if its digest is `expectedDigest`. */
  private async storedPackages(hostname: string, expectedDigest: string): Promise<InstalledPackage[]> {
    const remembered = this.lastPackages.get(hostname);
    if (remembered?.digest === expectedDigest) return remembered.packages;
    const row = await this.pool.query<{ key: number; inventory_digest: string | null }>('SELECT key, inventory_digest FROM hosts WHERE name = $1', [hostname]);
    if (!row.rows[0] || row.rows[0].inventory_digest !== expectedDigest) throw new DeltaBaseMismatch(`no package list with digest ${expectedDigest} is stored for ${hostname}`);
    const [host] = await loadHosts(this.pool, [row.rows[0].key]);
    const sets = await loadPackageSets(this.pool, [host!.packageSetKey!]);
    const versions = await loadPackageVersions(this.pool, sets.get(host!.packageSetKey!) ?? []);
    return this.sortedByLine([...versions.values()].map(({ key: _key, ...pkg }) => pkg));
  }

  /** Whether a host has sent an inventory; remembered once true, until the host is retired here. */
  async hostExists(hostname: string): Promise<boolean> {
    if (this.knownHosts.has(hostname)) return true;
    const found = ((await this.pool.query('SELECT 1 FROM hosts WHERE name = $1', [hostname])).rowCount ?? 0) > 0;
    if (found) this.knownHosts.add(hostname);
    return found;
  }

  /** Forgets what is held in memory about a host that was retired. */
  forgetHost(hostname: string): void {
    this.lastPackages.delete(hostname);
    this.knownHosts.delete(hostname);
    this.heartbeats.forget(hostname);
  }

  /**
   * Deletes package sets and versions nothing has referenced for the grace period (and their
   * matches), in short batches; one process at a time does it, the others skip. Safe beside
   * check-ins of every process (see `prunePackages`).
   */
  async prunePackages(): Promise<PruneReport> {
    const total: PruneReport = { packageSets: 0, packageVersions: 0 };
    for (;;) {
      const report = await withTransaction(this.pool, async (client) => {
        const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [PRUNE_LOCK_KEY]);
        return locked.rows[0]!.locked ? prunePackages(client, this.limits.pruneGraceSeconds, PRUNE_BATCH) : undefined;
      });
      if (!report) return total;
      total.packageSets += report.packageSets;
      total.packageVersions += report.packageVersions;
      if (report.packageSets < PRUNE_BATCH && report.packageVersions < PRUNE_BATCH) return total;
    }
  }

  syncAdvisories(feed: AdvisoryFeed, progress?: (message: string) => void): Promise<AdvisoryImportReport> {
    const openIncidents = this.options.openIncidents;
    return this.gate.alone(() => importAdvisories(this.pool, this.detection, feed, { ...(progress ? { progress } : {}), ...(openIncidents ? { openIncidents } : {}) }));
  }
}

/**
 * The list a delta leads to and its digest, as `applyPackageDelta` and `packageListDigest` give
 * them, in time proportional to the delta: `base` is sorted by package line without repeats and
 * `lineOf` gives its lines (cached), so the result is a merge, already in the order the digest
 * hashes.
 */
export function applySortedDelta(
  base: InstalledPackage[],
  added: InstalledPackage[],
  removed: InstalledPackage[],
  lineOf: (pkg: InstalledPackage) => string,
): { packages: InstalledPackage[]; digest: string } {
  const gone = new Set(removed.map(packageLine));
  const additions = new Map<string, InstalledPackage>();
  for (const pkg of added) {
    const line = packageLine(pkg);
    if (!additions.has(line)) additions.set(line, pkg);
  }
  const addedLines = [...additions.keys()].sort();
  const packages: InstalledPackage[] = [];
  const lines: string[] = [];
  const push = (pkg: InstalledPackage, line: string) => {
    packages.push(pkg);
    lines.push(line);
  };
  let next = 0;
  for (const pkg of base) {
    const line = lineOf(pkg);
    while (next < addedLines.length && addedLines[next]! < line) push(additions.get(addedLines[next]!)!, addedLines[next++]!);
    // A removed line goes (an added package with the same line takes its place on the next turn);
    // otherwise the base's package is kept and an identical addition is a repeat.
    if (gone.has(line)) continue;
    if (addedLines[next] === line) next++;
    push(pkg, line);
  }
  for (; next < addedLines.length; next++) push(additions.get(addedLines[next]!)!, addedLines[next]!);
  return { packages, digest: createHash('sha256').update(lines.join('\n')).digest('base64url') };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
