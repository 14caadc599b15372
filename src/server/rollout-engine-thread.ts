/**
 * Where a server process runs its rollout engine. By default on a worker thread of its own
 * (`rollout-engine-worker.ts`): during a rollout the main event loop answers thousands of agent
 * requests a second and each of a pass's five round trips to PostgreSQL waited its turn there
 * (the loop's delay was ~10 ms at p50 in bench:rollout). With an injected clock (tests) it runs on
 * the main thread, where the clock is. Either way it is the same engine with the same callbacks.
 */
import type pg from 'pg';
import type { Worker } from 'node:worker_threads';
import type { Policy } from '../domain/policy/policy-schema.js';
import type { HostState } from '../domain/rollout/rollout-model.js';
import { RolloutEngine, type PassPhases, type RolloutEngineOptions } from '../app/rollout-engine.js';
import { notifyPass } from '../app/rollout-notifications.js';
import { startModuleWorker } from '../app/module-worker.js';
import type { ChangeListener } from '../store/change-notifications.js';

/** The engine's settings; plain data, so they cross to a worker. */
export interface EngineSettings {
  holder: string;
  passIntervalMs?: number;
  leaseMs?: number;
  maxHostsPerPass?: number;
}

/** A committed pass as the server process counts it. */
export interface CommittedPass {
  bucket: string;
  /** The state each host transition entered. */
  entered: HostState[];
  haltReason?: string;
  /** The pass wrote timeline events (the notification outbox may have work). */
  events: boolean;
}

/** What the engine tells the server process: its metrics, its notification dispatcher, its log. */
export interface EngineReports {
  committed(pass: CommittedPass): void;
  timed(ms: number, transitions: number, phases: PassPhases): void;
  log(message: string): void;
}

/** A running engine, wherever it runs. */
export interface EngineHandle {
  /** Finishes the pass in progress and gives the leases back. */
  stop(): Promise<void>;
}

/** The engine's options from its settings, its reports and what it runs on. */
function engineOptions(settings: EngineSettings, reports: EngineReports, on: { pool: pg.Pool; changes: ChangeListener; policy: () => Policy | undefined; now: () => Date }): RolloutEngineOptions {
  return {
    pool: on.pool,
    changes: on.changes,
    holder: settings.holder,
    now: on.now,
    policy: on.policy,
    log: reports.log,
    onPass: async (client, rollout, pass, at) => void (await notifyPass(client, on.policy()?.notifications, rollout, pass, at)),
    // Counted once committed, so a pass that rolled back is not counted.
    onCommitted: (rollout, pass) => reports.committed({
      bucket: rollout.bucket,
      entered: pass.hosts.map((change) => change.to),
      ...(pass.rollout?.state === 'halted' && pass.rollout.haltReason ? { haltReason: pass.rollout.haltReason } : {}),
      events: pass.events.length > 0,
    }),
    onPassTimed: (ms, transitions, phases) => reports.timed(ms, transitions, phases),
    ...(settings.passIntervalMs !== undefined ? { passIntervalMs: settings.passIntervalMs } : {}),
    ...(settings.leaseMs !== undefined ? { leaseMs: settings.leaseMs } : {}),
    ...(settings.maxHostsPerPass !== undefined ? { maxHostsPerPass: settings.maxHostsPerPass } : {}),
  };
}

/** The engine on the calling thread. */
export function startEngineHere(settings: EngineSettings, reports: EngineReports, on: Parameters<typeof engineOptions>[2]): EngineHandle {
  const engine = new RolloutEngine(engineOptions(settings, reports, on));
  engine.start();
  return engine;
}

/** Messages from the engine's worker. */
export type EngineWorkerMessage =
  | { kind: 'committed'; pass: CommittedPass }
  | { kind: 'timed'; ms: number; transitions: number; phases: PassPhases }
  | { kind: 'log'; message: string }
  | { kind: 'stopped' };

/** What the worker is started with. */
export interface EngineWorkerData {
  connectionString: string;
  settings: EngineSettings;
}

const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The engine on a worker thread with its own connections to `connectionString`. A worker that
 * dies (a bug, not a stop) is logged and started again, after 1 s doubling to 30 s: the leases it
 * held expire meanwhile, as a dead replica's would.
 */
export function startEngineThread(connectionString: string, settings: EngineSettings, reports: EngineReports): EngineHandle {
  let worker: Worker | undefined;
  let stopping: Promise<void> | undefined;
  let restartDelayMs = RESTART_DELAY_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped: (() => void) | undefined;

  const start = () => {
    const data: EngineWorkerData = { connectionString, settings };
    const started = startModuleWorker(new URL('./rollout-engine-worker', import.meta.url), import.meta.url, { workerData: data });
    worker = started;
    started.on('message', (message: EngineWorkerMessage) => {
      if (message.kind === 'committed') {
        restartDelayMs = RESTART_DELAY_MS;
        reports.committed(message.pass);
      } else if (message.kind === 'timed') reports.timed(message.ms, message.transitions, message.phases);
      else if (message.kind === 'log') reports.log(message.message);
      else stopped?.();
    });
    started.on('error', (error) => reports.log(`rollout engine thread failed: ${error.stack ?? error.message}`));
    started.on('exit', (code) => {
      if (worker !== started) return;
      worker = undefined;
      stopped?.();
      if (stopping) return;
      reports.log(`rollout engine thread exited (${code}); starting it again in ${restartDelayMs / 1000} s`);
      restartTimer = setTimeout(start, restartDelayMs);
      restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, restartDelayMs * 2);
    });
  };
  start();

  return {
    stop() {
      stopping ??= (async () => {
        clearTimeout(restartTimer);
        const running = worker;
        if (!running) return;
        await new Promise<void>((resolve) => {
          stopped = resolve;
          running.postMessage({ kind: 'stop' });
        });
        await running.terminate();
      })();
      return stopping;
    },
  };
}
