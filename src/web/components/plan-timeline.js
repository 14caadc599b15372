// The plan's horizon as one timeline: a lane per bucket, each window occurrence a mark at its time
// (bright with the number of hosts the plan puts in it, dim when nothing is planned), freezes as
// shaded bands. Drawn as SVG by Preact, so every label is a text node; the same numbers are in the
// rollout table below it.
import { utc } from '../format.js';
import { html } from '../html.js';

const WIDTH = 1200;
const LABEL_WIDTH = 190;
const RIGHT_PAD = 14;
const AXIS_HEIGHT = 26;
const LANE_HEIGHT = 46;
const DAY_MS = 86_400_000;
/** Bucket names longer than this are cut in the lane label; the tooltip has them whole. */
const LABEL_LENGTH = 22;

const cut = (name) => (name.length > LABEL_LENGTH ? `${name.slice(0, LABEL_LENGTH - 1)}…` : name);
const dayLabel = (time) => new Date(time).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/**
 * @param {{ timeline: Array<{ bucket: string, owner: string, occurrences: Array<{ window: string, start: string, end: string, hosts: number }>,
 *   freezes: Array<{ name: string, start: string, end: string, allowEmergency: boolean }> }>, from: string, until: string }} props
 */
export function PlanTimeline({ timeline, from, until }) {
  const start = Date.parse(from);
  const end = Date.parse(until);
  const plotWidth = WIDTH - LABEL_WIDTH - RIGHT_PAD;
  const x = (time) => LABEL_WIDTH + ((Math.min(Math.max(time, start), end) - start) / (end - start)) * plotWidth;
  const height = AXIS_HEIGHT + timeline.length * LANE_HEIGHT + 4;
  const days = [];
  for (let day = Math.ceil(start / DAY_MS) * DAY_MS; day <= end; day += DAY_MS) days.push(day);
  // A date label every few days, so they never collide at this width.
  const labelEvery = Math.max(1, Math.ceil(days.length / 12));
  return html`<svg class="timeline" data-testid="plan-timeline-svg" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label="Window occurrences per bucket over the plan's horizon">
    ${days.map((day, index) => html`<g key=${day}>
      <line x1=${x(day)} x2=${x(day)} y1=${AXIS_HEIGHT - 6} y2=${height - 4} class=${index % labelEvery === 0 ? 'grid strong' : 'grid'} />
      ${index % labelEvery === 0 ? html`<text x=${x(day) + 3} y=${AXIS_HEIGHT - 10} class="axis">${dayLabel(day)}</text>` : null}
    </g>`)}
    ${timeline.map((lane, laneIndex) => {
      const top = AXIS_HEIGHT + laneIndex * LANE_HEIGHT;
      const middle = top + LANE_HEIGHT / 2;
      return html`<g key=${lane.bucket} data-testid=${`lane-${lane.bucket}`}>
        <rect x="0" y=${top} width=${WIDTH} height=${LANE_HEIGHT} class=${laneIndex % 2 ? 'lane odd' : 'lane'} />
        <text x="8" y=${middle - 3} class="lane-name"><title>${lane.bucket}</title>${cut(lane.bucket)}</text>
        <text x="8" y=${middle + 13} class="lane-owner">${cut(lane.owner)}</text>
        ${lane.freezes.map((freeze) => html`<g key=${`${freeze.name}-${freeze.start}`} class="freeze" data-testid="freeze-band">
          <rect x=${x(Date.parse(freeze.start))} y=${top + 2} width=${Math.max(2, x(Date.parse(freeze.end)) - x(Date.parse(freeze.start)))} height=${LANE_HEIGHT - 4}>
            <title>${`freeze ${freeze.name}: ${utc(freeze.start)} – ${utc(freeze.end)}${freeze.allowEmergency ? ' (the emergency path may pass)' : ''}`}</title>
          </rect>
          ${laneIndex === 0 ? html`<text x=${x(Date.parse(freeze.start)) + 3} y=${top + 12} class="freeze-name">${freeze.name}</text>` : null}
        </g>`)}
        ${lane.occurrences.map((occurrence) => {
          const left = x(Date.parse(occurrence.start));
          const width = Math.max(3, x(Date.parse(occurrence.end)) - left);
          const planned = occurrence.hosts > 0;
          const barHeight = planned ? 18 : 10;
          return html`<g key=${`${occurrence.window}-${occurrence.start}`} class=${planned ? 'occurrence planned' : 'occurrence'} data-testid=${planned ? 'planned-occurrence' : 'occurrence'}>
            <rect x=${left} y=${middle - barHeight / 2 + 4} width=${width} height=${barHeight} rx="1.5">
              <title>${`${occurrence.window}: ${utc(occurrence.start)} – ${utc(occurrence.end)}, ${occurrence.hosts} host${occurrence.hosts === 1 ? '' : 's'} planned`}</title>
            </rect>
            ${planned ? html`<text x=${left + width / 2} y=${middle - barHeight / 2} class="count">${occurrence.hosts}</text>` : null}
          </g>`;
        })}
      </g>`;
    })}
  </svg>`;
}
