// Numbers over the daily fleet snapshots, one line per team (or bucket), drawn by uPlot: days
// behind creeping up is what a team sees here first. The same numbers are in the table below it,
// one row per day, for screen readers and tests.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';

const AXIS = { stroke: '#8696a7', font: '12px system-ui, sans-serif', grid: { stroke: '#26303b', width: 1 }, ticks: { stroke: '#26303b', width: 1 } };
const COLOURS = ['#f0b43c', '#7cb7ff', '#e5645c', '#6cc38f', '#b48cf0', '#4fc7c7', '#e58fd0', '#c9c97a'];
const HEIGHT = 220;

/**
 * @param {{ testid: string, title: string, note: string, trends: { series: Array<{ name: string, points: Array<{ day: string }> }> },
 *   value: (point: object) => number, format: (value: number) => string }} props
 */
export function TrendChart({ testid, title, note, trends, value, format }) {
  const container = useRef(null);
  const days = [...new Set(trends.series.flatMap((series) => series.points.map((point) => point.day)))].sort();
  // A team with no snapshot on a day has no point there (a gap), not a zero.
  const columns = trends.series.map((series) => {
    const byDay = new Map(series.points.map((point) => [point.day, value(point)]));
    return days.map((day) => (byDay.has(day) ? byDay.get(day) : null));
  });
  const data = JSON.stringify({ days, columns, names: trends.series.map((series) => series.name) });
  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const { days: x, columns: y, names } = JSON.parse(data);
    const plot = new uPlot({
      width: Math.max(element.clientWidth, 240),
      height: HEIGHT,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ ...AXIS }, { ...AXIS, size: 56, values: (_plot, ticks) => ticks.map(format) }],
      series: [{ label: 'day' }, ...names.map((name, index) => ({ label: name, stroke: COLOURS[index % COLOURS.length], width: 2, value: (_plot, raw) => (raw === null ? '–' : format(raw)) }))],
    }, [x.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000), ...y], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 240), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data]);
  return html`<figure class="chart trend" data-testid=${`trend-${testid}`}>
    <figcaption><h3>${title}</h3><p class="hint">${note}</p></figcaption>
    ${days.length ? html`<div aria-hidden="true" class="bar-chart" ref=${container}></div>` : html`<p class="hint">no daily snapshots yet: the first is taken after the next midnight (UTC)</p>`}
    <details>
      <summary>the numbers</summary>
      <table data-testid=${`trend-${testid}-table`}>
        <thead><tr><th>day</th>${trends.series.map((series) => html`<th>${series.name}</th>`)}</tr></thead>
        <tbody>${days.map((day, row) => html`<tr><td>${day}</td>${columns.map((column) => html`<td>${column[row] === null ? '–' : format(column[row])}</td>`)}</tr>`)}</tbody>
      </table>
    </details>
  </figure>`;
}
