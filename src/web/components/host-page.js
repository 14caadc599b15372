// One host: its facts (owner, OS, running and installed kernels, reboot state, check-ins), its
// open findings, what its package manager would upgrade, and its rollout history.
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../use-api.js';
import { AvailableUpdates } from './available-updates.js';
import { FindingTable } from './finding-table.js';
import { HostRollouts } from './host-rollouts.js';

/** @param {{ parameter: string }} props the host name */
export function HostPage({ parameter: name }) {
  const host = useApi(`/api/v1/hosts/${encodeURIComponent(name)}`);
  if (!host) return null;
  const kernels = host.installedKernels.map((kernel) => `${kernel.name} ${kernel.version}`);
  return html`<h1 data-testid="host-name">${host.name}</h1>
    <div class="facts">
      <div><span>bucket</span>${host.bucket}</div>
      <div><span>owner</span>${host.team}</div>
      <div><span>os</span>${host.os ?? host.osEcosystem}</div>
      <div><span>arch</span>${host.arch}</div>
      <div><span>running kernel</span><span class="mono" data-testid="running-kernel">${host.runningKernel ?? 'unknown'}</span></div>
      <div><span>installed kernels</span><span class="mono">${kernels.length ? kernels.map((kernel) => html`<div>${kernel}</div>`) : '—'}</span></div>
      <div><span>reboot required</span>${host.rebootRequired ? html`<b class="warn">yes</b>` : 'no'}</div>
      <div><span>uptime</span>${host.uptimeDays !== undefined ? `${host.uptimeDays.toFixed(1)} days` : '—'}</div>
      <div><span>last check-in</span>${dateTime(host.lastSeenAt)}${host.stale ? html` <b class="warn">stale</b>` : null}</div>
      <div><span>packages</span>${count(host.packageCount)}</div>
      <div><span>agent</span>${host.agentVersion ?? '—'}</div>
    </div>
    <section>
      <h2>Open findings <small data-testid="finding-count">${count(host.findingsTotal)}</small></h2>
      ${host.findingsTotal > host.findings.length
        ? html`<p class="note" data-testid="finding-page-note">showing the ${count(host.findings.length)} most severe of ${count(host.findingsTotal)};
            <code>fleetpatch findings --host ${host.name} --json</code> lists them all</p>`
        : null}
      <${FindingTable} findings=${host.findings} />
    </section>
    <${AvailableUpdates} updates=${host.availableUpdates} />
    <${HostRollouts} host=${host.name} />`;
}
