// One headline number with its label; the tone colours it when it needs attention.
import { html } from '../html.js';

/** @param {{ label: string, value: string, testid: string, tone?: 'bad' | 'warn' | '' }} props */
export function StatCard({ label, value, testid, tone = '' }) {
  return html`<div class=${`card ${tone}`} data-testid=${testid}><div class="value">${value}</div><div class="label">${label}</div></div>`;
}
