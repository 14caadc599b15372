/**
 * The control plane's use cases: enrolling agents, taking check-ins (full or delta) and heartbeats,
 * and syncing advisories. Every check-in re-evaluates that host at once; heartbeats are coalesced
 * and written once a second, since they only move `last_seen_at`.
 */
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import type { BucketRules } from '../domain/policy/bucket-rules.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { applyPackageDelta, packageListDigest, type CheckIn, type Heartbeat } from '../protocol/agent-protocol.js';
import { checkEnrollmentToken, issueAgentCredential } from '../store/auth-store.js';
import { loadHosts, loadPackageSets, loadPackageVersions } from '../store/inventory-store.js';
import { importAdvisories, type AdvisoryImportReport } from './advisory-import.js';
import { CheckInGate } from './check-in-gate.js';
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

/** The server holds no package list matching the delta's base: the agent must send a full one. */
export class DeltaBaseMismatch extends Error {
  override readonly name = 'DeltaBaseMismatch';
}

export interface ControlPlaneOptions {
  bucketRules: BucketRules;
  staleAfterSeconds: number;
}

interface PendingHeartbeat {
  seenAt: Date;
  rebootRequired?: boolean;
  bootId?: string;
}

/** How many hosts' last package lists are kept in memory for deltas (least recently used out). */
const PACKAGE_LIST_CACHE_HOSTS = 50_000;

export class ControlPlane {
  private readonly gate = new CheckInGate();
  private readonly lastPackages = new Map<string, { digest: string; packages: InstalledPackage[] }>();
  private heartbeats = new Map<string, PendingHeartbeat>();
  checkIns = 0;
  heartbeatCount = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly detection: DetectionService,
    readonly options: ControlPlaneOptions,
  ) {}

  async enroll(token: string, hostname: string, labels: Record<string, string>): Promise<{ hostname: string; credential: string; labels: Record<string, string> }> {
    const granted = await checkEnrollmentToken(this.pool, token);
    if (!granted) throw new InputError('unknown or expired enrollment token', { field: 'token' });
    const credential = await issueAgentCredential(this.pool, hostname);
    return { hostname, credential, labels: { ...labels, ...granted } };
  }

  async checkIn(hostname: string, checkIn: CheckIn, now = new Date()): Promise<CheckInResult> {
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
        labels: checkIn.labels,
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
      this.heartbeats.delete(hostname);
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

  /** Records that a host is alive; written with the next flush. */
  heartbeat(hostname: string, heartbeat: Heartbeat, now = new Date()): void {
    const pending: PendingHeartbeat = { seenAt: now };
    if (heartbeat.rebootRequired !== undefined) pending.rebootRequired = heartbeat.rebootRequired;
    if (heartbeat.bootId !== undefined) pending.bootId = heartbeat.bootId;
    this.heartbeats.set(hostname, pending);
    this.heartbeatCount++;
  }

  /** Writes the coalesced heartbeats in one statement. */
  async flushHeartbeats(): Promise<number> {
    if (this.heartbeats.size === 0) return 0;
    const batch = this.heartbeats;
    this.heartbeats = new Map();
    const entries = [...batch];
    await this.pool.query(
      `UPDATE hosts h SET last_seen_at = greatest(h.last_seen_at, b.seen_at),
              reboot_required = coalesce(b.reboot_required, h.reboot_required), boot_id = coalesce(b.boot_id, h.boot_id)
         FROM unnest($1::text[], $2::timestamptz[], $3::boolean[], $4::text[]) AS b(name, seen_at, reboot_required, boot_id)
        WHERE h.name = b.name`,
      [entries.map(([name]) => name), entries.map(([, beat]) => beat.seenAt), entries.map(([, beat]) => beat.rebootRequired ?? null), entries.map(([, beat]) => beat.bootId ?? null)],
    );
    return entries.length;
  }

  syncAdvisories(feed: AdvisoryFeed, progress?: (message: string) => void): Promise<AdvisoryImportReport> {
    return this.gate.alone(() => importAdvisories(this.pool, this.detection, feed, progress ? { progress } : {}));
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
