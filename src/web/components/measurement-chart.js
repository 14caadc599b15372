// A gate's numeric measurements over time, drawn by uPlot: one point per measurement, joined in
// order. The numbers, with their phases, are in the table beside it (see gate-measurements.js).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';

const AXIS = { stroke: '#8696a7', font: '12px system-ui, sans-serif', grid: { stroke: '#26303b', width: 1 }, ticks: { stroke: '#26303b', width: 1 } };
const HEIGHT = 200;

/** @param {{ gate: string, measurements: Array<{ takenAt: string, value: number }> }} props in time order */
export function MeasurementChart({ gate, measurements }) {
  const container = useRef(null);
  const data = JSON.stringify(measurements.map((measurement) => [measurement.takenAt, measurement.value]));
  useEffect(() => {
    // The element itself, not the ref: Preact empties the ref on unmount, before this effect's cleanup.
    const element = container.current;
    const points = JSON.parse(data);
    const plot = new uPlot({
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ ...AXIS }, { ...AXIS, size: 56 }],
      series: [{ label: 'taken' }, { label: gate, stroke: '#7cb7ff', width: 2, points: { show: true, size: 6, fill: '#7cb7ff' } }],
    }, [points.map(([takenAt]) => Date.parse(takenAt) / 1000), points.map(([, value]) => value)], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [gate, data]);
  return html`<div class="bar-chart" ref=${container} data-testid=${`measurement-chart-${gate}`}></div>`;
}
