/**
 * Stores host inventories and evaluates their findings in one transaction: a host's new inventory
 * and the findings it implies land together or not at all.
 */
import type pg from 'pg';
import type { HostInventory } from '../domain/types.js';
import { withTransaction } from '../store/transaction.js';
import { ensurePackageSets, ensurePackageVersions, packageTupleKey, upsertHosts } from '../store/inventory-store.js';
import type { DetectionService, EvaluationReport, ProgressListener } from './detection-service.js';

export interface InventoryImportReport extends EvaluationReport {
  hostKeys: number[];
  secondsStore: number;
}

/**
 * @example await importInventories(pool, detection, [inventory], { source: 'dpkg-status:/var/lib/dpkg/status' })
 */
export async function importInventories(
  pool: pg.Pool,
  detection: DetectionService,
  inventories: HostInventory[],
  options: { source: string; now?: Date; progress?: ProgressListener },
): Promise<InventoryImportReport> {
  const now = options.now ?? new Date();
  return withTransaction(pool, async (client) => {
    const started = performance.now();
    const packageKeys = await ensurePackageVersions(client, inventories.flatMap((inventory) => inventory.packages));
    const setKeys = await ensurePackageSets(
      client,
      inventories.map((inventory) => inventory.packages.map((pkg) => packageKeys.get(packageTupleKey(pkg))!)),
    );
    const hostKeys = await upsertHosts(
      client,
      inventories.map((inventory, index) => ({ inventory, packageSetKey: setKeys[index]!, source: options.source, seenAt: now })),
    );
    const secondsStore = (performance.now() - started) / 1000;
    options.progress?.(`stored ${inventories.length} inventories (${packageKeys.size} distinct package versions) in ${secondsStore.toFixed(2)} s`);
    const report = await detection.evaluateHosts(client, hostKeys, now, options.progress);
    return { ...report, hostKeys, secondsStore };
  });
}
