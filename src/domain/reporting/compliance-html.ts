/**
 * The compliance report as one self-contained HTML page to print or attach to an audit: the
 * summary first, the counts per team, every evidence row with the CSV's columns and cells, the
 * checkpoint it cites, and a block for the reviewer's signature. No script, no external resource.
 */
import { COMPLIANCE_COLUMNS, complianceJson, recordCell, type ComplianceReport } from './compliance-report.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);

const STYLE = `body{font:13px/1.4 system-ui,sans-serif;margin:24px}table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}th{background:#eee}
.non-compliant{background:#fde2e2}.excepted{background:#fff4d6}.compliant{background:#e3f6e5}
@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;font-size:9px}tr{break-inside:avoid}thead{display:table-header-group}}`;

/**
 * @example complianceHtml(report) // '<!doctype html><html lang="en">…<table class="evidence">…'
 */
export function complianceHtml(report: ComplianceReport): string {
  const json = complianceJson(report);
  const scope = Object.entries(json.scope).filter(([, value]) => value !== null).map(([key, value]) => `${key} ${value}`).join(', ') || 'the whole fleet';
  const checkpoint = json.audit_checkpoint
    ? `Built from audit checkpoint ${json.audit_checkpoint.tree_size} (root ${json.audit_checkpoint.root_hash}, signed ${json.audit_checkpoint.signed_at} by key ${json.audit_checkpoint.key_id}): verify with <code>fleetpatch audit verify</code>.`
    : 'No audit checkpoint: the audit log was empty.';
  const counts = (name: string, tally: typeof json.summary) =>
    `<tr><td>${escape(name)}</td><td>${tally.compliant}</td><td>${tally['non-compliant']}</td><td>${tally.excepted}</td><td>${tally.open}</td><td>${tally['not-applicable']}</td><td>${tally.total}</td></tr>`;
  const countHeader = '<tr><th>team</th><th>compliant</th><th>non-compliant</th><th>excepted</th><th>open</th><th>not applicable</th><th>rows</th></tr>';
  const rows = json.rows.map((record) => `<tr class="${escape(String(record.compliance_status))}">${COMPLIANCE_COLUMNS.map((column) => `<td>${escape(recordCell(record[column]))}</td>`).join('')}</tr>`);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fleetpatch compliance report</title>',
    `<style>${STYLE}</style></head><body>`,
    `<h1>Compliance report</h1><p>Scope: ${escape(scope)}. Generated ${escape(json.generated_at)}${json.policy_revision === null ? ', no policy in force (no due times)' : `, SLA clocks of policy revision ${json.policy_revision}`}.</p>`,
    `<p>${checkpoint}</p>`,
    `<table class="summary">${countHeader}${counts('all teams', json.summary)}${json.by_team.map((team) => counts(team.name, team.counts)).join('')}</table>`,
    `<table class="evidence"><thead><tr>${COMPLIANCE_COLUMNS.map((column) => `<th>${column}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '<p>Reviewed by: ______________________ Date: ____________ Signature: ______________________</p>',
    '</body></html>\n',
  ].join('\n');
}
