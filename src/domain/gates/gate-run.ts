/**
 * A gate's run, Argo Rollouts' analysis-run semantics: the first measurement `initialDelay` after
 * the run starts, then one every `interval` after the previous one finished. After each
 * measurement, in this order: more failures than `failureLimit` → failed; more inconclusive
 * measurements than `inconclusiveLimit` → inconclusive; more errors in a row than
 * `consecutiveErrorLimit` → error; `count` measurements that are not errors → successful (errors do
 * not count towards it). A `continuous` gate has no count: it runs until the engine stops it, and
 * fails the moment a limit is exceeded.
 *
 * What the engine does with a verdict (`action`):
 * - successful → `proceed`: the host or wave passed this gate.
 * - failed → the gate's `onFailure`: `halt` (no more admissions), `rollback`, or `pause`.
 * - inconclusive → `pause`, the verdict's reason stored, for an operator to resume or abort.
 * - error (the check could not be measured: query error, no answer, timeout) → `pause`: the
 *   gate is blocked, never passed; the reason names the last error. Resuming starts a new run.
 */
import type { Gate } from '../policy/policy-schema.js';
import { formatPolicyDuration } from '../policy/policy-duration.js';
import type { GateMeasurement, MeasurementPhase } from './gate-measurement.js';

export type GateTiming = Pick<Gate, 'when' | 'initialDelay' | 'interval' | 'count' | 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit' | 'onFailure'>;

export interface GateRun {
  /** When the run started: the host's upgrade ended (post-host), the wave finished (post-wave), the rollout began (continuous). */
  startedAt: Date;
  /** Every measurement so far, oldest first. */
  measurements: ReadonlyArray<Pick<GateMeasurement, 'phase' | 'finishedAt' | 'detail'>>;
}

export interface GateVerdict {
  phase: MeasurementPhase;
  action: 'proceed' | 'halt' | 'rollback' | 'pause';
  /** Words to store with the pause or halt. */
  reason: string;
}

/** Either a verdict (the run is over) or when to measure next (never earlier than `now`). */
export type GateStep = { verdict: GateVerdict; nextMeasurementAt?: never } | { verdict?: never; nextMeasurementAt: Date };

/**
 * @example nextGateStep(gate, { startedAt, measurements: [] }, now) // { nextMeasurementAt: startedAt + initialDelay }
 */
export function nextGateStep(gate: GateTiming, run: GateRun, now: Date): GateStep {
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  let counted = 0;
  for (const measurement of run.measurements) {
    if (measurement.phase === 'error') consecutiveErrors++;
    else {
      consecutiveErrors = 0;
      counted++;
    }
    if (measurement.phase === 'failed') failed++;
    if (measurement.phase === 'inconclusive') inconclusive++;
    const tally = `${counted} measured, ${failed} failed, ${inconclusive} inconclusive`;
    if (failed > gate.failureLimit) return { verdict: { phase: 'failed', action: gate.onFailure, reason: `${failed} failed measurement${failed === 1 ? '' : 's'}, more than failureLimit ${gate.failureLimit} (${tally}); last: ${measurement.detail}` } };
    if (inconclusive > gate.inconclusiveLimit) return { verdict: { phase: 'inconclusive', action: 'pause', reason: `${inconclusive} inconclusive measurement${inconclusive === 1 ? '' : 's'}, more than inconclusiveLimit ${gate.inconclusiveLimit} (${tally}); last: ${measurement.detail}` } };
    if (consecutiveErrors > gate.consecutiveErrorLimit) return { verdict: { phase: 'error', action: 'pause', reason: `blocked: ${consecutiveErrors} measurements in a row could not be taken, more than consecutiveErrorLimit ${gate.consecutiveErrorLimit}; last: ${measurement.detail}` } };
    if (gate.when !== 'continuous' && counted >= gate.count) return { verdict: { phase: 'successful', action: 'proceed', reason: `${tally} over ${formatPolicyDuration(Date.parse(measurement.finishedAt) - run.startedAt.getTime())}, within the limits` } };
  }
  const last = run.measurements.at(-1);
  const due = last ? Date.parse(last.finishedAt) + gate.interval : run.startedAt.getTime() + gate.initialDelay;
  return { nextMeasurementAt: new Date(Math.max(due, now.getTime())) };
}
