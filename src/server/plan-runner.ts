/**
 * Where the API's plans are computed: planning 100,000 hosts is about two seconds of CPU and its
 * result (a million finding forecasts) is far too large to copy between threads, so in the server
 * a worker thread reads the fleet, plans, keeps the plans (`plan-cache.ts`) and answers only the
 * bounded views the API sends (`plan-view.ts`). The event loop that serves check-ins never plans.
 * Tests that build the app in process may plan on the calling thread instead.
 */
import type pg from 'pg';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../app/module-worker.js';
import { whatIfStoredFleet } from '../app/plan-service.js';
import type { WhatIfAnswer, WhatIfScenario } from '../domain/planning/what-if.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { BugError } from '../domain/errors.js';
import { installedVersionsByTeam } from '../store/drift-queries.js';
import { createPlanCache, type PlanRequestKey } from './plan-cache.js';
import { driftView, planView, type DriftBaseline, type PlanViewOptions } from './plan-view.js';

export type PlanView = ReturnType<typeof planView>;
export type DriftView = ReturnType<typeof driftView>;

export interface HostPlanExplained {
  generatedAt: Date;
  horizonEnd: Date;
  [field: string]: unknown;
}

export interface PlanRunner {
  view(request: PlanRequestKey, options: PlanViewOptions): Promise<PlanView>;
  /** One host's plan and its findings' forecasts; undefined for a host the plan does not have. */
  explain(request: PlanRequestKey, host: string): Promise<HostPlanExplained | undefined>;
  /** Drift per baseline; `plan` (when given) supplies the targets of `security` and `latest` baselines. */
  drift(baselines: DriftBaseline[], plan: PlanRequestKey | undefined): Promise<{ generatedAt: Date | undefined; baselines: DriftView[] }>;
  /** The what-if over every host that runs the package (a fleet-wide schedule: CPU the event loop must not spend). */
  whatIf(policy: Policy, scenario: WhatIfScenario): Promise<WhatIfAnswer>;
  close(): Promise<void>;
}

/** The operations themselves, on the thread that calls them (the worker, or a test's process). */
export function planOperations(pool: pg.Pool, options: { staleAfterSeconds: number }): Omit<PlanRunner, 'close'> {
  const plans = createPlanCache(pool, { staleAfterSeconds: options.staleAfterSeconds, now: () => new Date() });
  return {
    async view(request, viewOptions) {
      return planView(request.policy, await plans.get(request), viewOptions);
    },
    async explain(request, host) {
      const plan = await plans.get(request);
      const hostPlan = plan.hosts.find((candidate) => candidate.host === host);
      if (!hostPlan) return undefined;
      return { generatedAt: plan.generatedAt, horizonEnd: plan.horizonEnd, ...hostPlan, findings: plan.findings.forHost(host) };
    },
    async drift(baselines, request) {
      const plan = request ? await plans.get(request) : undefined;
      const views: DriftView[] = [];
      for (const baseline of baselines) views.push(driftView(baseline, await installedVersionsByTeam(pool, baseline.package, baseline.ecosystem), plan));
      return { generatedAt: plan?.generatedAt, baselines: views };
    },
    whatIf: (policy, scenario) => whatIfStoredFleet(pool, policy, scenario),
  };
}

/** Plans on the calling thread: for tests and tools that have no check-ins to protect. */
export function inlinePlanRunner(pool: pg.Pool, options: { staleAfterSeconds: number }): PlanRunner {
  return { ...planOperations(pool, options), close: async () => undefined };
}

type Operation = 'view' | 'explain' | 'drift' | 'whatIf';

/**
 * One worker with its own small pool on `connectionString`, started on first use. A worker that
 * dies fails what it was asked and is started afresh on the next request.
 *
 * @example const runner = workerPlanRunner(database.connectionString, { staleAfterSeconds: 3600 })
 */
export function workerPlanRunner(connectionString: string, options: { staleAfterSeconds: number }): PlanRunner {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void }>();

  const start = (): Worker => {
    const started = startModuleWorker(new URL('./plan-worker', import.meta.url), import.meta.url, { workerData: { connectionString, staleAfterSeconds: options.staleAfterSeconds } });
    started.unref();
    started.on('message', (message: { id: number; result?: never; failure?: { message: string; stack?: string; code?: string } }) => {
      const request = pending.get(message.id);
      if (!request) return;
      pending.delete(message.id);
      // The error code crosses too, so a database outage in the worker is still a 503, not a 500.
      if (message.failure === undefined) request.resolve(message.result as never);
      else request.reject(Object.assign(new Error(message.failure.message), { stack: message.failure.stack, code: message.failure.code }));
    });
    const fail = (error: Error) => {
      if (worker === started) worker = undefined;
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    };
    started.on('error', fail);
    started.on('exit', (code) => fail(new BugError(`the plan worker exited with status ${code}`)));
    return started;
  };

  const ask = <T>(operation: Operation, args: unknown[]): Promise<T> => {
    worker ??= start();
    const id = nextId++;
    const target = worker;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: never) => void, reject });
      target.postMessage({ id, operation, args });
    });
  };
  return {
    view: (request, viewOptions) => ask('view', [request, viewOptions]),
    explain: (request, host) => ask('explain', [request, host]),
    drift: (baselines, request) => ask('drift', [baselines, request]),
    whatIf: (policy, scenario) => ask('whatIf', [policy, scenario]),
    async close() {
      const stopping = worker;
      worker = undefined;
      if (stopping) {
        stopping.postMessage({ id: 0, operation: 'close', args: [] });
        await stopping.terminate();
      }
    },
  };
}

