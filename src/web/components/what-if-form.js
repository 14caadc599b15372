// The seed's opening question as a form: "a critical advisory for package P is published at T —
// when is every affected host patched and live?", answered per bucket on the routine cadence and
// on the emergency path side by side, each with a bar of the time it takes from publication.
import { useState } from 'preact/hooks';
import { apiGet } from '../api-client.js';
import { count, span, utc } from '../format.js';
import { html } from '../html.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];

/** The value of a datetime-local input (local wall clock) as an ISO instant, or undefined when empty. */
const instantOf = (local) => (local ? new Date(local).toISOString() : undefined);

/** @param {{ defaultAt?: string }} props the publication time the form starts with (the plan's start) */
export function WhatIfForm({ defaultAt }) {
  const [answer, setAnswer] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const query = new URLSearchParams({ package: String(form.get('package') ?? '').trim(), severity: String(form.get('severity')), reboot: form.get('reboot') ? 'true' : 'false' });
    const at = instantOf(String(form.get('at') ?? '')) ?? defaultAt;
    if (at) query.set('at', at);
    setBusy(true);
    try {
      setAnswer(await apiGet(`/api/v1/plan/what-if?${query}`));
      setError(undefined);
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="what-if" data-testid="what-if">
    <h2>What if</h2>
    <form class="what-if-form" onSubmit=${submit} data-testid="what-if-form">
      <label>package <input name="package" required maxlength="256" placeholder="openssl" data-testid="what-if-package" /></label>
      <label>severity <select name="severity" data-testid="what-if-severity">${SEVERITIES.map((severity) => html`<option key=${severity} value=${severity}>${severity}</option>`)}</select></label>
      <label>published <input name="at" type="datetime-local" data-testid="what-if-at" /></label>
      <label class="check"><input name="reboot" type="checkbox" data-testid="what-if-reboot" /> live only after a reboot</label>
      <button type="submit" disabled=${busy} data-testid="what-if-submit">${busy ? 'asking…' : 'ask'}</button>
    </form>
    ${error ? html`<p class="bad" data-testid="what-if-error">${error}</p>` : null}
    ${answer ? html`<${WhatIfAnswer} answer=${answer} />` : html`<p class="hint">when would every host running the package be patched and live, per bucket?</p>`}
  </section>`;
}

function WhatIfAnswer({ answer }) {
  const { scenario } = answer;
  const published = Date.parse(scenario.publishedAt);
  const spans = answer.buckets.flatMap((bucket) => [bucket.routine.liveBy, bucket.emergency?.liveBy]).filter(Boolean).map((liveBy) => Date.parse(liveBy) - published);
  const longest = Math.max(1, ...spans);
  const bar = (path, className) => {
    if (!path) return html`<span class="hint">—</span>`;
    if (!path.liveBy) return html`<span class="warn">not within the horizon (${count(path.unscheduled)} left)</span>`;
    const taken = Date.parse(path.liveBy) - published;
    return html`<div class="live-by"><span class=${`track ${className}`}><span style=${`width: ${Math.max(2, (taken / longest) * 100)}%`}></span></span><span>${utc(path.liveBy)} <small>(${span(taken)})</small></span></div>`;
  };
  return html`<div data-testid="what-if-answer">
    <p data-testid="what-if-summary">A ${scenario.severity} advisory for <b class="mono">${scenario.packageName}</b> published ${utc(scenario.publishedAt)}${scenario.needsReboot ? ' (live after a reboot)' : ''}:
      ${answer.emergencyApplies ? html` <b class="bad">the emergency path applies</b>` : ' the routine cadence only (no emergency trigger)'}</p>
    ${answer.buckets.length === 0
      ? html`<p class="hint" data-testid="what-if-none">no host runs ${scenario.packageName}</p>`
      : html`<table data-testid="what-if-table">
          <thead><tr><th>bucket</th><th>owner</th><th class="num">hosts</th><th>routine: live by</th><th>emergency: live by</th></tr></thead>
          <tbody>${answer.buckets.map((bucket) => html`<tr key=${bucket.bucket} data-testid=${`row-${bucket.bucket}`}>
            <td class="label">${bucket.bucket}</td><td class="label">${bucket.owner}</td><td class="num" data-testid="affected-hosts">${count(bucket.affectedHosts)}</td>
            <td data-testid="routine-live-by">${bar(bucket.routine, 'routine')}</td>
            <td data-testid="emergency-live-by">${bar(bucket.emergency, 'emergency')}</td>
          </tr>`)}</tbody>
        </table>`}
  </div>`;
}
