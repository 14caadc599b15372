/**
 * `GET /api/v1/hosts/{name}/job?waitSeconds=N`: the agent's long poll. A waiting request is woken
 * by `fleetpatch_jobs` notifications (any replica's pass that dispatches a job to the host), and
 * also looks again every few seconds, and every half second while notifications cannot be heard,
 * so a missed notification costs seconds, never the job.
 */
import type pg from 'pg';
import type { HostJob } from '../protocol/job-protocol.js';
import type { ChangeListener } from '../store/change-notifications.js';
import { fetchHostJob } from '../store/rollout-store.js';

const RECHECK_MS = 5_000;
const RECHECK_UNHEARD_MS = 500;

export interface JobLongPoll {
  /** The host's job, waiting up to `waitMs` for one; undefined when none came. */
  next(host: string, waitMs: number, signal?: AbortSignal): Promise<HostJob | undefined>;
}

/**
 * @example const job = await jobLongPoll(pool, changes, () => new Date()).next('db-7', 25_000)
 */
export function jobLongPoll(pool: pg.Pool, changes: ChangeListener | undefined, now: () => Date): JobLongPoll {
  const waiters = new Map<string, Set<() => void>>();
  changes?.subscribe('fleetpatch_jobs', (payload) => {
    for (const host of payload.split('\n')) for (const wake of waiters.get(host) ?? []) wake();
  });
  const sleep = (host: string, ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const set = waiters.get(host);
        set?.delete(done);
        if (set?.size === 0) waiters.delete(host);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      let set = waiters.get(host);
      if (!set) waiters.set(host, (set = new Set()));
      set.add(done);
    });
  return {
    async next(host, waitMs, signal) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const job = await fetchHostJob(pool, host, now());
        const left = deadline - Date.now();
        if (job || left <= 0 || signal?.aborted) return job;
        await sleep(host, Math.min(left, changes?.listening ? RECHECK_MS : RECHECK_UNHEARD_MS), signal);
      }
    },
  };
}
