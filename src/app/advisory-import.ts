/**
 * Imports advisories from a feed in one transaction, skipping unchanged records, then re-evaluates
 * only the hosts that run a package the new or changed advisories touch. A batch with any invalid
 * record is refused whole: the database keeps what it had. The import holds the advisory lock
 * exclusively (check-ins of every process wait), writes the next advisory generation and announces
 * it on `fleetpatch_advisories` when it commits.
 */
import type pg from 'pg';
import type { Advisory } from '../domain/advisories/advisory.js';
import { ecosystemKey } from '../domain/detection/ecosystem-key.js';
import { InputError } from '../domain/errors.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { loadFeedState, loadModifiedTimes, lockAdvisoriesExclusive, saveFeedState, upsertAdvisories } from '../store/advisory-store.js';
import { notifyChange } from '../store/change-notifications.js';
import { hostsWithPackages, loadPackageVersions } from '../store/inventory-store.js';
import { withTransaction } from '../store/transaction.js';
import type { DetectionService, EvaluationReport, ProgressListener } from './detection-service.js';

export interface AdvisoryImportReport {
  imported: number;
  unchanged: number;
  withdrawn: number;
  hostsReevaluated: number;
  evaluation?: EvaluationReport;
  /** Incidents the import opened (with an `openIncidents` hook). */
  incidentsOpened?: number[];
}

/**
 * Called in the import's transaction after its re-evaluation, last before the commit, with the
 * advisories it wrote: opens the incidents they call for (`incidentOpener`), returning their ids.
 */
export type OpenIncidentsHook = (client: pg.PoolClient, advisories: readonly Advisory[], now: Date) => Promise<number[]>;

/**
 * @example await importAdvisories(pool, detection, openAdvisoryFeed('almalinux9.zip'))
 */
export async function importAdvisories(
  pool: pg.Pool,
  detection: DetectionService,
  feed: AdvisoryFeed,
  options: { now?: Date; progress?: ProgressListener; onCount?: (done: number, total: number | undefined) => void; openIncidents?: OpenIncidentsHook } = {},
): Promise<AdvisoryImportReport> {
  const known = await loadModifiedTimes(pool);
  const state = await loadFeedState(pool, feed.location);
  const batch = await feed.read({
    knownModified: (id) => known.get(id),
    ...(state ? { state } : {}),
    ...(options.onCount ? { onProgress: options.onCount } : {}),
  });
  if (batch.errors.length > 0) {
    const shown = batch.errors.slice(0, 5).map((error) => `  ${error.message}`).join('\n');
    const more = batch.errors.length > 5 ? `\n  … and ${batch.errors.length - 5} more` : '';
    throw new InputError(`${batch.errors.length} invalid advisory record(s); nothing was imported:\n${shown}${more}`, { file: feed.location });
  }
  // One record can ship in several archives (AlmaLinux errata that cover two releases); keep the newest.
  const latest = new Map<string, Advisory>();
  for (const advisory of batch.advisories) {
    const previous = latest.get(advisory.id);
    if (!previous || previous.modified.getTime() <= advisory.modified.getTime()) latest.set(advisory.id, advisory);
  }
  const advisories = [...latest.values()];
  options.progress?.(`read ${advisories.length} new or changed advisories (${batch.unchanged} unchanged) from ${feed.location}`);
  const now = options.now ?? new Date();
  // The index is updated inside the transaction; if the transaction fails, rebuild it from what
  // the database kept so memory never holds advisories that were rolled back.
  return withTransaction(pool, async (client) => {
    const report: AdvisoryImportReport = {
      imported: advisories.length,
      unchanged: batch.unchanged,
      withdrawn: advisories.filter((advisory) => advisory.withdrawn).length,
      hostsReevaluated: 0,
    };
    if (advisories.length === 0) {
      await saveFeedState(client, feed.location, batch.state);
      return report;
    }
    // First, before any row lock: check-ins in flight finish, later ones wait for the commit. The
    // index then catches up with imports other processes committed, so re-evaluation sees them too.
    const committed = await lockAdvisoriesExclusive(client);
    await detection.catchUp(client, committed);
    const generation = committed + 1;
    const keys = await upsertAdvisories(client, advisories, feed.location, generation);
    await saveFeedState(client, feed.location, batch.state);
    await notifyChange(client, 'fleetpatch_advisories', String(generation));
    const touched = detection.addAdvisories(advisories.map((advisory, index) => ({ key: keys[index]!, advisory, generation })));
    if (touched.length === 0) return report;
    const hostKeys = await affectedHosts(client, detection, touched);
    options.progress?.(`re-evaluating ${hostKeys.length} hosts that run packages these advisories name`);
    if (hostKeys.length > 0) {
      report.evaluation = await detection.evaluateHosts(client, hostKeys, now, options.progress);
      report.hostsReevaluated = hostKeys.length;
      // An advisory that touches no stored package affects no host, so opens no incident.
      if (options.openIncidents) report.incidentsOpened = await options.openIncidents(client, advisories, now);
    }
    return report;
  }).catch(async (error: unknown) => {
    await detection.reload(pool);
    throw error;
  });
}

/** Hosts that run any stored package version whose identity the touched advisories name. */
async function affectedHosts(client: pg.PoolClient, detection: DetectionService, touched: Array<{ ecosystem: string; name: string }>): Promise<number[]> {
  const wanted = new Set(touched.map(({ ecosystem, name }) => `${ecosystemKey(ecosystem)}\u0000${name}`));
  const releaseless = new Set(touched.filter(({ ecosystem }) => !ecosystem.includes(':')).map(({ ecosystem, name }) => `${ecosystem}\u0000${name}`));
  const packageKeys: number[] = [];
  for (const pkg of (await loadPackageVersions(client)).values()) {
    const identity = detection.identityOf(pkg);
    const base = identity.ecosystem.split(':')[0]!;
    if (wanted.has(`${ecosystemKey(identity.ecosystem)}\u0000${identity.name}`) || releaseless.has(`${base}\u0000${identity.name}`)) packageKeys.push(pkg.key);
  }
  return hostsWithPackages(client, packageKeys);
}
