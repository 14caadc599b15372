/**
 * The in-place strategy (stateful hosts: the seed's databases), per host: notified → pre-check →
 * applying (upgrade) → [rebooting → awaiting-return] → post-check → monitoring → succeeded. Each
 * step is a hard gate: a failure before the upgrade changes nothing; a failure after it rolls the
 * host back (when the policy says so) and counts against the error budget. Whether a reboot
 * worked is decided from the host's check-ins (a new boot id, a check-in after the reboot was
 * asked for, the target versions in place, no reboot still required), never from the host's word;
 * a host without an agent is read again by its executor (`collect-facts`) until it answers.
 *
 * The rolling reboot reuses these steps between its drain and its uncordon (`sharedSteps`).
 */
import { type EngineContext, fail, failureOf, executorReadsFacts, type HostChange, move, needsReboot, returned, start, type Strategy, upgradedTargets, versionMismatch } from '../host-steps.js';
import type { Rollout, RolloutHost } from '../rollout-model.js';

export interface SharedStepHooks {
  /** What follows a verified return from the reboot (in place: the post-check). */
  afterReturn?: (rollout: Rollout, host: RolloutHost, now: Date) => HostChange;
}

/** After the upgrade (and the reboot, if any): post-check, or straight to monitoring. */
export function afterUpgrade(rollout: Rollout, host: RolloutHost, now: Date, patch: HostChange['patch'] = {}): HostChange {
  return rollout.settings.postChecks.length > 0 ? start(rollout, host, 'post-check', now, patch) : move(host, 'monitoring', now, patch);
}

/** The first step of a host ready to change: its pre-check, or the upgrade. */
export function firstStep(rollout: Rollout, host: RolloutHost, now: Date): HostChange {
  return rollout.settings.preChecks.length > 0 ? start(rollout, host, 'pre-check', now) : start(rollout, host, 'upgrade', now);
}

/**
 * The next transition of a host in one of the shared steps (pre-check to rollback), or none.
 *
 * @example sharedSteps(rollout, host, context) // { name: 'db-1', from: 'pre-check', to: 'applying', job: { step: 'upgrade', … } }
 */
export function sharedSteps(rollout: Rollout, host: RolloutHost, context: EngineContext, hooks: SharedStepHooks = {}): HostChange | undefined {
  const { now } = context;
  const result = host.job?.result;
  const overdue = host.deadline !== undefined && now.getTime() > host.deadline.getTime();
  switch (host.state) {
    case 'pre-check':
      if (result?.outcome === 'succeeded') return start(rollout, host, 'upgrade', now);
      // Nothing was changed yet: failed, never rolled back.
      if (result) return move(host, 'failed', now, { lastError: `pre-check failed: ${failureOf(result)}` }, 'pre-check failed');
      return overdue ? move(host, 'timed-out', now, { lastError: 'pre-check did not report before its deadline' }) : undefined;
    case 'applying': {
      if (result?.outcome === 'failed') return fail(rollout, host, now, `upgrade failed: ${failureOf(result)}`, result.replaced);
      if (result) {
        const replaced = result.replaced;
        const upgraded = { ...host, replaced };
        // The versions are judged on the host's check-ins, not on the step's report: until one
        // shows the targets (or the step's deadline passes) the host stays where it is.
        const mismatch = versionMismatch(upgradedTargets(upgraded), host.facts.installed);
        if (mismatch) return overdue ? fail(rollout, upgraded, now, `after the upgrade ${mismatch}`, replaced) : undefined;
        if (needsReboot(rollout, upgraded, context)) {
          return start(rollout, upgraded, 'reboot', now, { replaced, bootIdBefore: host.facts.bootId, rebootRequestedAt: now });
        }
        return afterUpgrade(rollout, upgraded, now, { replaced });
      }
      return overdue ? move(host, 'timed-out', now, { lastError: 'the upgrade did not report before its deadline' }) : undefined;
    }
    case 'rebooting':
      if (result?.outcome === 'failed') return fail(rollout, host, now, `reboot failed: ${failureOf(result)}`);
      // The host said it is going down (or is already back): wait for it to return. A host
      // without an agent is read again by its executor until it answers, within the timeout.
      if (result || returned(host)) {
        if (executorReadsFacts(rollout) && !returned(host)) return start(rollout, host, 'collect-facts', now);
        return move(host, 'awaiting-return', now, { deadline: new Date(now.getTime() + rollout.settings.reboot.timeoutMs) });
      }
      return overdue ? move(host, 'timed-out', now, { lastError: 'the reboot did not start before its deadline' }) : undefined;
    case 'awaiting-return': {
      if (returned(host)) {
        const mismatch = versionMismatch(upgradedTargets(host), host.facts.installed);
        if (mismatch) return fail(rollout, host, now, `after the reboot ${mismatch}`);
        if (host.facts.rebootRequired) return fail(rollout, host, now, 'the host came back but still requires a reboot (the new kernel or libraries are not running)');
        return hooks.afterReturn ? hooks.afterReturn(rollout, host, now) : afterUpgrade(rollout, host, now);
      }
      if (!overdue) return undefined;
      return move(host, 'reboot-stuck', now, { lastError: `no check-in with a new boot id within ${Math.round(rollout.settings.reboot.timeoutMs / 1000)} s of the reboot` });
    }
    case 'post-check':
      if (result?.outcome === 'succeeded') return move(host, 'monitoring', now);
      if (result) return fail(rollout, host, now, `post-check failed: ${failureOf(result)}`);
      return overdue ? fail(rollout, host, now, 'the post-check did not report before its deadline') : undefined;
    case 'monitoring': {
      const gate = context.hostGates?.get(host.name) ?? { state: 'passed' };
      if (gate.state === 'passed') {
        const rebootPending = host.facts.rebootRequired && rollout.settings.reboot.policy === 'never';
        return move(host, rebootPending ? 'succeeded-reboot-pending' : 'succeeded', now, { slotHeld: false });
      }
      if (gate.state === 'running') return undefined;
      return fail(rollout, host, now, `gate ${gate.gate ?? ''} ${gate.state}${gate.detail ? `: ${gate.detail}` : ''}`.replace('  ', ' '));
    }
    case 'rolling-back': {
      if (result?.outcome === 'failed') return move(host, 'failed', now, { lastError: `rollback failed: ${failureOf(result)}` }, 'rollback failed');
      if (result) {
        // A rollback command (a snapshot restore) restores what it restores; reinstalled versions are checked.
        const restored = rollout.settings.rollback.commands.length > 0 ? undefined : versionMismatch(host.replaced.flatMap((change) => (change.from ? [{ name: change.name, version: change.from }] : [])), host.facts.installed);
        if (restored) return overdue ? move(host, 'failed', now, { lastError: `rollback incomplete: ${restored}` }) : undefined;
        return move(host, 'rolled-back', now, { slotHeld: false });
      }
      return overdue ? move(host, 'failed', now, { lastError: 'the rollback did not report before its deadline' }) : undefined;
    }
    default:
      return undefined;
  }
}

export const inPlace: Strategy = {
  kind: 'in-place',
  advanceHost(rollout, host, context) {
    if (host.state === 'notified') return firstStep(rollout, host, context.now);
    return sharedSteps(rollout, host, context);
  },
};
