// A host's rollout history on its page: every transition of it in every rollout, newest first.
import { html } from '../html.js';
import { useApi } from '../use-api.js';
import { RolloutTimeline } from './rollout-timeline.js';

/** @param {{ host: string }} props */
export function HostRollouts({ host }) {
  const events = useApi(`/api/v1/hosts/${encodeURIComponent(host)}/rollouts`);
  return html`<section data-testid="host-rollouts">
    <h2>Rollouts</h2>
    ${!events ? null : events.length === 0
      ? html`<p class="hint" data-testid="host-rollouts-none">this host has not been in a rollout</p>`
      : html`<${RolloutTimeline} events=${events} testid="host-rollout-history" withRollout=${true} />`}
  </section>`;
}
