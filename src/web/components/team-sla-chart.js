// The SLA clock per owner team: findings due within seven days, already breached, and predicted to
// breach on the plan's schedule, as three bars a team (SVG), worst first; the table under it is the
// same numbers with the team's work (hosts to patch, scheduled, waiting, forecast completion).
import { count, utc } from '../format.js';
import { html } from '../html.js';

const SERIES = [
  { key: 'dueWithinSevenDays', testid: 'due-soon', label: 'due within 7 days', className: 'due-soon' },
  { key: 'breached', testid: 'breached', label: 'breached', className: 'breached' },
  { key: 'predictedBreaches', testid: 'predicted-breaches', label: 'predicted breaches', className: 'predicted' },
];
const WIDTH = 1200;
const LABEL_WIDTH = 190;
const BAR_HEIGHT = 9;
const ROW_HEIGHT = SERIES.length * (BAR_HEIGHT + 3) + 12;
const NAME_LENGTH = 20;

const cut = (name) => (name.length > NAME_LENGTH ? `${name.slice(0, NAME_LENGTH - 1)}…` : name);

/** @param {{ teams: Array<{ name: string, hosts: number, hostsToPatch: number, scheduled: number, notScheduled: number, forecastCompletion?: string, openFindings: number, dueWithinSevenDays: number, breached: number, predictedBreaches: number }> }} props */
export function TeamSlaChart({ teams }) {
  const worstFirst = [...teams].sort((a, b) => b.breached + b.predictedBreaches - (a.breached + a.predictedBreaches) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const largest = Math.max(1, ...worstFirst.flatMap((team) => SERIES.map((series) => team[series.key])));
  const plotWidth = WIDTH - LABEL_WIDTH - 70;
  const height = worstFirst.length * ROW_HEIGHT + 8;
  return html`<figure class="chart" data-testid="chart-team-sla">
    <figcaption><h3>SLA per owner team</h3><p class="hint">findings due within 7 days, breached, and predicted to breach on the planned schedule; worst first</p></figcaption>
    <div class="legend">${SERIES.map((series) => html`<span key=${series.key} class=${`swatch ${series.className}`}>${series.label}</span>`)}</div>
    ${worstFirst.length
      ? html`<svg class="team-sla" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label="SLA counts per team" data-testid="team-sla-svg">
          ${worstFirst.map((team, row) => {
            const top = 6 + row * ROW_HEIGHT;
            return html`<g key=${team.name}>
              <text x="8" y=${top + ROW_HEIGHT / 2} class="lane-name"><title>${team.name}</title>${cut(team.name)}</text>
              ${SERIES.map((series, index) => {
                const y = top + index * (BAR_HEIGHT + 3);
                const width = (team[series.key] / largest) * plotWidth;
                return html`<g key=${series.key}>
                  <rect x=${LABEL_WIDTH} y=${y} width=${Math.max(team[series.key] ? 2 : 0, width)} height=${BAR_HEIGHT} class=${`bar ${series.className}`}><title>${`${team.name}: ${count(team[series.key])} ${series.label}`}</title></rect>
                  <text x=${LABEL_WIDTH + width + 6} y=${y + BAR_HEIGHT - 1} class="value">${count(team[series.key])}</text>
                </g>`;
              })}
            </g>`;
          })}
        </svg>`
      : html`<p class="hint">no teams in the plan</p>`}
    <details open>
      <summary>the numbers</summary>
      <table data-testid="plan-team-table">
        <thead><tr><th>team</th><th class="num">hosts</th><th class="num">to patch</th><th class="num">scheduled</th><th class="num">waiting</th><th>done by</th>
          <th class="num">open</th>${SERIES.map((series) => html`<th class="num" key=${series.key}>${series.label}</th>`)}</tr></thead>
        <tbody>
          ${worstFirst.map((team) => html`<tr key=${team.name} data-testid=${`row-${team.name}`}>
            <td class="label">${team.name}</td>
            <td class="num" data-testid="hosts">${count(team.hosts)}</td>
            <td class="num" data-testid="to-patch">${count(team.hostsToPatch)}</td>
            <td class="num">${count(team.scheduled)}</td>
            <td class=${team.notScheduled ? 'num warn' : 'num'}>${count(team.notScheduled)}</td>
            <td>${utc(team.forecastCompletion)}</td>
            <td class="num">${count(team.openFindings)}</td>
            ${SERIES.map((series) => html`<td key=${series.key} class=${team[series.key] && series.key !== 'dueWithinSevenDays' ? 'num bad' : 'num'} data-testid=${series.testid}>${count(team[series.key])}</td>`)}
          </tr>`)}
        </tbody>
      </table>
    </details>
  </figure>`;
}
