// What a host's package manager would upgrade now, oldest first, or that the host does not say.
import { count, daysSince, wholeDays } from '../format.js';
import { html } from '../html.js';

/** @param {{ updates?: Array<object> }} props absent when the host does not report updates */
export function AvailableUpdates({ updates }) {
  if (!updates) {
    return html`<section><h2>Available updates</h2><p class="hint" data-testid="update-count">not reported by this host</p></section>`;
  }
  return html`<section>
    <h2>Available updates <small data-testid="update-count">${count(updates.length)}</small></h2>
    <p class="hint">What the package manager would upgrade now, oldest first; "waiting" counts from the fleet's first sight of the candidate.</p>
    <table data-testid="update-table">
      <thead><tr><th>package</th><th>installed</th><th>candidate</th><th>repository</th><th class="num">waiting (days)</th></tr></thead>
      <tbody>
        ${updates.map((update) => html`<tr key=${`${update.name} ${update.candidateVersion}`}>
          <td>${update.name}</td><td class="mono">${update.installedVersion ?? '—'}</td>
          <td class="mono">${update.candidateVersion}</td><td>${update.repository ?? ''}</td>
          <td class="num">${wholeDays(daysSince(update.availableSince))}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}
