// A host's open findings, most severe first, each linking to its advisory.
import { date } from '../format.js';
import { html } from '../html.js';
import { advisoryHref } from '../router.js';

/** @param {{ findings: Array<object> }} props */
export function FindingTable({ findings }) {
  return html`<table data-testid="finding-table">
    <thead><tr><th>severity</th><th>package</th><th>installed</th><th>fixed in</th><th>advisory</th><th>CVE</th><th>state</th><th>first seen</th></tr></thead>
    <tbody>
      ${findings.map((finding) => html`<tr key=${`${finding.advisoryId} ${finding.package}`}>
        <td class=${`sev-${finding.severity}`}>${finding.severity}${finding.knownExploited ? html` <b class="bad">KEV</b>` : null}</td>
        <td>${finding.package}${finding.sourcePackage !== finding.package ? html` <small>(${finding.sourcePackage})</small>` : null}</td>
        <td class="mono">${finding.installedVersion}</td>
        <td class="mono">${finding.fixedVersion ?? '—'}</td>
        <td><a href=${advisoryHref(finding.advisoryId)}>${finding.advisoryId}</a></td>
        <td>${[...finding.aliases, ...finding.related].find((id) => id.startsWith('CVE-')) ?? ''}</td>
        <td>${finding.state}</td>
        <td>${date(finding.firstSeenAt)}</td>
      </tr>`)}
    </tbody>
  </table>`;
}
