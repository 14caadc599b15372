// The replace buckets' baseline images: per bucket one bar of its hosts split into those on the
// baseline image, on another (older) one and reporting none, with the image and its age beside
// it. Every replacement boots from the baseline, so its age is how far behind a freshly replaced
// host starts. SVG drawn by Preact, with the numbers in a table.
import { count } from '../format.js';
import { html } from '../html.js';

const PARTS = [
  { key: 'onBaseline', label: 'on the baseline image', color: '#4cc38a' },
  { key: 'onOther', label: 'on another image', color: '#f0b43c' },
  { key: 'unreported', label: 'no image reported', color: '#5b6b7c' },
];
const WIDTH = 1200;
const LABEL_WIDTH = 190;
/** Room after the bar for "ami-0abc… · built 2026-11-29 · 21 d old". */
const TEXT_WIDTH = 420;
const ROW_HEIGHT = 26;
const NAME_LENGTH = 20;
const IMAGE_LENGTH = 28;
/** A baseline older than a month misses a month of fixes on every host replaced from it; past a quarter, more. */
const OLD_DAYS = 30;
const VERY_OLD_DAYS = 90;

const cut = (name, length) => (name.length > length ? `${name.slice(0, length - 1)}…` : name);
const ageTone = (days) => (days > VERY_OLD_DAYS ? 'bad' : days > OLD_DAYS ? 'warn' : '');
const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/** @param {{ buckets: Array<{ bucket: string, owner: string, imageFact: string, image: { id: string, built: string }, ageDays: number, hosts: number, onBaseline: number, onOther: number, unreported: number, otherImages: Array<{ id: string, hosts: number }> }> }} props */
export function BaselineImageChart({ buckets }) {
  const plotWidth = WIDTH - LABEL_WIDTH - TEXT_WIDTH;
  const height = buckets.length * ROW_HEIGHT + 6;
  return html`<figure class="chart wide" data-testid="chart-baseline-images">
    <figcaption><h3>Baseline images</h3>
      <p class="hint">per replace bucket: its hosts by the image they report, and the baseline's age (replacements boot from it)</p></figcaption>
    <div class="legend">${PARTS.map((part) => html`<span key=${part.key} class="swatch" style=${`--swatch: ${part.color}`}>${part.label}</span>`)}</div>
    <svg class="baseline-images" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label="hosts on the baseline image per replace bucket">
      ${buckets.map((bucket, row) => {
        const top = 3 + row * ROW_HEIGHT;
        let left = LABEL_WIDTH;
        return html`<g key=${bucket.bucket} data-testid=${`baseline-image-${bucket.bucket}`}>
          <text x="8" y=${top + 15} class="lane-name"><title>${bucket.bucket}</title>${cut(bucket.bucket, NAME_LENGTH)}</text>
          ${PARTS.filter((part) => bucket[part.key] > 0).map((part) => {
            const width = (bucket[part.key] / bucket.hosts) * plotWidth;
            const segment = html`<rect key=${part.key} x=${left} y=${top + 4} width=${Math.max(2, width - 1)} height=${ROW_HEIGHT - 10} fill=${part.color} class="segment">
              <title>${`${bucket.bucket}: ${plural(bucket[part.key], 'host')} ${part.label}`}</title></rect>`;
            left += width;
            return segment;
          })}
          <text x=${LABEL_WIDTH + plotWidth + 10} y=${top + 15} class=${`value ${ageTone(bucket.ageDays)}`} data-testid="baseline-image-text">
${bucket.hosts ? `${count(bucket.onBaseline)} of ${count(bucket.hosts)} on ` : 'no hosts · '}${cut(bucket.image.id, IMAGE_LENGTH)} · built ${bucket.image.built} · ${count(bucket.ageDays)} d old</text>
        </g>`;
      })}
    </svg>
    <details>
      <summary>the numbers</summary>
      <table data-testid="chart-baseline-images-table">
        <thead><tr><th>bucket</th><th>owner</th><th>baseline image</th><th>built</th><th class="num">age (d)</th><th class="num">hosts</th>
          <th class="num">on baseline</th><th class="num">other image</th><th class="num">none reported</th><th>other images</th></tr></thead>
        <tbody>${buckets.map((bucket) => html`<tr key=${bucket.bucket} data-testid=${`row-${bucket.bucket}`}>
          <th scope="row">${bucket.bucket}</th><td class="label">${bucket.owner}</td>
          <td class="mono" data-testid="image">${bucket.image.id}</td><td data-testid="built">${bucket.image.built}</td>
          <td class=${`num ${ageTone(bucket.ageDays)}`} data-testid="age-days">${count(bucket.ageDays)}</td>
          <td class="num" data-testid="hosts">${count(bucket.hosts)}</td>
          ${PARTS.map((part) => html`<td class="num" key=${part.key} data-testid=${part.key}>${count(bucket[part.key])}</td>`)}
          <td class="mono" data-testid="other-images">${bucket.otherImages.map((image) => `${image.id} (${count(image.hosts)})`).join(', ')}</td>
        </tr>`)}</tbody>
      </table>
    </details>
  </figure>`;
}
