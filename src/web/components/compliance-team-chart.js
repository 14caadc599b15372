// Compliance per owner team at a glance: one stacked bar a team of its evidence rows by status
// (non-compliant, excepted, open, compliant), worst first, drawn in SVG so it prints as drawn; the
// table under it is the same numbers.
import { count } from '../format.js';
import { html } from '../html.js';

const SERIES = [
  { key: 'non-compliant', label: 'non-compliant', className: 'non-compliant' },
  { key: 'excepted', label: 'excepted (accepted risk)', className: 'excepted' },
  { key: 'open', label: 'open, not yet due', className: 'open' },
  { key: 'compliant', label: 'compliant', className: 'compliant' },
];
const WIDTH = 1200;
const LABEL_WIDTH = 190;
const ROW_HEIGHT = 22;
const NAME_LENGTH = 20;

const cut = (name) => (name.length > NAME_LENGTH ? `${name.slice(0, NAME_LENGTH - 1)}…` : name);

/** @param {{ teams: Array<{ name: string, counts: Record<string, number> }> }} props */
export function ComplianceTeamChart({ teams }) {
  const worstFirst = [...teams].sort((a, b) => b.counts['non-compliant'] - a.counts['non-compliant'] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const largest = Math.max(1, ...worstFirst.map((team) => SERIES.reduce((sum, series) => sum + team.counts[series.key], 0)));
  const plotWidth = WIDTH - LABEL_WIDTH - 80;
  return html`<figure class="chart" data-testid="chart-compliance-teams">
    <figcaption><h3>Compliance per owner team</h3><p class="hint">evidence rows by status; pending reboot past due counts as non-compliant; worst first</p></figcaption>
    <div class="legend">${SERIES.map((series) => html`<span key=${series.key} class=${`swatch ${series.className}`}>${series.label}</span>`)}</div>
    ${worstFirst.length
      ? html`<svg class="compliance-teams" viewBox=${`0 0 ${WIDTH} ${worstFirst.length * ROW_HEIGHT + 8}`} role="img" aria-label="Compliance per team" data-testid="compliance-teams-svg">
          ${worstFirst.map((team, row) => {
            const top = 4 + row * ROW_HEIGHT;
            let x = LABEL_WIDTH;
            return html`<g key=${team.name}>
              <text x="8" y=${top + 14} class="lane-name"><title>${team.name}</title>${cut(team.name)}</text>
              ${SERIES.map((series) => {
                const width = (team.counts[series.key] / largest) * plotWidth;
                const bar = html`<rect key=${series.key} x=${x} y=${top + 2} width=${width} height=${ROW_HEIGHT - 6} class=${`bar ${series.className}`}><title>${`${team.name}: ${count(team.counts[series.key])} ${series.label}`}</title></rect>`;
                x += width;
                return bar;
              })}
              <text x=${x + 6} y=${top + 14} class="value">${count(team.counts['non-compliant'])} / ${count(team.counts.total)}</text>
            </g>`;
          })}
        </svg>`
      : html`<p class="hint">no evidence rows</p>`}
    <table data-testid="compliance-team-table">
      <thead><tr><th>team</th>${SERIES.map((series) => html`<th class="num" key=${series.key}>${series.label}</th>`)}<th class="num">not applicable</th><th class="num">rows</th></tr></thead>
      <tbody>${worstFirst.map((team) => html`<tr key=${team.name} data-testid=${`team-${team.name}`}>
        <td class="label">${team.name}</td>
        ${SERIES.map((series) => html`<td key=${series.key} class="num" data-testid=${series.key}>${count(team.counts[series.key])}</td>`)}
        <td class="num">${count(team.counts['not-applicable'])}</td><td class="num">${count(team.counts.total)}</td>
      </tr>`)}</tbody>
    </table>
  </figure>`;
}
