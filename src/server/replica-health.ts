/**
 * What only this replica knows of its own health, for the debug view: how long its rollout
 * engine's last passes took, and how its last advisory syncs went (a failed sync is logged and
 * retried; the database keeps no trace of it). Kept in memory, bounded.
 */

/** Passes remembered for the durations' percentiles. */
const PASSES_KEPT = 200;

export interface ReplicaHealthView {
  passes: { count: number; lastMs?: number; medianMs?: number; p90Ms?: number; maxMs?: number };
  syncs: { attempts: number; failures: number; lastAttemptAt?: string; lastSuccessAt?: string; lastError?: string; lastErrorAt?: string };
}

export interface ReplicaHealth {
  recordPass(ms: number): void;
  recordSync(outcome: { at: Date; error?: string }): void;
  view(): ReplicaHealthView;
}

/** The q-quantile of a non-empty sorted list (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** @example const health = createReplicaHealth(); health.recordPass(12); health.view().passes.lastMs // 12 */
export function createReplicaHealth(): ReplicaHealth {
  const passes: number[] = [];
  let passCount = 0;
  const syncs: ReplicaHealthView['syncs'] = { attempts: 0, failures: 0 };
  return {
    recordPass(ms) {
      passCount++;
      passes.push(ms);
      if (passes.length > PASSES_KEPT) passes.shift();
    },
    recordSync({ at, error }) {
      syncs.attempts++;
      syncs.lastAttemptAt = at.toISOString();
      if (error === undefined) {
        syncs.lastSuccessAt = at.toISOString();
        return;
      }
      syncs.failures++;
      syncs.lastError = error;
      syncs.lastErrorAt = at.toISOString();
    },
    view() {
      const sorted = [...passes].sort((a, b) => a - b);
      const rounded = (ms: number) => Math.round(ms * 10) / 10;
      const durations = sorted.length === 0 ? {} : { lastMs: rounded(passes.at(-1)!), medianMs: rounded(percentile(sorted, 0.5)), p90Ms: rounded(percentile(sorted, 0.9)), maxMs: rounded(sorted.at(-1)!) };
      return { passes: { count: passCount, ...durations }, syncs: { ...syncs } };
    },
  };
}
