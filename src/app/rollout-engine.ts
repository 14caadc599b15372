/**
 * The rollout engine: every replica runs one. Each tick it leases the rollouts whose next pass is
 * due (`FOR UPDATE SKIP LOCKED`, so replicas share them and a dead replica's lease simply expires),
 * and for each runs one pass in one transaction: lock the row and re-check the lease, read the
 * hosts with their jobs and check-in facts, let the pure state machine decide, write every
 * transition and job, commit. Jobs are dispatched by being written (the agent long-polls for
 * them), so no side effect happens before its state is durable, and a pass repeated after a kill
 * finds its jobs already written under the same idempotency keys.
 */
import type pg from 'pg';
import { isKernelPackage } from '../domain/inventory/kernel.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { admissionAt } from '../domain/rollout/admission.js';
import { advanceRollout, type Advance, type EngineContext } from '../domain/rollout/rollout-machine.js';
import type { InstalledPackage } from '../domain/types.js';
import { defaultGateProviders, type GateProviders } from '../gates/gate-runner.js';
import { gateVerdicts, measureDueGates } from './rollout-gates.js';
import type { ChangeListener } from '../store/change-notifications.js';
import { claimDueRollouts, DEFAULT_MAX_PASS_HOSTS, getRollout, loadPassHosts, lockForPass, releaseLeases, writePass, type StoredRollout } from '../store/rollout-store.js';
import { withTransaction } from '../store/transaction.js';

export interface RolloutEngineOptions {
  pool: pg.Pool;
  /** This replica's name in leases (host name and process id, say). */
  holder: string;
  now: () => Date;
  /** The policy in force: its windows and freezes decide admission. */
  policy: () => Policy | undefined;
  log: (message: string) => void;
  /** How long a lease lasts without renewal; a dead replica's rollouts move on after this. Default 15 s. */
  leaseMs?: number;
  /** How soon a rollout with hosts in flight is passed again. Default 1 s. */
  passIntervalMs?: number;
  /**
   * How soon the next tick runs after one that wrote transitions (its rollouts are due again at
   * once: a change may enable the next). Default 100 ms, at most `passIntervalMs`: passes stay
   * small and a host's next step waits a tenth of a second, not a whole interval.
   */
  busyPassIntervalMs?: number;
  /** Rollouts leased per tick. Default 20. */
  batch?: number;
  /**
   * Hosts a pass reads at most (hosts in a step first, then those moving on their own, then
   * admissions): a 2,000-host wave is taken in bites, each pass short, the next one at once.
   * Default 100.
   */
  maxHostsPerPass?: number;
  /** Where gate measurements come from (Prometheus, HTTP, commands by default). */
  gateProviders?: GateProviders;
  /** Called inside the pass's transaction with what it decided: the notification outbox writes here. */
  onPass?: (client: pg.PoolClient, rollout: StoredRollout, pass: Advance, now: Date) => Promise<void>;
  /** Called after a pass that decided anything has committed (metrics count it, the notification dispatcher is woken). */
  onCommitted?: (rollout: StoredRollout, pass: Advance) => void;
  /** Called after every pass that held its lease with its duration (the whole transaction, connection to commit), the host transitions it wrote, and where the time went. */
  onPassTimed?: (ms: number, transitions: number, phases: PassPhases) => void;
  /**
   * Change notifications: a job result or a check-in of a host in flight notifies its rollout
   * (`fleetpatch_rollouts`), which is then passed at the next tick, soon after, whatever its
   * `next_pass_at` says. Without them a rollout waits for its next pass time.
   */
  changes?: ChangeListener;
}

const KERNEL_SCHEMES = ['dpkg', 'rpm', 'apk'] as const;

/** Kernel packages by name alone: the snapshot names packages, the host's scheme is one of these. */
function kernelPackageName(name: string): boolean {
  return KERNEL_SCHEMES.some((scheme) => isKernelPackage({ ecosystem: '', name, version: '0', arch: 'x86_64' } as InstalledPackage, scheme));
}

/** What a tick did: rollouts passed, host transitions written, and whether a pass left hosts unread. */
export interface TickResult {
  rollouts: number;
  transitions: number;
  more: boolean;
}

/** Milliseconds of one pass by phase: a connection and BEGIN, the rollout's lock, the reads (and gate verdicts), the state machine, the writes (and the outbox), COMMIT. */
export type PassPhases = Record<'begin' | 'lock' | 'read' | 'decide' | 'write' | 'commit', number>;

/** What one pass did. */
interface PassResult {
  transitions: number;
  /** Hosts were left unread for the next pass (`maxHostsPerPass`). */
  more: boolean;
}

/**
 * @example const engine = new RolloutEngine({ pool, holder: 'replica-a', now: () => new Date(), policy: () => inForce.current.policy, log: console.log }); engine.start();
 */
export class RolloutEngine {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  /** Rollouts notified since the last tick: passed at the next one. */
  private readonly woken = new Set<number>();
  /** Runs the next tick soon when the engine is waiting between ticks. */
  private hurry: (() => void) | undefined;

  constructor(private readonly options: RolloutEngineOptions) {
    options.changes?.subscribe('fleetpatch_rollouts', (payload) => {
      const id = Number(payload);
      if (!Number.isInteger(id)) return;
      this.woken.add(id);
      this.hurry?.();
    });
  }

  /** One round: lease what is due (or was notified) and pass each. */
  async tick(): Promise<TickResult> {
    const { pool, holder, now } = this.options;
    // Taken before the claim: a notification during this tick's passes wakes the next one.
    const woken = [...this.woken];
    this.woken.clear();
    const ids = await claimDueRollouts(pool, holder, now(), this.options.leaseMs ?? 15_000, this.options.batch ?? 20, woken);
    let transitions = 0;
    let more = false;
    for (const id of ids) {
      if (this.stopped) break;
      await this.measureGates(id);
      const passed = await this.pass(id);
      transitions += passed.transitions;
      more ||= passed.more;
    }
    return { rollouts: ids.length, transitions, more };
  }

  /** Gate measurements that are due, taken before the pass and outside its transaction. */
  private async measureGates(id: number): Promise<void> {
    const rollout = await getRollout(this.options.pool, id);
    if (!rollout || rollout.gates.length === 0 || rollout.leaseHolder !== this.options.holder) return;
    // Gate runs need the hosts in monitoring, which a pass always reads.
    const { hosts } = await loadPassHosts(this.options.pool, rollout, this.options.now());
    this.gateProviders ??= this.options.gateProviders ?? defaultGateProviders();
    await measureDueGates(this.options.pool, rollout, hosts, this.options.now(), this.gateProviders, this.options.now);
  }

  private gateProviders: GateProviders | undefined;

  /** One pass of one rollout: the host transitions it wrote (none when the lease was lost). */
  async pass(id: number): Promise<PassResult> {
    const { pool, holder } = this.options;
    let committed: { rollout: StoredRollout; pass: Advance } | undefined;
    const started = performance.now();
    const marks = [started];
    const mark = () => marks.push(performance.now());
    // The pass does not wait for its WAL flush (a database crash may lose its last fraction of a
    // second, never half of it). Nothing outside the database acts on a lost pass: the job worker
    // and the notification dispatcher claim their work with commits that do wait, which flushes
    // the pass before them, and an agent that ran a job of a lost pass is given the same key by
    // the pass repeated and reports its journaled result instead of running it again.
    const result = await withTransaction(pool, async (client): Promise<PassResult> => {
      mark();
      const now = this.options.now();
      const rollout = await lockForPass(client, id, holder, now);
      mark();
      if (!rollout) return { transitions: 0, more: false };
      let read = await loadPassHosts(client, rollout, now, { maxHosts: this.options.maxHostsPerPass ?? DEFAULT_MAX_PASS_HOSTS });
      const policy = this.options.policy();
      const gates = rollout.gates.length > 0 ? await gateVerdicts(client, rollout, read.hosts, now) : { rollout: { state: 'passed' as const } };
      // A failed gate may roll back every host that succeeded: that pass reads them all.
      if (gates.rollout.state === 'failed') read = await loadPassHosts(client, rollout, now, { all: true });
      const { hosts, others } = read;
      mark();
      const context: EngineContext = {
        now,
        admission: policy ? admissionAt(policy, rollout, now) : { open: false, reason: 'window-closed', detail: 'no policy is in force' },
        gates: gates.rollout,
        ...('hosts' in gates ? { hostGates: gates.hosts } : {}),
        isKernelPackage: kernelPackageName,
      };
      const decided = advanceRollout(rollout, hosts, context, others);
      mark();
      await writePass(client, rollout, decided, read, now, read.more ? now : this.nextPassAt(rollout, decided, now));
      await this.options.onPass?.(client, rollout, decided, now);
      // Expected signals are the timeline's, not the log's: a large rollout has one per host.
      for (const event of decided.events) if (!event.expected) this.options.log(`rollout ${rollout.id}: ${event.summary}`);
      if (decided.hosts.length > 0 || decided.events.length > 0 || decided.rollout) committed = { rollout, pass: decided };
      mark();
      return { transitions: decided.hosts.length, more: read.more };
    }, { waitForFlush: false });
    mark();
    if (this.options.onPassTimed && marks.length === 7) {
      const [begin, lock, read, decide, write, commit] = marks.slice(1).map((at, index) => at - marks[index]!);
      this.options.onPassTimed(marks[6]! - started, result.transitions, { begin: begin!, lock: lock!, read: read!, decide: decide!, write: write!, commit: commit! });
    }
    if (committed) this.options.onCommitted?.(committed.rollout, committed.pass);
    return result;
  }

  /**
   * At once after a pass that changed something (the change may enable the next); otherwise after
   * the interval, at the bake's end while baking, slower while waiting on a person or a window.
   * A job result or a check-in of a host in flight brings the next pass forward (`requestPass`).
   */
  private nextPassAt(rollout: StoredRollout, decided: Advance, now: Date): Date {
    if (decided.hosts.length > 0 || decided.rollout) return now;
    const interval = this.options.passIntervalMs ?? 1_000;
    const state = rollout.state;
    if (state === 'baking') {
      const until = rollout.bakeUntil;
      return new Date(Math.max(now.getTime() + interval, Math.min(until?.getTime() ?? 0, now.getTime() + 30_000)));
    }
    return new Date(now.getTime() + (state === 'paused' || state === 'waiting-for-window' || state === 'halted' ? 5 * interval : interval));
  }

  /**
   * Ticks every `passIntervalMs` (every `busyPassIntervalMs` after a tick that wrote transitions,
   * at once after one that left hosts unread) until stopped; a failing tick is logged and the
   * next one tries again.
   */
  start(): void {
    const interval = this.options.passIntervalMs ?? 1_000;
    const busyInterval = Math.min(interval, this.options.busyPassIntervalMs ?? 100);
    const loop = () => {
      if (this.stopped) return;
      let busy = false;
      let more = false;
      this.running = this.tick()
        .then((result) => {
          busy = result.transitions > 0;
          more = result.more;
        })
        .catch((error: unknown) => this.options.log(`rollout engine: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          if (this.stopped) return;
          // Hosts left unread are read at once; news waits a little, so a pass takes it in one bite.
          const wait = more ? 0 : busy || this.woken.size > 0 ? busyInterval : interval;
          this.timer = setTimeout(() => {
            this.hurry = undefined;
            loop();
          }, wait);
          // A notification while waiting a full interval shortens the wait to the busy one.
          this.hurry = wait < interval ? undefined : () => {
            this.hurry = undefined;
            clearTimeout(this.timer);
            this.timer = setTimeout(loop, busyInterval);
          };
        });
    };
    loop();
  }

  /** Finishes the pass in progress and gives the leases back, so another replica carries on at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await releaseLeases(this.options.pool, this.options.holder).catch(() => undefined);
  }
}
