/** The strategies the rollout machine runs, by the kind a rollout froze from its bucket. */
import { BugError } from '../../errors.js';
import { strategyOf, type Strategy } from '../host-steps.js';
import type { Rollout } from '../rollout-model.js';
import { inPlace } from './in-place.js';
import { manual } from './manual.js';
import { replace } from './replace.js';
import { rollingReboot } from './rolling-reboot.js';

const STRATEGIES: ReadonlyMap<string, Strategy> = new Map([inPlace, rollingReboot, replace, manual].map((strategy) => [strategy.kind, strategy]));

/** Kinds rollouts can run: a bucket of another kind is refused when its rollout is drafted. */
export const RUNNABLE_STRATEGIES: ReadonlySet<string> = new Set(STRATEGIES.keys());

export function strategyFor(rollout: Rollout): Strategy {
  const kind = strategyOf(rollout).kind;
  const strategy = STRATEGIES.get(kind);
  if (!strategy) throw new BugError(`rollout ${rollout.id} has strategy ${kind}, which this engine does not run`);
  return strategy;
}
