// Canonical-level drift: for each package a baseline covers, one bar per team split into the
// versions its hosts run (host counts), the target version green and marked. One version that is
// the target is the goal ("three PostgreSQL patch levels become one"). SVG, with a table.
import { count } from '../format.js';
import { html } from '../html.js';

/** Colours for versions that are not the target, in order of host count; the target is always green. */
const PALETTE = ['#7cb7ff', '#f0b43c', '#ff8f5d', '#c78bff', '#5dd6d6', '#ff5d9e', '#a3b86c', '#8696a7'];
const TARGET_COLOR = '#4cc38a';
const WIDTH = 1200;
const LABEL_WIDTH = 190;
const ROW_HEIGHT = 22;
const NAME_LENGTH = 20;
/** Drifted packages drawn per baseline (the most versions first); the rest are in the table. */
const DRAWN_PACKAGES = 6;

const cut = (name, length = NAME_LENGTH) => (name.length > length ? `${name.slice(0, length - 1)}…` : name);

/** @param {{ baselines: Array<{ package: string, owner?: string, targetRule: string | null, packages: Array<{ packageName: string, ecosystem: string, target?: string, distinctVersions: number, teams: Array<{ team: string, hosts: number, versions: Array<{ version: string, hosts: number, target: boolean }> }> }> }> }} props */
export function DriftChart({ baselines }) {
  return html`<div class="drift" data-testid="drift">
    ${baselines.map((baseline) => html`<${BaselineDrift} key=${baseline.package} baseline=${baseline} />`)}
    ${baselines.length === 0 ? html`<p class="hint">the policy has no baselines</p>` : null}
  </div>`;
}

function BaselineDrift({ baseline }) {
  const packages = [...baseline.packages].sort((a, b) => b.distinctVersions - a.distinctVersions || (a.packageName < b.packageName ? -1 : 1));
  // Drift is more than one version, or one that is not the target; a package at one level everywhere is a line of text.
  const isLevel = (entry) => entry.distinctVersions === 1 && (!entry.target || entry.teams.every((team) => team.versions.every((version) => version.target)));
  const drifted = packages.filter((entry) => !isLevel(entry));
  const level = packages.filter(isLevel);
  return html`<figure class="chart" data-testid=${`drift-${baseline.package}`}>
    <figcaption><h3 class="mono">${baseline.package}</h3>
      <p class="hint">owned by ${baseline.owner ?? '—'}; target: ${baseline.targetRule ?? 'none (not a baseline)'}; ${count(baseline.packages.length)} package${baseline.packages.length === 1 ? '' : 's'} installed</p></figcaption>
    ${packages.length === 0 ? html`<p class="hint">no host runs a matching package</p>` : null}
    ${drifted.slice(0, DRAWN_PACKAGES).map((entry) => html`<${PackageBars} key=${`${entry.ecosystem}/${entry.packageName}`} entry=${entry} />`)}
    ${level.length
      ? html`<p class="hint" data-testid=${`drift-${baseline.package}-level`}>at one level everywhere: ${level.map((entry) => `${entry.packageName} ${entry.teams[0]?.versions[0]?.version ?? ''}`).join(', ')}</p>`
      : null}
    <details>
      <summary>the numbers</summary>
      <table data-testid=${`drift-${baseline.package}-table`}>
        <thead><tr><th>package</th><th>team</th><th>version</th><th class="num">hosts</th><th>target</th></tr></thead>
        <tbody>${packages.flatMap((entry) => entry.teams.flatMap((team) => team.versions.map((version) => html`<tr key=${`${entry.packageName}|${team.team}|${version.version}`} data-testid=${`row-${entry.packageName}|${team.team}|${version.version}`}>
          <td class="mono">${entry.packageName}</td><td class="label">${team.team}</td><td class="mono">${version.version}</td>
          <td class="num" data-testid="hosts">${count(version.hosts)}</td><td data-testid="target">${version.target ? 'target' : ''}</td>
        </tr>`)))}</tbody>
      </table>
    </details>
  </figure>`;
}

function PackageBars({ entry }) {
  const versions = new Map();
  for (const team of entry.teams) for (const version of team.versions) versions.set(version.version, (versions.get(version.version) ?? 0) + version.hosts);
  const colors = new Map([...versions].sort((a, b) => b[1] - a[1]).filter(([version]) => version !== entry.target).map(([version], index) => [version, PALETTE[index % PALETTE.length]]));
  if (entry.target) colors.set(entry.target, TARGET_COLOR);
  const largest = Math.max(1, ...entry.teams.map((team) => team.hosts));
  const plotWidth = WIDTH - LABEL_WIDTH - 60;
  const height = entry.teams.length * ROW_HEIGHT + 6;
  return html`<div class="drift-package" data-testid=${`drift-package-${entry.packageName}`}>
    <div class="legend"><b class="mono">${entry.packageName}</b> <small>${entry.ecosystem}, ${count(entry.distinctVersions)} version${entry.distinctVersions === 1 ? '' : 's'}</small>
      ${[...colors].map(([version, color]) => html`<span key=${version} class="swatch" style=${`--swatch: ${color}`}>${version}${version === entry.target ? ' ✓ target' : ''}</span>`)}</div>
    <svg class="drift-bars" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label=${`installed versions of ${entry.packageName} per team`}>
      ${entry.teams.map((team, row) => {
        const top = 3 + row * ROW_HEIGHT;
        let left = LABEL_WIDTH;
        return html`<g key=${team.team}>
          <text x="8" y=${top + 14} class="lane-name"><title>${team.team}</title>${cut(team.team)}</text>
          ${team.versions.map((version) => {
            const width = (version.hosts / largest) * plotWidth;
            const segment = html`<rect key=${version.version} x=${left} y=${top + 3} width=${Math.max(2, width - 1)} height=${ROW_HEIGHT - 8} fill=${colors.get(version.version)} class=${version.target ? 'segment target' : 'segment'}>
              <title>${`${team.team}: ${count(version.hosts)} host${version.hosts === 1 ? '' : 's'} on ${version.version}${version.target ? ' (the target)' : ''}`}</title></rect>`;
            left += width;
            return segment;
          })}
          <text x=${left + 6} y=${top + 14} class="value">${count(team.hosts)}</text>
        </g>`;
      })}
    </svg>
  </div>`;
}
