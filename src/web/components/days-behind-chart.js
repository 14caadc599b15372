// Average days behind per owner team, worst first: the seed's accountability number, the one a
// team explains or fixes when it creeps up.
import { days, wholeDays } from '../format.js';
import { html } from '../html.js';
import { ChartFigure } from './chart-figure.js';

/** @param {{ teams: Array<{ name: string, daysBehind: number }> }} props */
export function DaysBehindChart({ teams }) {
  const worstFirst = [...teams].sort((a, b) => b.daysBehind - a.daysBehind || a.name.localeCompare(b.name));
  const series = [{ key: 'days-behind', label: 'days behind', color: '#f0b43c', values: worstFirst.map((team) => team.daysBehind) }];
  return html`<${ChartFigure} testid="days-behind" title="Average days behind" note="per owner team, since each open fix became available; worst first"
    categoryLabel="team" categories=${worstFirst.map((team) => team.name)} series=${series} format=${days} axisFormat=${wholeDays} />`;
}
