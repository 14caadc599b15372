// How the dashboard groups a rollout host's states (the engine's names, src/domain/rollout/rollout-model.ts)
// for its bars and colours. What counts against the budget and what an operator may do come from the API.

/**
 * In bar order: not started, in a step (fleetpatch is at work: its jobs, a node's drain, a
 * replacement's warm-up), waiting on a person (a manual window's checklist: nothing moves until
 * someone confirms a step), done, left out, failed.
 */
export const STATE_GROUPS = [
  { key: 'waiting', label: 'waiting', color: '#5b6b7c', states: ['pending', 'queued', 'waiting-for-window', 'deferred'] },
  {
    key: 'in-flight',
    label: 'in flight',
    color: '#7cb7ff',
    states: ['notified', 'pre-check', 'downloading', 'applying', 'rebooting', 'awaiting-return', 'post-check', 'monitoring',
      'cordoning', 'draining', 'awaiting-ready', 'uncordoning', 'provisioning', 'awaiting-replacement', 'retiring'],
  },
  { key: 'awaiting-operator', label: 'waiting on a person', color: '#c78bff', states: ['awaiting-operator'] },
  { key: 'succeeded', label: 'succeeded', color: '#4cc38a', states: ['succeeded', 'succeeded-reboot-pending'] },
  { key: 'left-out', label: 'skipped / no agent', color: '#f0b43c', states: ['skipped', 'no-agent'] },
  { key: 'failed', label: 'failed', color: '#ff5d5d', states: ['failed', 'timed-out', 'reboot-stuck', 'rolling-back', 'rolled-back'] },
];

const GROUP_OF = new Map(STATE_GROUPS.flatMap((group) => group.states.map((state) => [state, group])));

/** The group of a host state (an unknown one counts as waiting). */
export const stateGroup = (state) => GROUP_OF.get(state) ?? STATE_GROUPS[0];

export const ENDED_ROLLOUT_STATES = new Set(['succeeded', 'completed-with-errors', 'canceled']);

/** `{ pending: 3, failed: 1 }` → `3 pending, 1 failed`, in bar order. */
export const countsText = (counts) => Object.entries(counts)
  .sort(([a], [b]) => STATE_GROUPS.indexOf(stateGroup(a)) - STATE_GROUPS.indexOf(stateGroup(b)) || a.localeCompare(b))
  .map(([state, n]) => `${n} ${state}`).join(', ');
