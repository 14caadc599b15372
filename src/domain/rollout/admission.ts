/**
 * Whether a rollout may admit hosts now, from the policy in force: inside an occurrence of one of
 * its windows, until that occurrence's end minus the admission cutoff, cut short by a freeze that
 * starts before then; never during a freeze. Windows and freezes are read from the policy in force
 * (an operator who adds a freeze expects it to hold for running rollouts too); the rollout's own
 * settings stay as they were at creation. An emergency rollout's approved relaxations lift its
 * windows (admission is open at any hour) and the freezes that allow the emergency path.
 */
import { freezeCovers, freezeIntervals } from '../policy/freeze.js';
import { occurrenceAt } from '../policy/maintenance-window.js';
import type { Policy } from '../policy/policy-schema.js';
import type { Relaxation } from './rollout-model.js';
import type { EngineContext } from './rollout-machine.js';

const DAY_MS = 86_400_000;

/**
 * @example admissionAt(policy, { bucket: 'databases', team: 'data-platform', windows: ['database-evenings'] }, now) // { open: true, until: … }
 */
export function admissionAt(policy: Pick<Policy, 'windows' | 'freezes'>, rollout: { bucket: string; team: string; windows: readonly string[]; relaxations?: readonly Relaxation[] }, now: Date): EngineContext['admission'] {
  const relaxes = new Set(rollout.relaxations);
  const horizon = new Date(now.getTime() + 400 * DAY_MS);
  const freezes = policy.freezes
    .filter((freeze) => freezeCovers(freeze, { name: rollout.bucket, owner: rollout.team }) && !(relaxes.has('freezes') && freeze.allowEmergency))
    .flatMap((freeze) => freezeIntervals(freeze, new Date(now.getTime() - DAY_MS), horizon));
  const current = freezes.find((freeze) => freeze.start <= now && now < freeze.end);
  if (current) return { open: false, reason: 'freeze', detail: `in the freeze ${current.name} until ${current.end.toISOString()}` };

  let until: Date | undefined = relaxes.has('windows') ? horizon : undefined;
  for (const name of relaxes.has('windows') ? [] : rollout.windows) {
    const window = policy.windows[name];
    const occurrence = window ? occurrenceAt(window, now) : undefined;
    if (occurrence && now < occurrence.admissionEnd && (!until || occurrence.admissionEnd > until)) until = occurrence.admissionEnd;
  }
  if (!until) return { open: false, reason: 'window-closed', detail: rollout.windows.length === 0 ? `bucket ${rollout.bucket} has no window` : `outside the windows ${rollout.windows.join(', ')}` };
  const nextFreeze = freezes.filter((freeze) => freeze.start > now && freeze.start < until!).sort((a, b) => a.start.getTime() - b.start.getTime())[0];
  return { open: true, until: nextFreeze ? nextFreeze.start : until };
}
