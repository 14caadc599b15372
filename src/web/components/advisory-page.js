// One advisory: what it says, and which hosts it still affects per bucket, owner and state.
import { count } from '../format.js';
import { html } from '../html.js';
import { hostsHref } from '../router.js';
import { useApi } from '../use-api.js';
import { StatCard } from './stat-card.js';

/** @param {{ parameter: string }} props the advisory id */
export function AdvisoryPage({ parameter: id }) {
  const answer = useApi(`/api/v1/advisories/${encodeURIComponent(id)}`);
  if (!answer) return null;
  const { advisory, impact } = answer;
  const hostsIn = (state) => impact.filter((row) => row.state === state).reduce((sum, row) => sum + row.hosts, 0);
  const vulnerable = hostsIn('vulnerable');
  const pending = hostsIn('pending-reboot');
  return html`<h1 data-testid="advisory-id">${advisory.id} <small class=${`sev-${advisory.severity}`}>${advisory.severity}</small></h1>
    <p>${advisory.summary}</p>
    <p class="hint">${[...advisory.aliases, ...advisory.related].join(', ')}</p>
    <div class="cards">
      <${StatCard} label="still vulnerable" value=${count(vulnerable)} testid="impact-vulnerable" tone=${vulnerable ? 'bad' : ''} />
      <${StatCard} label="pending reboot" value=${count(pending)} testid="impact-pending" tone=${pending ? 'warn' : ''} />
      <${StatCard} label="fixed" value=${count(hostsIn('fixed'))} testid="impact-fixed" />
    </div>
    <section>
      <h2>Who is affected, who owns them</h2>
      <table data-testid="impact-table">
        <thead><tr><th>bucket</th><th>owner</th><th>state</th><th class="num">hosts</th></tr></thead>
        <tbody>
          ${impact.map((row) => html`<tr key=${`${row.bucket} ${row.team} ${row.state}`}>
            <td><a href=${hostsHref({ bucket: row.bucket })}>${row.bucket}</a></td><td>${row.team}</td>
            <td>${row.state}</td><td class="num">${count(row.hosts)}</td>
          </tr>`)}
        </tbody>
      </table>
    </section>`;
}
