// A rollout's (or a wave's) hosts by state as one small stacked bar, with the counts in words
// beside it: the bar is for the eye, the words for screen readers and the tests.
import { html } from '../html.js';
import { countsText, stateGroup, STATE_GROUPS } from '../rollout-states.js';

/** @param {{ counts: Record<string, number>, testid?: string }} props host counts by state */
export function HostStateBar({ counts, testid = 'host-states' }) {
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const groups = STATE_GROUPS.map((group) => ({ ...group, hosts: Object.entries(counts).filter(([state]) => stateGroup(state) === group).reduce((sum, [, n]) => sum + n, 0) }));
  return html`<div class="host-states" data-testid=${testid}>
    <span class="state-bar" aria-hidden="true">${groups.filter((group) => group.hosts > 0).map((group) => html`<span key=${group.key}
      title=${`${group.hosts} ${group.label}`} style=${`width: ${(group.hosts / Math.max(total, 1)) * 100}%; background: ${group.color}`}></span>`)}</span>
    <span class="state-counts" data-testid=${`${testid}-text`}>${countsText(counts) || 'no hosts'}</span>
  </div>`;
}
