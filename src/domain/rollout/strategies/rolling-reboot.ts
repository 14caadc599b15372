/**
 * The rolling-reboot strategy (Kubernetes nodes), per node: notified → cordoning → draining →
 * [pre-check] → applying → rebooting → awaiting-return → awaiting-ready → uncordoning →
 * [post-check] → monitoring → succeeded. The cordon, drain, readiness wait and uncordon are jobs
 * for the Kubernetes executor (the server's job worker); the update and reboot run on the node's
 * own executor (its agent, or a hook for image-based node OSes), and the return is verified as in
 * place: a new boot id and the target versions from the node's agent, then the node Ready.
 *
 * What users of kured and brupop complain about is designed out: the uncordon is a persisted step
 * of its own, taken on every way out once fleetpatch cordoned the node (success, a failed step, a
 * rollback), and never for a node someone else had cordoned; a drain that PodDisruptionBudgets
 * keep blocked past `stuckAfter` ends (the executor gives up), uncordons the node and pauses the
 * rollout with a page, never loops in silence. A node stuck in its reboot is left cordoned: it
 * is not back, and a person decides (retry or skip).
 */
import { BugError } from '../../errors.js';
import { fail, failureOf, type HostChange, type JobDraft, move, startJob, type Strategy, strategyOf } from '../host-steps.js';
import type { HostState, Rollout, RolloutHost } from '../rollout-model.js';
import { FAILED_HOST_STATES } from '../rollout-model.js';
import { afterUpgrade, firstStep, sharedSteps } from './in-place.js';

/** A cordon or uncordon is one API call; the job worker's retries fit in this. */
const NODE_CALL_MS = 2 * 60_000;

function settingsOf(rollout: Rollout) {
  const strategy = strategyOf(rollout);
  if (strategy.kind !== 'rolling-reboot') throw new BugError(`rollout ${rollout.id} is not a rolling reboot`);
  return strategy;
}

function nodeJob(rollout: Rollout, step: 'cordon' | 'drain' | 'await-ready' | 'uncordon', now: Date): JobDraft {
  const { drain } = settingsOf(rollout);
  const base = { step, executor: 'kubernetes' as const, commands: [], packages: [], previous: [] };
  const at = (ms: number) => new Date(now.getTime() + ms);
  switch (step) {
    case 'drain':
      return { ...base, deadline: at(drain.timeoutMs), drain: { stuckAfterMs: drain.stuckAfterMs, deleteEmptyDirData: drain.deleteEmptyDirData, ...(drain.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: drain.gracePeriodSeconds } : {}) } };
    case 'await-ready':
      return { ...base, deadline: at(rollout.settings.reboot.timeoutMs) };
    default:
      return { ...base, deadline: at(NODE_CALL_MS) };
  }
}

const cordonedByUs = (host: RolloutHost) => host.memo.cordonedByUs === true;

/** The way out of a failed node: through its uncordon first when fleetpatch cordoned it. */
function leave(host: RolloutHost, change: HostChange, rollout: Rollout, now: Date): HostChange {
  if (!cordonedByUs(host) || !isWayOut(change.to)) return change;
  const { slotHeld, ...patch } = change.patch;
  const memo = { ...host.memo, then: change.to, ...(slotHeld === false ? { releaseSlot: true } : {}) };
  return { ...startJob(host, nodeJob(rollout, 'uncordon', now), now, { ...patch, memo }, change.note), ...(change.pause ? { pause: change.pause } : {}) };
}

/** Failed ends after which the node is usable: uncordoned before them (a node stuck in its reboot is not back). */
const isWayOut = (state: HostState) => FAILED_HOST_STATES.has(state) && state !== 'reboot-stuck' && state !== 'rolling-back';

export const rollingReboot: Strategy = {
  kind: 'rolling-reboot',
  advanceHost(rollout, host, context) {
    const { now } = context;
    const result = host.job?.result;
    const overdue = host.deadline !== undefined && now.getTime() > host.deadline.getTime();
    switch (host.state) {
      case 'notified':
        return startJob(host, nodeJob(rollout, 'cordon', now), now);
      case 'cordoning':
        if (result?.outcome === 'succeeded') return startJob(host, nodeJob(rollout, 'drain', now), now, { memo: { ...host.memo, cordonedByUs: result.details?.cordonedByUs === true } });
        if (result) return move(host, 'failed', now, { lastError: `cordon failed: ${failureOf(result)}` });
        return overdue ? move(host, 'timed-out', now, { lastError: 'the cordon did not report before its deadline' }) : undefined;
      case 'draining': {
        if (result?.outcome === 'succeeded') return firstStep(rollout, host, now);
        if (!result && !overdue) return undefined;
        const stuck = result?.details?.stuck === true;
        const error = result ? `drain failed: ${failureOf(result)}` : 'the drain did not finish before its timeout';
        const failed = move(host, 'failed', now, { lastError: error }, error);
        // Blocked by budgets that allow no disruption: a person must look, so the rollout pauses and pages.
        const pause = stuck || !result ? { reason: 'drain-stuck' as const, kind: 'drain-stuck' as const, detail: `${host.name}: ${error}` } : undefined;
        return leave(host, { ...failed, ...(pause ? { pause } : {}) }, rollout, now);
      }
      case 'awaiting-ready':
        if (result?.outcome === 'succeeded') {
          return cordonedByUs(host) ? startJob(host, nodeJob(rollout, 'uncordon', now), now) : afterUpgrade(rollout, host, now);
        }
        if (!result && !overdue) return undefined;
        return leave(host, fail(rollout, host, now, result ? `the node did not become Ready: ${failureOf(result)}` : 'the node did not become Ready before the reboot timeout'), rollout, now);
      case 'uncordoning': {
        if (result?.outcome === 'succeeded') {
          const { then, releaseSlot, ...rest } = host.memo;
          const memo = { ...rest, cordonedByUs: false };
          // The failure that led here stays the host's reason.
          if (typeof then === 'string') return move(host, then as HostState, now, { memo, ...(host.lastError ? { lastError: host.lastError } : {}), ...(releaseSlot ? { slotHeld: false } : {}) }, `uncordoned; ${then}`);
          return afterUpgrade(rollout, host, now, { memo });
        }
        if (result) return move(host, 'failed', now, { lastError: `uncordon failed, the node stays cordoned: ${failureOf(result)}` });
        return overdue ? move(host, 'failed', now, { lastError: 'the uncordon did not report before its deadline; the node may stay cordoned' }) : undefined;
      }
      default: {
        const change = sharedSteps(rollout, host, context, { afterReturn: (r, h, at) => startJob(h, nodeJob(r, 'await-ready', at), at) });
        return change ? leave(host, change, rollout, now) : undefined;
      }
    }
  },
};
