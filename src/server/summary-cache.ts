/**
 * The fleet summary, shared by every reader (dashboard, API, /metrics): computed at most once per
 * `maxAgeMs`; an older one is served while a fresh one is computed in the background, so readers
 * wait only on the very first computation.
 */
import type pg from 'pg';
import { fleetSummary, type FleetSummary } from '../store/fleet-queries.js';

export interface SummaryCache {
  get(): Promise<FleetSummary>;
  /** Computes anew now (and shares the result with the next readers). */
  refresh(): Promise<FleetSummary>;
}

export function createSummaryCache(pool: pg.Pool, options: { staleAfterSeconds: number; maxAgeMs: number; now?: () => Date }): SummaryCache {
  let cached: { summary: FleetSummary; at: number } | undefined;
  let inFlight: Promise<FleetSummary> | undefined;
  const refresh = () => {
    inFlight ??= fleetSummary(pool, { staleAfterSeconds: options.staleAfterSeconds, now: options.now?.() ?? new Date() })
      .then((summary) => {
        cached = { summary, at: Date.now() };
        return summary;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    refresh,
    async get() {
      if (!cached) return refresh();
      if (Date.now() - cached.at >= options.maxAgeMs) void refresh().catch(() => undefined);
      return cached.summary;
    },
  };
}
