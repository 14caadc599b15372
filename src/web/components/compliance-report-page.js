// The compliance report, printable: the scope and the audit checkpoint it cites, the counts, the
// chart per team, then every evidence row with the columns and cells of the CSV (the test holds the
// three against each other). `#/reports?advisory=&bucket=&team=&from=&to=` narrows it; printing
// drops the navigation and prints the tables in black on white (dashboard.css, @media print).
// A report is what the fleet was when it was made: it is fetched once per scope, not on every
// refresh (each would sign a checkpoint and read the scope's every finding again).
import { useContext, useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api-client.js';
import { count } from '../format.js';
import { html } from '../html.js';
import { RefreshContext } from '../use-api.js';
import { ComplianceTeamChart } from './compliance-team-chart.js';

const SCOPE_KEYS = ['advisory', 'bucket', 'team', 'from', 'to'];
/** Rows a page lists; a fleet's report is a file (CSV, or `fleetpatch report compliance --output`). */
const LISTED_ROWS = 2000;
const STATUS_CARDS = [
  { key: 'non-compliant', label: 'non-compliant', className: 'bad' },
  { key: 'excepted', label: 'excepted', className: 'warn' },
  { key: 'open', label: 'open, not yet due', className: '' },
  { key: 'compliant', label: 'compliant', className: '' },
];

/** `{ body, error }` of GET `path`, fetched once; until an answer arrives (say, after signing in), again at each refresh. */
function useReportOnce(path) {
  const { tick, report } = useContext(RefreshContext);
  const [answer, setAnswer] = useState({ path: undefined, body: undefined, error: undefined });
  const answered = answer.path === path && answer.body !== undefined;
  useEffect(() => {
    if (answered) return undefined;
    let current = true;
    apiGet(path).then(
      (body) => {
        if (current) setAnswer({ path, body, error: undefined });
        report(null);
      },
      (error) => {
        if (current) setAnswer({ path, body: undefined, error });
        report(error);
      },
    );
    return () => {
      current = false;
    };
  }, [path, answered ? 'answered' : tick]);
  return answer.path === path ? answer : { body: undefined, error: undefined };
}

/** A record's value as the CSV writes it: null empty, everything else its text. */
const cell = (value) => (value === null ? '' : String(value));

/** @param {{ query: URLSearchParams }} props */
export function ComplianceReportPage({ query }) {
  const parameters = new URLSearchParams({ format: 'json', limit: String(LISTED_ROWS) });
  for (const key of SCOPE_KEYS) if (query.get(key)) parameters.set(key, query.get(key));
  const { body: report, error } = useReportOnce(`/api/v1/reports/compliance?${parameters}`);
  if (!report) return error ? html`<h1>Compliance report</h1><p class="bad" data-testid="report-error">${error.message}</p>` : null;
  const scope = SCOPE_KEYS.filter((key) => report.scope[key] !== null).map((key) => `${key} ${report.scope[key]}`).join(', ') || 'the whole fleet';
  const checkpoint = report.audit_checkpoint;
  return html`<article class="report-page" data-testid="compliance-report">
    <h1>Compliance report <small data-testid="report-scope">${scope}</small></h1>
    <p class="hint" data-testid="report-generated">generated ${report.generated_at}; ${report.policy_revision === null ? 'no policy in force, so no due times' : `due times from the SLA clocks of policy revision ${report.policy_revision}`}</p>
    <p data-testid="report-checkpoint">${checkpoint
      ? html`Built from audit checkpoint <strong>${checkpoint.tree_size}</strong> (root <code>${checkpoint.root_hash}</code>, signed ${checkpoint.signed_at} by key ${checkpoint.key_id}): verify with <code>fleetpatch audit verify</code>.`
      : 'No audit checkpoint: the audit log was empty.'}</p>
    <div class="cards">
      ${STATUS_CARDS.map((card) => html`<div key=${card.key} class=${`card ${report.summary[card.key] ? card.className : ''}`} data-testid=${`report-${card.key}`}><div class="value">${count(report.summary[card.key])}</div><div class="label">${card.label}</div></div>`)}
    </div>
    <${ComplianceTeamChart} teams=${report.by_team} />
    <h2>Evidence (${count(report.rows_total)} rows)</h2>
    <p class="hint" data-testid="report-rows-hint">${report.rows.length < report.rows_total
      ? `the first ${count(report.rows.length)} of ${count(report.rows_total)} rows: narrow by team, bucket or advisory, or take them all with fleetpatch report compliance --format csv`
      : 'the same rows as fleetpatch report compliance --format csv'}; one per host × advisory × package</p>
    <div class="evidence-scroll">
      <table class="evidence" data-testid="evidence-table">
        <thead><tr>${report.columns.map((column) => html`<th key=${column}>${column}</th>`)}</tr></thead>
        <tbody>${report.rows.map((record, index) => html`<tr key=${index} class=${`status-${record.compliance_status}`}>
          ${report.columns.map((column) => html`<td key=${column}>${cell(record[column])}</td>`)}
        </tr>`)}</tbody>
      </table>
    </div>
    <p class="signature">Reviewed by: ______________________ Date: ____________ Signature: ______________________</p>
  </article>`;
}
