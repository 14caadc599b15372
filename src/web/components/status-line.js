// When the page's data was last fetched, or why it could not be.
import { html } from '../html.js';

/** @param {{ status: { state: 'loading' } | { state: 'updated', at: Date } | { state: 'error', message: string } }} props */
export function StatusLine({ status }) {
  const text = status.state === 'loading' ? 'loading…' : status.state === 'updated' ? `updated ${status.at.toLocaleTimeString()}` : status.message;
  return html`<span class=${status.state === 'error' ? 'status bad' : 'status'} role="status" data-testid="status">${text}</span>`;
}
