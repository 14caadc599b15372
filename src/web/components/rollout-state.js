// A rollout's state in a word, coloured, with why it waits when it is paused or halted.
import { html } from '../html.js';

const TONES = { paused: 'warn', halted: 'bad', 'rolling-back': 'bad', 'completed-with-errors': 'warn', canceled: 'muted', succeeded: 'good' };

/** @param {{ rollout: { state: string, pauseReason?: string, haltReason?: string } }} props */
export function RolloutState({ rollout }) {
  const why = rollout.state === 'paused' ? rollout.pauseReason : rollout.state === 'halted' ? rollout.haltReason : undefined;
  return html`<span class=${`rollout-state ${TONES[rollout.state] ?? ''}`} data-testid="rollout-state">${rollout.state}${why ? ` (${why})` : ''}</span>`;
}
