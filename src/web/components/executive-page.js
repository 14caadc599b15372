// The executive view: the seed's metrics over the last 30 days as headline numbers (each with what
// it is made of and its definition on hover), the teams side by side as charts, time to patch day
// by day for the fleet and per team, each team's snapshots over 90 days, and every metric per team
// and bucket in tables.
import { percent } from '../format.js';
import { html } from '../html.js';
import { daysText, hours, METRIC_DETAIL, METRIC_TEXT } from '../seed-metric-format.js';
import { useApi } from '../use-api.js';
import { ChartFigure } from './chart-figure.js';
import { SeedMetricTable } from './seed-metric-table.js';
import { TrendChart } from './trend-chart.js';

const DAYS = 30;
/** Bad news in a ratio, good news below it: the card's tone. */
const GOOD_RATIO = 0.95;

function tone(definition, values) {
  if (definition.key === 'rollbackRate') return values.rollbackRate.ratio > 0 ? 'warn' : '';
  if (definition.unit !== 'ratio') return '';
  const ratio = values[definition.key].ratio;
  return ratio === null || ratio >= GOOD_RATIO ? '' : 'bad';
}

/** A daily series of one duration's mean, on the days that had any. */
const dailyMeans = (daily, metric) => daily.filter((day) => day[metric].count > 0).map((day) => ({ day: day.day, value: day[metric].mean }));
/** One line per team of a duration's daily mean. */
const teamMeans = (teamDaily, metric) => ({ series: teamDaily.map((team) => ({ name: team.name, points: dailyMeans(team.points, metric) })) });

export function ExecutivePage() {
  const report = useApi(`/api/v1/metrics/seed?days=${DAYS}`);
  const snapshots = useApi('/api/v1/fleet/trends?dimension=team&days=90');
  if (!report) return null;
  const { fleet, teams, buckets, definitions, daily, teamDaily } = report;
  const teamNames = teams.map((team) => team.name);
  const ratios = (key) => teams.map((team) => team.values[key].ratio ?? 0);
  const medians = (key) => teams.map((team) => team.values[key].median ?? 0);
  const timeToPatch = { series: [{ name: 'installed', points: dailyMeans(daily, 'timeToInstalled') }, { name: 'live', points: dailyMeans(daily, 'timeToLive') }] };
  return html`<section>
      <h2>The seed's metrics, last ${DAYS} days</h2>
      <div class="cards" data-testid="seed-metrics">
        ${definitions.map((definition) => html`<div class=${`card ${tone(definition, fleet)}`} key=${definition.key} data-testid=${`metric-${definition.key}`} title=${definition.definition}>
          <div class="value">${METRIC_TEXT[definition.key](fleet)}</div>
          <div class="label">${definition.name}</div>
          <div class="hint" data-testid="detail">${METRIC_DETAIL[definition.key](fleet)}</div>
        </div>`)}
      </div>
    </section>
    <div class="charts">
      <${ChartFigure} testid="team-compliance" title="Compliance pass rate by team" note="the share of each team's fresh hosts with nothing open past its SLA (pending reboot included)"
        categoryLabel="team" categories=${teamNames} format=${percent} maximum=${1} series=${[{ key: 'ratio', label: 'compliance pass rate', color: '#6cc38f', values: ratios('compliancePassRate') }]} />
      <${ChartFigure} testid="team-coverage" title="Critical patch coverage by team" note="the share of each team's hosts checked in lately with no critical or known-exploited finding open"
        categoryLabel="team" categories=${teamNames} format=${percent} maximum=${1} series=${[{ key: 'ratio', label: 'critical patch coverage', color: '#7cb7ff', values: ratios('patchCoverage') }]} />
      <${ChartFigure} testid="team-time-to-live" title="Time to patch, to live, by team (median)" note="hours from the first sight of a finding to its fix running"
        categoryLabel="team" categories=${teamNames} format=${hours} series=${[{ key: 'median', label: 'median hours to live', color: '#e5645c', values: medians('timeToLive') }]} />
      <${ChartFigure} testid="team-vulnerability-age" title="Vulnerability age by team (median)" note="days the open findings have been open, stale hosts' included"
        categoryLabel="team" categories=${teamNames} format=${daysText} series=${[{ key: 'median', label: 'median days open', color: '#f0b43c', values: medians('vulnerabilityAge') }]} />
    </div>
    <div class="charts">
      <${TrendChart} testid="time-to-patch" title=${`Time to patch, day by day (last ${DAYS} days)`} note="mean hours of the fixes installed and made live each day" trends=${timeToPatch} value=${(point) => point.value} format=${hours} />
      <${TrendChart} testid="team-time-to-live" title=${`Time to live per team, day by day (last ${DAYS} days)`} note="mean hours from first seen to the fix running, of each team's fixes made live that day" trends=${teamMeans(teamDaily, 'timeToLive')} value=${(point) => point.value} format=${hours} />
      ${snapshots ? html`<${TrendChart} testid="team-snapshot-coverage" title="Hosts with no open finding, per team, 90 days" note="from the daily snapshots: a line that sinks is a team falling behind" trends=${snapshots} value=${(point) => point.patchCoverage} format=${percent} />` : null}
    </div>
    <${SeedMetricTable} title="Per owner team" dimension="team" rows=${teams} definitions=${definitions} />
    <${SeedMetricTable} title="Per bucket" dimension="bucket" rows=${buckets} definitions=${definitions} />
    <section>
      <h2>Definitions</h2>
      <dl data-testid="definitions">${definitions.map((definition) => html`<dt key=${`${definition.key}-name`}>${definition.name} (${definition.unit})</dt><dd key=${definition.key}>${definition.definition}</dd>`)}</dl>
    </section>`;
}
