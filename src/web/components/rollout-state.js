// A rollout's state in a word, coloured, with why it waits when it is paused or halted: the reason
// in a few words, and what it means (and who must act) on hover.
import { html } from '../html.js';

const TONES = { paused: 'warn', halted: 'bad', 'rolling-back': 'bad', 'completed-with-errors': 'warn', canceled: 'muted', succeeded: 'good' };

/** The engine's pause and halt reasons (src/domain/rollout/rollout-model.ts) in words: [short, what it means]. */
const REASONS = {
  'window-closed': ['window closed', 'the window closed; the rollout goes on in the next one'],
  freeze: ['freeze', 'a change freeze; the rollout goes on when it ends'],
  approval: ['approval', 'the next wave waits for an operator to approve it'],
  operator: ['operator', 'paused by an operator; resume goes on'],
  'inconclusive-gate': ['gate inconclusive', 'a gate could not decide; an operator looks, then resumes or aborts'],
  'gate-error': ['gate error', 'a gate could not be measured; an operator looks, then resumes or aborts'],
  'gate-failed': ['gate failed', 'a gate failed; an operator looks, then resumes or aborts'],
  'drain-stuck': ['drain stuck', 'a node\'s drain stayed blocked (PodDisruptionBudgets allow no eviction): the node was uncordoned and the owner paged; retry or skip the host, then resume'],
  'window-missed': ['window missed', 'a manual window ended before its hosts were done: they timed out and the owner was paged'],
  'budget-spent': ['error budget spent', 'more hosts failed than the error budget allows'],
  'stuck-host': ['a host is stuck', 'a host did not come back; retry or skip it, then resume'],
};

/** @param {{ rollout: { state: string, pauseReason?: string, haltReason?: string } }} props */
export function RolloutState({ rollout }) {
  const why = rollout.state === 'paused' ? rollout.pauseReason : rollout.state === 'halted' ? rollout.haltReason : undefined;
  const [words, meaning] = REASONS[why] ?? [why, undefined];
  return html`<span class=${`rollout-state ${TONES[rollout.state] ?? ''}`} title=${meaning} data-testid="rollout-state">${rollout.state}${why ? ` (${words})` : ''}</span>`;
}
