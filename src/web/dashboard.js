// fleetpatch dashboard: a thin client of the HTTP API. Hash routes (#/, #/host/NAME,
// #/advisory/ID), refreshed in place every 30 seconds without reloading the page.
// Every 30 s by default; `?refresh=SECONDS` in the page URL changes it (wall screens, tests).
const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh') ?? 30) * 1000;
const view = document.getElementById('view');
const status = document.getElementById('status');
let refreshTimer;

function token() {
  const fromUrl = new URLSearchParams(location.hash.split('?')[1] ?? '').get('token');
  if (fromUrl) {
    localStorage.setItem('fleetpatch-token', fromUrl);
    history.replaceState(null, '', location.pathname + location.hash.split('?')[0]);
  }
  return localStorage.getItem('fleetpatch-token');
}

async function api(path) {
  const secret = token();
  if (!secret) {
    askForToken();
    throw new Error('no token');
  }
  const response = await fetch(path, { headers: { authorization: `Bearer ${secret}` } });
  if (response.status === 401) {
    localStorage.removeItem('fleetpatch-token');
    askForToken();
    throw new Error('the token was refused');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

function askForToken() {
  const dialog = document.getElementById('login');
  if (!dialog.open) dialog.showModal();
}

document.getElementById('login-form').addEventListener('submit', () => {
  localStorage.setItem('fleetpatch-token', document.getElementById('token-input').value.trim());
  render();
});

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const query = document.getElementById('search-input').value.trim();
  if (/^(CVE-|GHSA-|[A-Z]+SA-|ALBA-|ALEA-|USN-|DSA-|DLA-)/i.test(query)) location.hash = `#/advisory/${encodeURIComponent(query)}`;
  else location.hash = `#/hosts?q=${encodeURIComponent(query)}`;
});

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
const number = (value) => Number(value ?? 0).toLocaleString('en-US');
const percent = (ratio) => `${(ratio * 100).toFixed(1)}%`;
const severityCells = (open) => ['critical', 'high', 'medium', 'low'].map((severity) => `<td class="num sev-${severity}${open[severity] ? ' hot' : ''}" data-testid="${severity}">${number(open[severity])}</td>`).join('');

function fleetTable(title, rows, dimension) {
  return `<section><h2>${title}</h2><table data-testid="${dimension}-table">
    <thead><tr><th>${dimension}</th><th class="num">hosts</th><th class="num">stale</th><th class="num">coverage</th>
      <th class="num">critical</th><th class="num">high</th><th class="num">medium</th><th class="num">low</th>
      <th class="num">pending reboot</th><th class="num">updates</th><th class="num">days behind</th><th class="num">max uptime (d)</th></tr></thead>
    <tbody>${rows.map((row) => `<tr data-testid="row-${escape(row.name)}">
      <td><a href="#/hosts?${dimension}=${encodeURIComponent(row.name)}">${escape(row.name)}</a></td>
      <td class="num" data-testid="hosts">${number(row.hosts)}</td>
      <td class="num${row.staleHosts ? ' warn' : ''}" data-testid="stale">${number(row.staleHosts)}</td>
      <td class="num" data-testid="coverage">${percent(row.patchCoverage)}</td>
      ${severityCells(row.openFindings)}
      <td class="num${row.pendingReboots ? ' warn' : ''}" data-testid="pending-reboots">${number(row.pendingReboots)}</td>
      <td class="num" data-testid="available-updates">${number(row.availableUpdates)}</td>
      <td class="num" data-testid="days-behind">${row.daysBehind.toFixed(1)}</td>
      <td class="num${row.maxUptimeDays > 180 ? ' warn' : ''}">${row.maxUptimeDays.toFixed(0)}</td>
    </tr>`).join('')}</tbody></table></section>`;
}

function card(label, value, testid, tone = '') {
  return `<div class="card ${tone}" data-testid="${testid}"><div class="value">${value}</div><div class="label">${label}</div></div>`;
}

async function overview() {
  const summary = await api('/api/v1/fleet/summary');
  const fleet = summary.fleet;
  return `<div class="cards">
      ${card('hosts', number(fleet.hosts), 'total-hosts')}
      ${card('patch coverage', percent(fleet.patchCoverage), 'total-coverage')}
      ${card('critical open', number(fleet.openFindings.critical), 'total-critical', fleet.openFindings.critical ? 'bad' : '')}
      ${card('high open', number(fleet.openFindings.high), 'total-high', fleet.openFindings.high ? 'bad' : '')}
      ${card('pending reboots', number(fleet.pendingReboots), 'total-pending-reboots', fleet.pendingReboots ? 'warn' : '')}
      ${card('stale hosts', number(fleet.staleHosts), 'total-stale', fleet.staleHosts ? 'warn' : '')}
      ${card('avg days behind', fleet.daysBehind.toFixed(1), 'total-days-behind')}
    </div>
    ${fleetTable('Buckets', summary.buckets, 'bucket')}
    ${fleetTable('Owner teams', summary.teams, 'team')}
    <section><h2>Longest uptimes</h2><p class="hint">412 days up is a liability, not a badge.</p><table data-testid="uptime-table">
      <thead><tr><th>host</th><th>bucket</th><th>team</th><th class="num">uptime (days)</th><th>reboot required</th></tr></thead>
      <tbody>${summary.longestUptimes.map((host) => `<tr><td><a href="#/host/${encodeURIComponent(host.host)}">${escape(host.host)}</a></td>
        <td>${escape(host.bucket)}</td><td>${escape(host.team)}</td><td class="num">${host.uptimeDays.toFixed(0)}</td><td>${host.rebootRequired ? 'yes' : ''}</td></tr>`).join('')}</tbody>
    </table></section>
    ${await hostList(new URLSearchParams())}`;
}

async function hostList(params) {
  const page = Number(params.get('page') ?? 1);
  const query = new URLSearchParams({ page: String(page), pageSize: '50' });
  for (const key of ['bucket', 'team', 'q', 'stale']) if (params.get(key)) query.set(key, params.get(key));
  const result = await api(`/api/v1/hosts?${query}`);
  const filters = ['bucket', 'team', 'q', 'stale'].filter((key) => params.get(key)).map((key) => `${key}: ${escape(params.get(key))}`).join(', ');
  const pages = Math.max(1, Math.ceil(result.total / 50));
  const link = (target) => { const next = new URLSearchParams(params); next.set('page', String(target)); return `#/hosts?${next}`; };
  return `<section><h2>Hosts ${filters ? `<small>(${filters}) <a href="#/hosts">clear</a></small>` : ''}</h2>
    <p class="hint" data-testid="host-count">${number(result.total)} hosts, worst first — page ${page} of ${pages}
      ${page > 1 ? `<a href="${link(page - 1)}">previous</a>` : ''} ${page < pages ? `<a href="${link(page + 1)}">next</a>` : ''}</p>
    <table data-testid="host-table"><thead><tr><th>host</th><th>bucket</th><th>team</th><th>os</th><th>kernel</th>
      <th class="num">critical</th><th class="num">high</th><th class="num">medium</th><th class="num">low</th><th>reboot</th><th>last check-in</th></tr></thead>
    <tbody>${result.hosts.map((host) => `<tr class="${host.stale ? 'stale' : ''}">
      <td><a href="#/host/${encodeURIComponent(host.name)}">${escape(host.name)}</a></td><td>${escape(host.bucket)}</td><td>${escape(host.team)}</td>
      <td>${escape(host.os)}</td><td class="mono">${escape(host.runningKernel)}</td>${severityCells(host.openFindings)}
      <td>${host.rebootRequired || host.pendingRebootFindings ? 'pending' : ''}</td>
      <td>${host.stale ? '<span class="warn">stale</span> ' : ''}${host.lastSeenAt ? new Date(host.lastSeenAt).toLocaleString() : 'never'}</td></tr>`).join('')}</tbody></table></section>`;
}

async function hostPage(name) {
  const host = await api(`/api/v1/hosts/${encodeURIComponent(name)}`);
  const kernels = host.installedKernels.map((kernel) => `${escape(kernel.name)} ${escape(kernel.version)}`).join('<br>') || '—';
  return `<h1 data-testid="host-name">${escape(host.name)}</h1>
    <div class="facts">
      <div><span>bucket</span>${escape(host.bucket)}</div><div><span>owner</span>${escape(host.team)}</div>
      <div><span>os</span>${escape(host.os ?? host.osEcosystem)}</div><div><span>arch</span>${escape(host.arch)}</div>
      <div><span>running kernel</span><span class="mono" data-testid="running-kernel">${escape(host.runningKernel ?? 'unknown')}</span></div>
      <div><span>installed kernels</span><span class="mono">${kernels}</span></div>
      <div><span>reboot required</span>${host.rebootRequired ? '<b class="warn">yes</b>' : 'no'}</div>
      <div><span>uptime</span>${host.uptimeDays !== undefined ? `${host.uptimeDays.toFixed(1)} days` : '—'}</div>
      <div><span>last check-in</span>${host.lastSeenAt ? new Date(host.lastSeenAt).toLocaleString() : 'never'}${host.stale ? ' <b class="warn">stale</b>' : ''}</div>
      <div><span>packages</span>${number(host.packageCount)}</div><div><span>agent</span>${escape(host.agentVersion ?? '—')}</div>
    </div>
    <section><h2>Open findings <small data-testid="finding-count">${number(host.findingsTotal)}</small></h2>
    ${host.findingsTotal > host.findings.length ? `<p class="note" data-testid="finding-page-note">showing the ${number(host.findings.length)} most severe of ${number(host.findingsTotal)}; <code>fleetpatch findings --host ${escape(host.name)} --json</code> lists them all</p>` : ''}
    <table data-testid="finding-table"><thead><tr><th>severity</th><th>package</th><th>installed</th><th>fixed in</th><th>advisory</th><th>CVE</th><th>state</th><th>first seen</th></tr></thead>
    <tbody>${host.findings.map((finding) => `<tr><td class="sev-${finding.severity}">${escape(finding.severity)}${finding.knownExploited ? ' <b class="bad">KEV</b>' : ''}</td>
      <td>${escape(finding.package)}${finding.sourcePackage !== finding.package ? ` <small>(${escape(finding.sourcePackage)})</small>` : ''}</td>
      <td class="mono">${escape(finding.installedVersion)}</td><td class="mono">${escape(finding.fixedVersion ?? '—')}</td>
      <td><a href="#/advisory/${encodeURIComponent(finding.advisoryId)}">${escape(finding.advisoryId)}</a></td>
      <td>${escape([...finding.aliases, ...finding.related].find((id) => id.startsWith('CVE-')) ?? '')}</td>
      <td>${escape(finding.state)}</td><td>${new Date(finding.firstSeenAt).toLocaleDateString()}</td></tr>`).join('')}</tbody></table></section>
    ${availableUpdates(host.availableUpdates)}`;
}

function availableUpdates(updates) {
  if (!updates) return '<section><h2>Available updates</h2><p class="hint" data-testid="update-count">not reported by this host</p></section>';
  const daysSince = (iso) => ((Date.now() - Date.parse(iso)) / 86_400_000).toFixed(0);
  return `<section><h2>Available updates <small data-testid="update-count">${number(updates.length)}</small></h2>
    <p class="hint">What the package manager would upgrade now, oldest first; "waiting" counts from the fleet's first sight of the candidate.</p>
    <table data-testid="update-table"><thead><tr><th>package</th><th>installed</th><th>candidate</th><th>repository</th><th class="num">waiting (days)</th></tr></thead>
    <tbody>${updates.map((update) => `<tr><td>${escape(update.name)}</td><td class="mono">${escape(update.installedVersion ?? '—')}</td>
      <td class="mono">${escape(update.candidateVersion)}</td><td>${escape(update.repository ?? '')}</td><td class="num">${daysSince(update.availableSince)}</td></tr>`).join('')}</tbody></table></section>`;
}

async function advisoryPage(id) {
  const { advisory, impact } = await api(`/api/v1/advisories/${encodeURIComponent(id)}`);
  const totals = impact.reduce((sum, row) => ({ ...sum, [row.state]: (sum[row.state] ?? 0) + row.hosts }), {});
  return `<h1 data-testid="advisory-id">${escape(advisory.id)} <small class="sev-${advisory.severity}">${escape(advisory.severity)}</small></h1>
    <p>${escape(advisory.summary)}</p>
    <p class="hint">${[...advisory.aliases, ...advisory.related].map(escape).join(', ')}</p>
    <div class="cards">${card('still vulnerable', number(totals.vulnerable ?? 0), 'impact-vulnerable', totals.vulnerable ? 'bad' : '')}
      ${card('pending reboot', number(totals['pending-reboot'] ?? 0), 'impact-pending', totals['pending-reboot'] ? 'warn' : '')}
      ${card('fixed', number(totals.fixed ?? 0), 'impact-fixed')}</div>
    <section><h2>Who is affected, who owns them</h2><table data-testid="impact-table">
      <thead><tr><th>bucket</th><th>owner</th><th>state</th><th class="num">hosts</th></tr></thead>
      <tbody>${impact.map((row) => `<tr><td><a href="#/hosts?bucket=${encodeURIComponent(row.bucket)}">${escape(row.bucket)}</a></td><td>${escape(row.team)}</td>
        <td>${escape(row.state)}</td><td class="num">${number(row.hosts)}</td></tr>`).join('')}</tbody></table></section>`;
}

async function render() {
  clearTimeout(refreshTimer);
  const [path, search] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(search ?? '');
  try {
    let html;
    if (path?.startsWith('/host/')) html = await hostPage(decodeURIComponent(path.slice('/host/'.length)));
    else if (path?.startsWith('/advisory/')) html = await advisoryPage(decodeURIComponent(path.slice('/advisory/'.length)));
    else if (path === '/hosts') html = await hostList(params);
    else html = await overview();
    view.innerHTML = html;
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.className = 'status';
  } catch (error) {
    status.textContent = error.message;
    status.className = 'status bad';
  }
  refreshTimer = setTimeout(render, REFRESH_MS);
}

window.addEventListener('hashchange', render);
token();
render();
