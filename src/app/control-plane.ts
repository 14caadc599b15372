/**
 * The control plane's use cases: taking check-ins (full or delta) and heartbeats, and syncing
 * advisories. Every check-in re-evaluates that host at once; heartbeats are coalesced and written
 * once a second (`HeartbeatWriter`). Enrollment and retirement live in `host-access.ts`.
 */
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import type { BucketRules } from '../domain/policy/bucket-rules.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { applyPackageDelta, packageListDigest, type CheckIn } from '../protocol/agent-protocol.js';
import { loadHosts, loadPackageSets, loadPackageVersions } from '../store/inventory-store.js';
import { importAdvisories, type AdvisoryImportReport } from './advisory-import.js';
import { CheckInGate } from './check-in-gate.js';
import { HeartbeatWriter } from './heartbeat-writer.js';
import type { DetectionService } from './detection-service.js';
import { importInventories } from './inventory-import.js';

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
  bucketRules: BucketRules;
  staleAfterSeconds: number;
  /** Tells a database outage from bad data (a heartbeat batch is kept, not dropped, on an outage). */
  isDatabaseUnavailable?: (error: unknown) => boolean;
}

/** How many hosts' last package lists are kept in memory for deltas (least recently used out). */
const PACKAGE_LIST_CACHE_HOSTS = 50_000;

export class ControlPlane {
  private readonly gate = new CheckInGate();
  private readonly lastPackages = new Map<string, { digest: string; packages: InstalledPackage[] }>();
  readonly heartbeats: HeartbeatWriter;
  // A retired host's heartbeats on another replica then update no row: harmless, and its agent's
  // credential is refused anyway.
  private readonly knownHosts = new Set<string>();
  checkIns = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly detection: DetectionService,
    readonly options: ControlPlaneOptions,
  ) {
    this.heartbeats = new HeartbeatWriter(pool, options.isDatabaseUnavailable);
  }

  /**
   * Stores a check-in and evaluates the host. `grantedLabels` (from the host's enrollment token)
   * override the labels the agent sends: an agent cannot move itself to another bucket or team.
   */
  async checkIn(hostname: string, checkIn: CheckIn, now = new Date(), grantedLabels: Record<string, string> = {}): Promise<CheckInResult> {
    return this.gate.forHost(hostname, async () => {
      const packages = checkIn.kind === 'full' ? checkIn.packages : applyPackageDelta(await this.storedPackages(hostname, checkIn.baseDigest), checkIn.added, checkIn.removed);
      const digest = packageListDigest(packages);
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
      const report = await importInventories(this.pool, this.detection, [inventory], {
        source: `agent:${checkIn.kind}`,
        now,
        // If the server crashes before the flush, the agent's next delta names a base the server
        // no longer has; the server answers 409 and the agent sends its full inventory again.
        waitForFlush: false,
        bucketRules: this.options.bucketRules,
        agent: { version: checkIn.agentVersion ?? 'unknown', inventoryDigest: digest, ...(checkIn.bootId ? { bootId: checkIn.bootId } : {}) },
      });
      this.rememberPackages(hostname, digest, report.storedPackages[0]!);
      this.heartbeats.forget(hostname);
      this.checkIns++;
      return { accepted: true, packages: packages.length, findings: report.findings, opened: report.opened, resolved: report.resolved, packageDigest: digest };
    });
  }

  private rememberPackages(hostname: string, digest: string, packages: InstalledPackage[]): void {
    this.lastPackages.delete(hostname);
    this.lastPackages.set(hostname, { digest, packages });
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
    return [...versions.values()].map(({ key: _key, ...pkg }) => pkg);
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

  syncAdvisories(feed: AdvisoryFeed, progress?: (message: string) => void): Promise<AdvisoryImportReport> {
    return this.gate.alone(() => importAdvisories(this.pool, this.detection, feed, progress ? { progress } : {}));
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
