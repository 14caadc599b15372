/**
 * The server's job worker: runs the jobs no agent fetches — a host's steps over SSH or through
 * the operator's command hook, a node's cordon, drain and uncordon against the Kubernetes API.
 * Every replica runs one; a job is claimed with a lease in the database (`src/store/job-queue.ts`)
 * and the claim is renewed while it runs, so replicas share the work and a dead worker's job is
 * taken again after its lease. The claim records the first start before the executor acts: a job
 * found started without a result was cut short, and only a resumable step (a drain) runs again;
 * any other answers `interrupted`, as an agent does. An agentless host's facts, read by its
 * executor after the step, are recorded as a check-in before the result, so the state machine
 * judges them like an agent's.
 */
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import { hostInventoryFromTexts } from '../domain/inventory/host-texts.js';
import type { Executor, ExecutedStep, RemoteFacts } from '../executors/executor.js';
import { fullCheckInOf } from '../protocol/agent-protocol.js';
import type { JobResult } from '../protocol/job-protocol.js';
import type { ChangeListener } from '../store/change-notifications.js';
import { claimServerJobs, releaseJobClaims, renewJobClaim, type ClaimedJob } from '../store/job-queue.js';
import { recordJobResult } from '../store/rollout-store.js';
import type { ControlPlane } from './control-plane.js';

/** An executor for a claimed job, or why this server cannot run it (no Kubernetes access configured). */
export type ExecutorFor = (job: ClaimedJob) => Executor | { unavailable: string };

export interface JobWorkerOptions {
  pool: pg.Pool;
  /** This replica's name in claims. */
  holder: string;
  now: () => Date;
  log: (message: string) => void;
  executorFor: ExecutorFor;
  /** Where an agentless host's facts become a check-in. */
  controlPlane: Pick<ControlPlane, 'checkIn'>;
  /** How long a claim lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** Jobs run at once. Default 16. */
  concurrency?: number;
  /** How often the worker looks for jobs without being woken. Default 1 s. */
  pollMs?: number;
  /** `fleetpatch_jobs` (sent when a pass writes jobs) wakes the worker at once. */
  changes?: ChangeListener;
  /** What a step's success means for the fleet's records, done before its result is recorded (a retired host leaves the fleet). */
  afterStep?: (claimed: ClaimedJob, result: JobResult) => Promise<void>;
}

export class JobWorker {
  private readonly running = new Map<string, { done: Promise<void>; abort: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<number> | undefined;

  constructor(private readonly options: JobWorkerOptions) {
    options.changes?.subscribe('fleetpatch_jobs', () => void this.tick());
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  /** Claims what there is room for and starts each job; resolves with how many it started. */
  tick(): Promise<number> {
    // One claim at a time in this process: two overlapping claims would both count the same room.
    this.ticking ??= this.claimAndStart().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async claimAndStart(): Promise<number> {
    if (this.stopped) return 0;
    const room = (this.options.concurrency ?? 16) - this.running.size;
    const claimed = await claimServerJobs(this.options.pool, this.options.holder, this.options.now(), this.leaseMs, room);
    for (const job of claimed) {
      // Our own claim expired while the step still runs here (a renewal lagged): the claim is renewed, the step not started twice.
      if (this.running.has(job.key)) continue;
      const abort = new AbortController();
      const done = this.runClaimed(job, abort).catch((error: unknown) => this.options.log(`job ${job.key} on ${job.host}: ${error instanceof Error ? error.message : String(error)} (its claim expires and it is taken again)`)).finally(() => this.running.delete(job.key));
      this.running.set(job.key, { done, abort });
    }
    return claimed.length;
  }

  /** Waits for the jobs running now (tests, and a stopping server). */
  async idle(): Promise<void> {
    await this.ticking;
    await Promise.all([...this.running.values()].map((run) => run.done));
  }

  start(): void {
    const poll = () => {
      if (this.stopped) return;
      this.tick().catch((error: unknown) => this.options.log(`claiming server-side jobs failed (tried again): ${error instanceof Error ? error.message : String(error)}`)).finally(() => {
        if (!this.stopped) this.timer = setTimeout(poll, this.options.pollMs ?? 1_000);
      });
    };
    poll();
  }

  /** Stops claiming, interrupts what runs (a resumable step is left for the next holder) and gives the claims back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const run of this.running.values()) run.abort.abort();
    await this.idle();
    await releaseJobClaims(this.options.pool, this.options.holder);
  }

  private async runClaimed(claimed: ClaimedJob, abort: AbortController): Promise<void> {
    const { now, log } = this.options;
    const executor = this.options.executorFor(claimed);
    if ('unavailable' in executor) return this.report(claimed, failed(claimed, now(), executor.unavailable));
    const step = claimed.job.step;
    if (claimed.startedBefore && !executor.resumable.has(step)) {
      return this.report(claimed, failed(claimed, now(), `interrupted: the ${step} step was started by a server that stopped before its result; what it changed is unknown`));
    }
    // The claim is renewed while the step runs; losing it (another worker took the job) stops the step.
    let lost = false;
    const renewal = setInterval(() => {
      renewJobClaim(this.options.pool, claimed.key, this.options.holder, now(), this.leaseMs).then(
        (ours) => {
          if (!ours) {
            lost = true;
            abort.abort();
          }
        },
        () => undefined,
      );
    }, Math.max(100, this.leaseMs / 3));
    let executed: ExecutedStep;
    try {
      executed = await executor.run(claimed.job, { name: claimed.host, labels: claimed.labels, rolloutId: claimed.rolloutId, bucket: claimed.bucket }, {
        signal: abort.signal,
        log: (message) => log(`job ${claimed.key}: ${message}`),
        firstStartedAt: claimed.firstStartedAt,
        now,
      });
    } finally {
      clearInterval(renewal);
    }
    // Interrupted by a stop or a lost claim: a resumable step is the next holder's to run again.
    if (abort.signal.aborted && (lost || executor.resumable.has(step))) return;
    if (executed.facts) await this.recordFacts(claimed, executed.facts);
    await this.options.afterStep?.(claimed, executed.result);
    await this.report(claimed, executed.result);
  }

  private async recordFacts(claimed: ClaimedJob, facts: RemoteFacts): Promise<void> {
    try {
      const inventory = hostInventoryFromTexts(facts, claimed.labels);
      await this.options.controlPlane.checkIn(claimed.host, { ...fullCheckInOf(inventory), ...(facts.bootId ? { bootId: facts.bootId } : {}) }, this.options.now());
    } catch (error) {
      // Facts that do not parse leave the host's last ones: the step's verification then fails on its deadline, with this in the log.
      if (!(error instanceof InputError)) throw error;
      this.options.log(`job ${claimed.key}: the facts read from ${claimed.host} were refused: ${error.message}`);
    }
  }

  private async report(claimed: ClaimedJob, result: JobResult): Promise<void> {
    await recordJobResult(this.options.pool, claimed.host, claimed.key, result, this.options.now());
  }
}

function failed(claimed: ClaimedJob, now: Date, error: string): JobResult {
  return { outcome: 'failed', output: '', replaced: [], error, startedAt: claimed.firstStartedAt.toISOString(), finishedAt: now.toISOString() };
}
