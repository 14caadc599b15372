/**
 * Stores host inventories and evaluates their findings in one transaction: a host's new inventory
 * and the findings it implies land together or not at all.
 */
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import { LABEL_OWNERSHIP, selectableHost, type OwnershipRules } from '../domain/policy/ownership.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { dateAvailableUpdates, replaceAvailableUpdates } from '../store/available-update-store.js';
import { upsertHosts, type StoredPackageVersion } from '../store/inventory-store.js';
import { CatalogStage } from '../store/package-catalog.js';
import { withTransaction } from '../store/transaction.js';
import type { DetectionService, EvaluationReport, ProgressListener } from './detection-service.js';

/** A check-in beyond a configured per-host quota (packages, new package versions). Nothing was stored. */
export class QuotaExceeded extends InputError {}

/** What an agent says of itself in a check-in. */
export interface AgentFacts {
  version: string;
  bootId?: string;
  inventoryDigest?: string;
}

export interface InventoryImportReport extends EvaluationReport {
  hostKeys: number[];
  /** Each host's packages as the shared, stored objects (cheaper to keep than the parsed ones). */
  storedPackages: StoredPackageVersion[][];
  secondsStore: number;
}

/**
 * @example await importInventories(pool, detection, [inventory], { source: 'dpkg-status:/var/lib/dpkg/status' })
 */
export async function importInventories(
  pool: pg.Pool,
  detection: DetectionService,
  inventories: HostInventory[],
  options: {
    /** Where the inventories came from: one for all, or one per inventory (a batch of check-ins). */
    source: string | readonly string[];
    now?: Date;
    progress?: ProgressListener;
    /** Who owns each host: the policy in force (default: the host's own `bucket` and `team` labels). */
    ownership?: OwnershipRules;
    /** What the agent said of itself: one for all, or one per inventory (a batch of check-ins). */
    agent?: AgentFacts | readonly AgentFacts[];
    /** False for agent check-ins: a check-in lost in a crash is detected and re-sent by the agent. */
    waitForFlush?: boolean;
    /** Refuse the import (QuotaExceeded) when it would add more package versions the fleet has never stored. */
    maxNewPackageVersions?: number;
  },
): Promise<InventoryImportReport> {
  const now = options.now ?? new Date();
  const perInventory = <T>(value: T | readonly T[] | undefined, index: number): T | undefined => (Array.isArray(value) ? (value as readonly T[])[index] : (value as T | undefined));
  const facts = new Map(inventories.map((inventory, index) => [inventory, { source: perInventory(options.source, index)!, agent: perInventory(options.agent, index) }]));
  // A host reported twice in one batch counts once, with its latest inventory.
  inventories = [...new Map(inventories.map((inventory) => [inventory.hostname, inventory])).values()];
  // First sightings of candidate versions are fleet-wide facts, committed on their own before the
  // hosts' transaction (see dateAvailableUpdates).
  const reporting = inventories.filter((inventory) => inventory.availableUpdates !== undefined);
  const dated = await dateAvailableUpdates(pool, reporting.map((inventory) => ({ ecosystem: inventory.osEcosystem ?? inventory.os?.id ?? 'unknown', updates: inventory.availableUpdates! })), now, detection.firstSightings);
  const updatesOf = new Map(reporting.map((inventory, index) => [inventory, dated[index]!]));
  const stage = new CatalogStage();
  return withTransaction(pool, async (client) => {
    const started = performance.now();
    await detection.holdCurrentAdvisories(client);
    const distinct = new Set<InstalledPackage>();
    for (const inventory of inventories) for (const pkg of inventory.packages) distinct.add(pkg);
    const stored = await detection.catalog.resolve(client, distinct, stage);
    if (options.maxNewPackageVersions !== undefined && stage.inserted > options.maxNewPackageVersions) {
      throw new QuotaExceeded(`${stage.inserted} package versions new to the fleet in one check-in; at most ${options.maxNewPackageVersions} are taken`, { field: 'packages' }, 'real hosts add a few new versions at a time; raise FLEETPATCH_MAX_NEW_VERSIONS_PER_CHECK_IN for a new kind of host');
    }
    const hostPackages = inventories.map((inventory) => inventory.packages.map((pkg) => stored.get(pkg)!));
    const setKeys = await detection.catalog.packageSets(client, hostPackages.map((packages) => packages.map((pkg) => pkg.key)), stage);
    const hosts = await upsertHosts(
      client,
      inventories.map((inventory, index) => {
        const { source, agent } = facts.get(inventory)!;
        return {
          inventory,
          ...(options.ownership ?? LABEL_OWNERSHIP).ownerOf(selectableHost(inventory.hostname, inventory.labels, inventory.os)),
          ...(agent
            ? {
                agentVersion: agent.version,
                ...(agent.bootId ? { bootId: agent.bootId } : {}),
                ...(agent.inventoryDigest ? { inventoryDigest: agent.inventoryDigest } : {}),
              }
            : {}),
          packageSetKey: setKeys[index]!,
          source,
          seenAt: now,
          ...(updatesOf.has(inventory) ? { availableUpdateCount: updatesOf.get(inventory)!.length } : {}),
        };
      }),
    );
    await replaceAvailableUpdates(client, inventories.map((inventory, index) => ({ hostKey: hosts[index]!.key, updates: updatesOf.get(inventory) })));
    const secondsStore = (performance.now() - started) / 1000;
    options.progress?.(`stored ${inventories.length} inventories (${stored.size} distinct package versions) in ${secondsStore.toFixed(2)} s`);
    const report = await detection.evaluate(
      client,
      inventories.map((inventory, index) => ({
        hostKey: hosts[index]!.key,
        storedDigest: hosts[index]!.findingsDigest,
        rebootRequired: inventory.rebootRequired,
        packages: hostPackages[index]!,
        packageSetKey: setKeys[index]!,
        ...(inventory.kernel.running !== undefined ? { runningKernel: inventory.kernel.running } : {}),
        ...(updatesOf.has(inventory) ? { availableUpdates: updatesOf.get(inventory)! } : {}),
      })),
      now,
      new Set(hosts.filter((host) => host.created).map((host) => host.key)),
      options.progress,
    );
    return { ...report, hostKeys: hosts.map((host) => host.key), storedPackages: hostPackages, secondsStore };
    // The findings merge and the hosts upsert are prepared statements over arrays (see withTransaction).
  }, { genericPlans: true, ...(options.waitForFlush === false ? { waitForFlush: false } : {}) }).then(
    (report) => {
      detection.catalog.publish(stage);
      return report;
    },
    (error: unknown) => {
      detection.discardRowCaches();
      throw error;
    },
  );
}
