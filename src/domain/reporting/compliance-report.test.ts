import { describe, expect, it } from 'vitest';
import type { ComplianceEvidenceRow } from './compliance-evidence.js';
import { complianceHtml } from './compliance-html.js';
import { COMPLIANCE_COLUMNS, complianceCsv, complianceJson, type ComplianceReport } from './compliance-report.js';

const generatedAt = new Date('2026-12-10T00:00:00Z');
const row = (host: string, overrides: Partial<ComplianceEvidenceRow> = {}): ComplianceEvidenceRow => ({
  host, bucket: 'databases', team: 'data', advisoryId: 'DSA-5801-1', aliases: ['CVE-2026-1001', 'CVE-2026-1002'], severity: 'high', knownExploited: false,
  package: 'libssl3', installedVersion: '3.0.1-1', findingState: 'vulnerable', detectedAt: new Date('2026-12-01T00:00:00Z'), dueAt: new Date('2026-12-08T00:00:00Z'), ...overrides,
});
const HOSTILE = '=HYPERLINK("http://x"),<script>alert(1)</script>';
const report: ComplianceReport = {
  generatedAt, scope: { team: 'data' }, policyRevision: 3,
  checkpoint: { origin: 'fleetpatch audit log', treeSize: 42, rootHash: 'ab'.repeat(32), signedAt: '2026-12-10T00:00:00.000Z', keyId: '0123456789abcdef' },
  rows: [
    row('db-1'),
    row('db-2', { acceptance: { id: 9, reason: HOSTILE, acceptedBy: 'alice', approvedBy: 'bob', acceptedAt: generatedAt, expiresAt: new Date('2027-01-01T00:00:00Z') } }),
    row('web-1', { team: 'web', findingState: 'fixed', installedAt: generatedAt, liveAt: generatedAt, verification: 'rollout', rolloutId: 4 }),
  ],
};

describe('the compliance report formats', () => {
  it('writes RFC 4180 CSV with the columns in order, formula-looking cells defused, absent values empty', () => {
    const lines = complianceCsv(report).split('\r\n');
    expect(lines[0]).toBe(COMPLIANCE_COLUMNS.join(','));
    expect(lines[1]).toBe('db-1,databases,data,DSA-5801-1,CVE-2026-1001 CVE-2026-1002,high,false,libssl3,3.0.1-1,,vulnerable,non-compliant,2026-12-01T00:00:00.000Z,2026-12-08T00:00:00.000Z,,,true,,,,,,,,,,42,' + 'ab'.repeat(32));
    expect(lines[2]).toContain(`,excepted,`);
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://x""),<script>alert(1)</script>"`);
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(5);
  });

  it('gives JSON the same records, the checkpoint and the counts per team', () => {
    const json = complianceJson(report);
    expect(json.rows.map((record) => [record.host, record.compliance_status, record.verified_by, record.rollout_id])).toEqual([['db-1', 'non-compliant', null, null], ['db-2', 'excepted', null, null], ['web-1', 'compliant', 'rollout', 4]]);
    expect(json.audit_checkpoint).toEqual({ origin: 'fleetpatch audit log', tree_size: 42, root_hash: 'ab'.repeat(32), signed_at: '2026-12-10T00:00:00.000Z', key_id: '0123456789abcdef' });
    expect(json.by_team).toEqual([
      { name: 'data', counts: { compliant: 0, 'non-compliant': 1, excepted: 1, open: 0, 'not-applicable': 0, total: 2 } },
      { name: 'web', counts: { compliant: 1, 'non-compliant': 0, excepted: 0, open: 0, 'not-applicable': 0, total: 1 } },
    ]);
    expect(complianceJson(report, 1)).toMatchObject({ rows_total: 3, summary: { total: 3 }, rows: [{ host: 'db-1' }] });
  });

  it('prints every row and the checkpoint on one page, hostile text as text', () => {
    const page = complianceHtml(report);
    expect(page).toContain('Built from audit checkpoint 42 (root ' + 'ab'.repeat(32));
    expect(page).toContain('@media print');
    expect(page.match(/<tr class="(non-compliant|excepted|compliant)">/g)).toHaveLength(3);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
