/**
 * `GET /api/v1/hosts/{name}/job?waitSeconds=N`: the agent's long poll. A waiting request is woken
 * by `fleetpatch_jobs` notifications (any replica's pass that dispatches a job to the host). It
 * listens before it looks, so a job written between its look and its wait still wakes it; when the
 * listening connection breaks or comes back every waiter looks again, and while nothing can be
 * heard it looks every half second: a missed notification costs at most that, never the job.
 */
import type pg from 'pg';
import type { HostJob } from '../protocol/job-protocol.js';
import type { ChangeListener } from '../store/change-notifications.js';
import { CallBatcher } from '../app/call-batcher.js';
import { fetchHostJobs } from '../store/rollout-store.js';
import { retryingDeadlocks } from '../store/transaction.js';

/** How often a waiter looks again while notifications are heard: a safety net only. */
const RECHECK_MS = 30_000;
const RECHECK_UNHEARD_MS = 500;

export interface JobLongPoll {
  /** The host's job, waiting up to `waitMs` for one; undefined when none came. */
  next(host: string, waitMs: number, signal?: AbortSignal): Promise<HostJob | undefined>;
}

/** A wake-up armed before the look it follows: a notification in between is not lost. */
interface Wake {
  /** Resolves when woken, or after `ms` (whichever first); `cancel` resolves it at once. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

/**
 * @example const job = await jobLongPoll(pool, changes, () => new Date()).next('db-7', 25_000)
 */
export function jobLongPoll(pool: pg.Pool, changes: ChangeListener | undefined, now: () => Date): JobLongPoll {
  const waiters = new Map<string, Set<() => void>>();
  // A pass that dispatches to hundreds of hosts wakes hundreds of waiters at once: they look in a few statements.
  const looks = new CallBatcher<string, HostJob | undefined>(async (hosts) => {
    const jobs = await retryingDeadlocks(() => fetchHostJobs(pool, [...new Set(hosts)], now()));
    return hosts.map((host) => jobs.get(host));
  });
  changes?.subscribe('fleetpatch_jobs', (payload) => {
    for (const host of payload.split('\n')) for (const wake of waiters.get(host) ?? []) wake();
  });
  // Notifications may have been missed, or can be heard again: everyone looks.
  changes?.onReset(() => {
    for (const set of waiters.values()) for (const wake of set) wake();
  });
  const arm = (host: string, signal?: AbortSignal): Wake => {
    let woken = false;
    let release: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      woken = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      const set = waiters.get(host);
      set?.delete(done);
      if (set?.size === 0) waiters.delete(host);
      release?.();
    };
    signal?.addEventListener('abort', done, { once: true });
    let set = waiters.get(host);
    if (!set) waiters.set(host, (set = new Set()));
    set.add(done);
    return {
      wait: (ms) => new Promise<void>((resolve) => {
        if (woken) return resolve();
        release = resolve;
        timer = setTimeout(done, ms);
      }),
      cancel: done,
    };
  };
  return {
    async next(host, waitMs, signal) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const wake = arm(host, signal);
        const job = await looks.call(host).catch((error: unknown) => {
          wake.cancel();
          throw error;
        });
        const left = deadline - Date.now();
        if (job || left <= 0 || signal?.aborted) {
          wake.cancel();
          return job;
        }
        await wake.wait(Math.min(left, changes?.listening ? RECHECK_MS : RECHECK_UNHEARD_MS));
      }
    },
  };
}
