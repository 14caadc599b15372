/**
 * The manual strategy (physical hosts and snowflakes): fleetpatch plans, announces, reminds and
 * keeps the record; a person does the work. The rollout is made the policy's notice days before
 * its window (the seed: monthly, 14 days ahead) and announced then to the owner and the dependent
 * teams the policy lists, reminded the day before; in the window each admitted host waits for an
 * operator to confirm the policy's checklist step by step (each confirmation audited), then its
 * versions are judged from its agent's check-ins as for any host. A window that ends before a
 * host is done times it out and pages the owner.
 */
import { BugError } from '../../errors.js';
import { type EngineContext, type HostChange, move, type RolloutEvent, type Strategy, strategyOf, versionMismatch } from '../host-steps.js';
import type { Rollout, RolloutHost } from '../rollout-model.js';
import { sharedSteps } from './in-place.js';

const DAY_MS = 86_400_000;

function settingsOf(rollout: Rollout) {
  const strategy = strategyOf(rollout);
  if (strategy.kind !== 'manual') throw new BugError(`rollout ${rollout.id} is not a manual window`);
  return strategy;
}

/** Checklist steps confirmed so far for this host. */
export const confirmedSteps = (host: Pick<RolloutHost, 'memo'>): number => (typeof host.memo.confirmed === 'number' ? host.memo.confirmed : 0);

function told(rollout: Rollout, kind: 'window-announced' | 'window-reminder', summary: string): RolloutEvent[] {
  const { notifyTeams } = settingsOf(rollout);
  return [rollout.team, ...notifyTeams.filter((team) => team !== rollout.team)].map((team) => ({ kind, severity: 'info', team, summary }));
}

export const manual: Strategy = {
  kind: 'manual',
  announce(rollout, context: EngineContext) {
    const planned = rollout.occurrenceStart;
    if (!planned || (rollout.state !== 'created' && rollout.state !== 'waiting-for-window')) return undefined;
    const memo = rollout.memo ?? {};
    const { now } = context;
    const { checklist } = settingsOf(rollout);
    const when = `the window starting ${planned.toISOString()}`;
    if (memo.announced === undefined) {
      const events = told(rollout, 'window-announced', `${rollout.bucket} (${rollout.team}): hosts are patched by hand in ${when}; the checklist: ${checklist.map((item, index) => `${index + 1}. ${item}`).join(' ')}`);
      return { events, memo: { ...memo, announced: now.toISOString() } };
    }
    if (memo.reminded === undefined && now.getTime() >= planned.getTime() - DAY_MS && now < planned) {
      return { events: told(rollout, 'window-reminder', `${rollout.bucket} (${rollout.team}): tomorrow's manual patch window, ${when}`), memo: { ...memo, reminded: now.toISOString() } };
    }
    return undefined;
  },
  advanceHost(rollout, host, context): HostChange | undefined {
    const { now } = context;
    const { checklist } = settingsOf(rollout);
    const overdue = host.deadline !== undefined && now.getTime() > host.deadline.getTime();
    switch (host.state) {
      case 'notified': {
        // Until the window's admission ends: the person has the window to finish.
        const until = context.admission.open ? context.admission.until : new Date(now.getTime() + rollout.settings.expectedHostMs);
        return move(host, 'awaiting-operator', now, { deadline: until, memo: { ...host.memo, confirmed: 0 } }, `waiting for an operator: ${checklist.length} checklist steps`);
      }
      case 'awaiting-operator': {
        const confirmed = confirmedSteps(host);
        if (confirmed >= checklist.length) {
          // Confirmed by a person; the versions still come from the host's own check-ins.
          // The snapshot's packages the host has, at the snapshot's versions (none is added by hand either).
          const left = versionMismatch(rollout.snapshot.filter((target) => host.facts.installed[target.name] !== undefined), host.facts.installed);
          if (!left) return move(host, 'monitoring', now, {}, `checklist confirmed (${checklist.length} steps)`);
          if (!overdue) return undefined;
          return { ...move(host, 'timed-out', now, { lastError: `the checklist was confirmed but ${left}` }), event: { kind: 'window-missed', severity: 'critical', summary: `${host.name} (${rollout.bucket}): the window ended with its checklist confirmed but ${left}` } };
        }
        if (!overdue) return undefined;
        const error = `the window ended with ${confirmed} of ${checklist.length} checklist steps confirmed (next: ${checklist[confirmed]})`;
        return { ...move(host, 'timed-out', now, { lastError: error }), event: { kind: 'window-missed', severity: 'critical', summary: `${host.name} (${rollout.bucket}): ${error}` } };
      }
      default:
        // Monitoring (the host's gates) as for any strategy.
        return sharedSteps(rollout, host, context);
    }
  },
};
