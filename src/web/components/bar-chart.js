// Bars over named categories (buckets, teams), drawn by uPlot on a canvas; stacked or single.
// uPlot plots numbers on an x axis, so category i sits at x = i and the axis prints its name.
// Stacks are drawn as overlapping bars of running totals, tallest first, so each segment shows
// one series; the hover legend shows each series' own value, not the running total.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';

const AXIS = { stroke: '#8696a7', font: '12px system-ui, sans-serif', grid: { stroke: '#26303b', width: 1 }, ticks: { stroke: '#26303b', width: 1 } };
const HEIGHT = 240;
/** Longer category names are cut on the axis; the hover legend and the table show them whole. */
const AXIS_NAME_LENGTH = 16;
/** Past this many categories the names are slanted so neighbours do not overlap. */
const UPRIGHT_CATEGORIES = 6;

const axisName = (name) => (name.length > AXIS_NAME_LENGTH ? `${name.slice(0, AXIS_NAME_LENGTH - 1)}…` : name);

/**
 * @param {{ categoryLabel: string, categories: string[], series: Array<{ label: string, color: string, values: number[] }>,
 *   stacked?: boolean, format: (value: number) => string, axisFormat?: (value: number) => string, maximum?: number }} props
 *   `format` writes a value in the hover legend, `axisFormat` (default: format) on the value axis;
 *   `maximum` fixes the top of the value axis (1 for ratios), otherwise it fits the data.
 */
export function BarChart({ categoryLabel, categories, series, stacked = false, format, axisFormat = format, maximum }) {
  const container = useRef(null);
  const chart = useRef(null);
  // The latest props, read by uPlot's callbacks, so new numbers need setData, not a new chart.
  const latest = useRef();
  latest.current = { categories, series, format, axisFormat };
  const shape = JSON.stringify({ categoryLabel, categories, labels: series.map((entry) => entry.label), stacked, maximum });

  useEffect(() => {
    // The element itself, not the ref: Preact empties the ref on unmount, before this effect's cleanup.
    const element = container.current;
    const drawn = stacked ? [...series].reverse() : series;
    const options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      legend: { show: true, live: true },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: () => [-0.5, latest.current.categories.length - 0.5] },
        y: { range: (_chart, _minimum, dataMaximum) => [0, maximum ?? niceCeiling(dataMaximum)] },
      },
      axes: [
        {
          ...AXIS,
          grid: { show: false },
          ...(categories.length > UPRIGHT_CATEGORIES ? { rotate: -30, size: 80 } : {}),
          splits: () => latest.current.categories.map((_name, index) => index),
          values: (_chart, splits) => splits.map((index) => axisName(latest.current.categories[index] ?? '')),
        },
        { ...AXIS, size: 56, values: (_chart, splits) => splits.map((value) => latest.current.axisFormat(value)) },
      ],
      series: [
        { label: categoryLabel, value: (_chart, x) => latest.current.categories[x] ?? '' },
        ...drawn.map((entry) => ({
          label: entry.label,
          fill: entry.color,
          stroke: entry.color,
          width: 0,
          points: { show: false },
          paths: uPlot.paths.bars({ size: [0.6, 80] }),
          // The legend shows the series' own number, also in a stack of running totals.
          value: (_chart, _drawnValue, _seriesIndex, index) => (index == null ? '–' : latest.current.format(latest.current.series.find((candidate) => candidate.label === entry.label).values[index])),
        })),
      ],
    };
    const plot = new uPlot(options, plotData(categories, drawn, stacked, series), element);
    chart.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [shape]);

  const values = JSON.stringify(series.map((entry) => entry.values));
  useEffect(() => {
    chart.current.setData(plotData(categories, stacked ? [...series].reverse() : series, stacked, series));
  }, [values]);

  return html`<div class="bar-chart" ref=${container}></div>`;
}

/** uPlot's columns: x (category index), then one column per drawn series (running totals when stacked). */
function plotData(categories, drawn, stacked, series) {
  const x = categories.map((_name, index) => index);
  if (!stacked) return [x, ...drawn.map((entry) => entry.values)];
  // Bottom-up running totals in the given order; drawn reverses it so the tallest bar goes first.
  const totals = series.map((_entry, position) => categories.map((_name, index) => series.slice(0, position + 1).reduce((sum, entry) => sum + (entry.values[index] ?? 0), 0)));
  return [x, ...totals.reverse()];
}

/** A round top for the value axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value);
}
