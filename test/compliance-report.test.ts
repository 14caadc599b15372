// Compliance reports on a real server and PostgreSQL: a fleet whose findings stand in every way a
// report tells apart (vulnerable past due, patched but pending reboot, fixed and live, under an
// accepted risk with approver and justification, open and not yet due); the API's JSON and CSV and
// the printable page in real headless Chromium agree row for row and name one audit checkpoint (a
// fix the rollout engine saw through is verified by that rollout, one judged from a check-in by it);
// the CLI's report has the same rows and `fleetpatch audit verify` holds the log against it. The
// fleet's OpenVEX export validates against the OpenVEX JSON schema (the accepted risk affected with
// its action statement), CycloneDX says the same and validates against the CycloneDX 1.6 schema; a vendor's not_affected statement imported as an
// acceptance excepts its finding, and bad imports name the field (API) or file and line (CLI) and
// store nothing. The page's screenshot and PDF (and the CLI's --format pdf) are kept under
// test-results/compliance-report/ (git-ignored).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { policyOwnership } from '../src/domain/policy/ownership.js';
import { parsePolicy } from '../src/domain/policy/policy-document.js';
import { COMPLIANCE_COLUMNS, type ComplianceReportJson } from '../src/domain/reporting/compliance-report.js';
import type { RolloutSettings } from '../src/domain/rollout/rollout-model.js';
import type { HostInventory } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { replaceKevCatalogue } from '../src/store/advisory-store.js';
import { acceptRisk } from '../src/store/finding-queries.js';
import { insertRollout } from '../src/store/rollout-store.js';
import { withTransaction } from '../src/store/transaction.js';
import { launchChromium, watchedPage } from './browser.js';
import { runCli } from './cli.js';
import { repoRoot } from './data-path.js';
import { cycloneDxSchemaErrors } from './cyclonedx-schema.js';
import { openVexSchemaErrors } from './openvex-schema.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';

const ARTIFACTS = resolve(repoRoot, 'test-results/compliance-report');
const POLICY_TEXT = `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: web, owner: web-team, match: { labels: { role: web } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: batch, owner: data-platform, match: { labels: { role: batch } }, strategy: { kind: in-place }, windows: [nightly] }
`;
const POLICY = parsePolicy(POLICY_TEXT, 'fleetpatch.yaml');
// The server runs on the real clock (so do the CLI's reports): the fleet is dated from it.
const DAY = 86_400_000;
const NOW = Date.now();
const DETECTED = new Date(NOW - 3 * DAY);
const PATCHED = new Date(NOW - DAY);
const KEV_DUE = new Date(NOW + 20 * DAY).toISOString().slice(0, 10);
const ROLLOUT_SETTINGS: RolloutSettings = {
  maxInFlight: 1, errorBudget: 1, soakMs: 0, promotion: 'automatic', preChecks: [], postChecks: [],
  reboot: { policy: 'if-required', timeoutMs: 300_000, onTimeout: 'page' }, rollback: { automatic: true, commands: [], timeoutMs: 600_000 },
  expectedHostMs: 60_000, staleAfterMs: 3_600_000,
};

function advisory(id: string, alias: string, severity: string, name: string) {
  return advisoryFromOsv({
    id, modified: DETECTED.toISOString(), published: DETECTED.toISOString(), aliases: [alias], summary: `${name}: a flaw`,
    database_specific: { severity },
    affected: [{ package: { ecosystem: 'Debian:12', name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
  }, { file: `${id}.json` });
}

const host = (hostname: string, role: string, options: { source?: string; version?: string; rebootRequired?: boolean } = {}): HostInventory => ({
  hostname, osEcosystem: 'Debian:12', rebootRequired: options.rebootRequired ?? false, labels: { role }, kernel: { installed: [] },
  packages: [{ ecosystem: 'Debian:12', name: `${options.source ?? 'libfp'}1`, version: options.version ?? '1.0-1', arch: 'amd64', sourceName: options.source ?? 'libfp', sourceVersion: options.version ?? '1.0-1' }],
});

/** RFC 4180 records: quoted fields with doubled quotes, CRLF line ends. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') (field += '"'), index++;
      else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') record.push(field), (field = '');
    else if (character === '\r' && text[index + 1] === '\n') record.push(field), records.push(record), (record = []), (field = ''), index++;
    else field += character;
  }
  return records;
}

const cellOf = (value: unknown) => (value === null ? '' : String(value));

describe('compliance reports', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let home: string;
  let token = '';
  let rolloutId = 0;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const get = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const acceptanceCount = async () => (await database.pool.query<{ count: number }>('SELECT count(*)::integer AS count FROM risk_acceptances')).rows[0]!.count;

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    mkdirSync(ARTIFACTS, { recursive: true });
    database = await createTestDatabase();
    const detection = await DetectionService.load(database.pool);
    // The medium advisory's CVE is known exploited, due sooner than its SLA's thirty days.
    await replaceKevCatalogue(database.pool, [{ cveId: 'CVE-2026-7102', dateAdded: DETECTED.toISOString().slice(0, 10), dueDate: KEV_DUE, knownRansomwareCampaignUse: false, vendorProject: 'fp', product: 'libother' }]);
    const ownership = policyOwnership(POLICY);
    await importAdvisories(database.pool, detection, new MemoryFeed('debian', [advisory('DSA-7101-1', 'CVE-2026-7101', 'critical', 'libfp'), advisory('DSA-7102-1', 'CVE-2026-7102', 'medium', 'libother')]), { now: DETECTED });
    await importInventories(database.pool, detection, [
      host('db-1', 'db'), host('db-2', 'db'), host('web-1', 'web'), host('batch-1', 'batch'), host('web-2', 'web', { source: 'libother' }),
    ], { source: 'test', ownership, now: DETECTED });
    // A rollout of the web bucket took web-1 through its steps; the engine saw it succeed after the fix.
    rolloutId = (await withTransaction(database.pool, (client) => insertRollout(client, {
      bucket: 'web', team: 'web-team', waveCount: 1, snapshot: [{ name: 'libfp1', version: '1.1-1' }], settings: ROLLOUT_SETTINGS, gates: [], windows: [], origin: 'operator', createdBy: 'test',
      hosts: [{ host: 'web-1', wave: 1 }],
    }, new Date(PATCHED.getTime() - 3_600_000))))!;
    await database.pool.query("UPDATE rollouts SET state = 'succeeded' WHERE id = $1", [rolloutId]);
    await database.pool.query("UPDATE rollout_hosts SET state = 'succeeded', state_since = $2 WHERE rollout_id = $1", [rolloutId, new Date(PATCHED.getTime() + 600_000)]);
    // db-2 installed the fix and waits for its reboot; web-1's fix is live.
    await importInventories(database.pool, detection, [host('db-2', 'db', { version: '1.1-1', rebootRequired: true }), host('web-1', 'web', { version: '1.1-1' })], { source: 'test', ownership, now: PATCHED });
    await acceptRisk(database.pool, {
      advisoryId: 'CVE-2026-7101', hostName: 'batch-1', reason: 'batch-1 never parses untrusted input', acceptedBy: 'alice', approvedBy: 'bob',
      justification: 'vulnerable_code_cannot_be_controlled_by_adversary', expiresAt: new Date(NOW + 30 * DAY),
    });
    home = mkdtempSync(join(tmpdir(), 'fleetpatch-compliance-'));
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, POLICY_TEXT);
    server = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 3600, policyFile,
      openAdvisoryFeed: () => new MemoryFeed('none', []), syncIntervalSeconds: 0, log: () => undefined,
    });
    token = server.firstStart!.adminToken;
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  let report: ComplianceReportJson;
  let csv: string[][];

  it('tells every way a finding stands apart, with its evidence', async () => {
    const response = await get('/api/v1/reports/compliance?format=json');
    expect(response.status).toBe(200);
    report = (await response.json()) as ComplianceReportJson;
    const byHost = Object.fromEntries(report.rows.map((row) => [row.host, row]));
    expect(report.rows.map((row) => [row.host, row.advisory_id, row.compliance_status])).toEqual([
      ['batch-1', 'DSA-7101-1', 'excepted'],
      ['db-1', 'DSA-7101-1', 'non-compliant'],
      ['db-2', 'DSA-7101-1', 'non-compliant'],
      ['web-1', 'DSA-7101-1', 'compliant'],
      ['web-2', 'DSA-7102-1', 'open'],
    ]);
    // Critical: due a day after detection (the default SLA); the medium one by its KEV due date.
    expect(byHost['db-1']).toMatchObject({ team: 'data-platform', bucket: 'databases', finding_state: 'vulnerable', detected_at: DETECTED.toISOString(), due_at: new Date(DETECTED.getTime() + DAY).toISOString(), sla_breached: true, live_at: null });
    expect(byHost['db-2']).toMatchObject({ finding_state: 'pending-reboot', installed_at: PATCHED.toISOString(), live_at: null, sla_breached: true, verified_by: null, rollout_id: null });
    expect(byHost['web-1']).toMatchObject({ finding_state: 'fixed', installed_at: PATCHED.toISOString(), live_at: PATCHED.toISOString(), verified_by: 'rollout', rollout_id: rolloutId, sla_breached: true });
    expect(byHost['batch-1']).toMatchObject({ acceptance_reason: 'batch-1 never parses untrusted input', accepted_by: 'alice', approved_by: 'bob', justification: 'vulnerable_code_cannot_be_controlled_by_adversary', acceptance_expires_at: new Date(NOW + 30 * DAY).toISOString() });
    expect(byHost['web-2']).toMatchObject({ known_exploited: true, due_at: `${KEV_DUE}T00:00:00.000Z`, sla_breached: false });
    expect(byHost['db-1']!.known_exploited).toBe(false);
    expect(report.summary).toEqual({ compliant: 1, 'non-compliant': 2, excepted: 1, open: 1, 'not-applicable': 0, total: 5 });
    expect(report.by_team.map((team) => [team.name, team.counts['non-compliant'], team.counts.total])).toEqual([['data-platform', 2, 3], ['web-team', 0, 2]]);
    // The checkpoint it cites is signed, and every row names it.
    expect(report.audit_checkpoint).toMatchObject({ origin: 'fleetpatch audit log', tree_size: expect.any(Number), root_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(new Set(report.rows.map((row) => `${row.audit_tree_size}:${row.audit_root_hash}`))).toEqual(new Set([`${report.audit_checkpoint!.tree_size}:${report.audit_checkpoint!.root_hash}`]));
  });

  it('narrows to a team, a bucket, an advisory by alias, and a period', async () => {
    const hostsOf = async (query: string) => ((await (await get(`/api/v1/reports/compliance?${query}`)).json()) as ComplianceReportJson).rows.map((row) => row.host);
    expect(await hostsOf('team=web-team')).toEqual(['web-1', 'web-2']);
    expect(await hostsOf('bucket=databases')).toEqual(['db-1', 'db-2']);
    expect(await hostsOf('advisory=CVE-2026-7102')).toEqual(['web-2']);
    // web-1 went live before the period starts; nothing was detected before it ends.
    expect(await hostsOf(`from=${new Date(NOW - DAY / 2).toISOString()}`)).toEqual(['batch-1', 'db-1', 'db-2', 'web-2']);
    expect(await hostsOf(`to=${new Date(NOW - 4 * DAY).toISOString()}`)).toEqual([]);
    // A page lists the first rows of a large report; its counts are of all of them.
    const firstTwo = (await (await get('/api/v1/reports/compliance?limit=2')).json()) as ComplianceReportJson;
    expect([firstTwo.rows.map((row) => row.host), firstTwo.rows_total, firstTwo.summary.total]).toEqual([['batch-1', 'db-1'], 5, 5]);
  });

  it('gives the same rows as CSV, column for column', async () => {
    const response = await get('/api/v1/reports/compliance?format=csv');
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    csv = parseCsv(await response.text());
    expect(csv[0]).toEqual([...COMPLIANCE_COLUMNS]);
    expect(csv.slice(1)).toEqual(report.rows.map((row) => COMPLIANCE_COLUMNS.map((column) => cellOf(row[column]))));
  });

  it('prints the same rows on the printable page in Chromium, with the checkpoint and the chart', async () => {
    await page.goto(`${server.url}/#/reports?token=${token}`);
    const table = page.getByTestId('evidence-table');
    await table.locator('tbody tr').first().waitFor();
    const header = await table.locator('thead th').allTextContents();
    const rows = await table.locator('tbody tr').evaluateAll((elements) => elements.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
    expect([header, ...rows]).toEqual(csv);
    expect(await page.getByTestId('report-checkpoint').textContent()).toContain(`audit checkpoint ${report.audit_checkpoint!.tree_size} (root ${report.audit_checkpoint!.root_hash}`);
    expect(await page.getByTestId('compliance-team-table').getByTestId('team-data-platform').getByTestId('non-compliant').textContent()).toBe('2');
    expect(await page.getByTestId('compliance-teams-svg').locator('rect.bar.non-compliant').count()).toBe(2);
    expect(await page.getByTestId('navigation').getByRole('link', { name: 'Reports' }).getAttribute('aria-current')).toBe('page');
    await page.screenshot({ path: join(ARTIFACTS, 'compliance-report.png'), fullPage: true });
    // Printed: the navigation goes, the rows stay.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header').isVisible()).toBe(false);
    expect(await table.locator('tbody tr').count()).toBe(report.rows.length);
    await page.screenshot({ path: join(ARTIFACTS, 'compliance-report-print.png'), fullPage: true });
    writeFileSync(join(ARTIFACTS, 'compliance-report.pdf'), await page.pdf({ format: 'A4', landscape: true, printBackground: true }));
    await page.emulateMedia({ media: 'screen' });
    console.info(`compliance report screenshot and PDF: ${ARTIFACTS}`);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('gives the same rows from the CLI, and audit verify holds the log against the checkpoint the report names', async () => {
    const environment = { DATABASE_URL: database.connectionString, FLEETPATCH_HOME: home };
    const cli = await runCli(['report', 'compliance', '--format', 'json'], environment);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as ComplianceReportJson;
    const withoutCheckpoint = (rows: ComplianceReportJson['rows']) => rows.map(({ audit_tree_size: _size, audit_root_hash: _root, ...row }) => row);
    expect(withoutCheckpoint(fromCli.rows)).toEqual(withoutCheckpoint(report.rows));
    // The printable page as a PDF, printed by headless Chromium, kept with the screenshot.
    const pdf = join(ARTIFACTS, 'compliance-report-cli.pdf');
    const printed = await runCli(['report', 'compliance', '--format', 'pdf', '--output', pdf, '--chromium', requireTool('chromium')], environment);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stderr).toMatch(/^5 evidence rows written to .*compliance-report-cli\.pdf; audit checkpoint \d+ \(root [0-9a-f]{64}\): check it with fleetpatch audit verify\n$/);
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const verify = await runCli(['audit', 'verify', '--json'], environment);
    expect(verify.code).toBe(0);
    const verified = JSON.parse(verify.stdout) as { ok: boolean; anchoredSize: number; checkpointsChecked: number };
    expect(verified.ok).toBe(true);
    expect(verified.anchoredSize).toBeGreaterThanOrEqual(fromCli.audit_checkpoint!.tree_size);
    expect(fromCli.audit_checkpoint!.tree_size).toBeGreaterThanOrEqual(report.audit_checkpoint!.tree_size);
  }, 60_000);

  interface OpenVexStatement { vulnerability: { name: string; aliases?: string[] }; products: Array<{ '@id': string; subcomponents: Array<{ '@id': string }> }>; status: string; justification?: string; action_statement?: string; impact_statement?: string }
  const openVex = async () => {
    const response = await get('/api/v1/vex?format=openvex');
    expect(response.status).toBe(200);
    return (await response.json()) as { '@id': string; tooling: string; statements: OpenVexStatement[] };
  };
  const statusOf = (document: { statements: OpenVexStatement[] }, host: string) =>
    document.statements.filter((statement) => statement.products.some((product) => product['@id'] === `urn:fleetpatch:host:${host}`)).map((statement) => [statement.vulnerability.name, statement.status, statement.justification ?? statement.action_statement ?? null]);

  it('exports the fleet as OpenVEX that the OpenVEX JSON schema accepts, an accepted risk affected with its action statement', async () => {
    const document = await openVex();
    expect(openVexSchemaErrors(document)).toEqual([]);
    expect(document.tooling).toMatch(/^fleetpatch 0\.1\.0, from audit checkpoint \d+ \(root [0-9a-f]{64}\)$/);
    expect(statusOf(document, 'batch-1')).toEqual([['DSA-7101-1', 'not_affected', 'vulnerable_code_cannot_be_controlled_by_adversary']]);
    expect(statusOf(document, 'db-1')[0]).toEqual(['DSA-7101-1', 'affected', `update to 1.1-1, due ${new Date(DETECTED.getTime() + DAY).toISOString().slice(0, 10)}`]);
    expect(statusOf(document, 'db-2')[0]![2]).toMatch(/^reboot to run the installed fix \(1\.1-1\)/);
    expect(statusOf(document, 'web-1')).toEqual([['DSA-7101-1', 'fixed', null]]);
    // An acceptance without a justification stays affected, saying who accepted it.
    await acceptRisk(database.pool, { advisoryId: 'DSA-7101-1', hostName: 'db-1', reason: 'replaced next week', acceptedBy: 'carol', approvedBy: 'dave', expiresAt: new Date(NOW + 7 * DAY) });
    const later = await openVex();
    expect(openVexSchemaErrors(later)).toEqual([]);
    expect(statusOf(later, 'db-1')).toEqual([['DSA-7101-1', 'affected', `risk accepted by carol (approved by dave) until ${new Date(NOW + 7 * DAY).toISOString().slice(0, 10)}: replaced next week`]]);
    // One recorded before approvers existed still counts, reported without an approver.
    await acceptRisk(database.pool, { advisoryId: 'CVE-2026-7101', hostName: 'db-2', reason: 'reboot at the next maintenance', acceptedBy: 'legacy', expiresAt: new Date(NOW + 7 * DAY) });
    const db2 = ((await (await get('/api/v1/reports/compliance?bucket=databases')).json()) as ComplianceReportJson).rows.find((row) => row.host === 'db-2')!;
    expect(db2).toMatchObject({ compliance_status: 'excepted', accepted_by: 'legacy', approved_by: null, justification: null });
    expect(statusOf(await openVex(), 'db-2')).toEqual([['DSA-7101-1', 'affected', `risk accepted by legacy until ${new Date(NOW + 7 * DAY).toISOString().slice(0, 10)}: reboot at the next maintenance`]]);
    expect(later['@id']).not.toBe(document['@id']);
    const again = await openVex();
    expect((await openVex())['@id']).toBe(again['@id']);
    const cyclonedx = (await (await get('/api/v1/vex?format=cyclonedx')).json()) as { specVersion: string; vulnerabilities: Array<{ id: string; analysis: { state: string; response?: string[] }; affects: Array<{ ref: string }> }> };
    expect(cycloneDxSchemaErrors(cyclonedx)).toEqual([]);
    expect(cyclonedx.specVersion).toBe('1.6');
    const forHost = (host: string) => cyclonedx.vulnerabilities.filter((vulnerability) => vulnerability.affects.some((affected) => affected.ref.startsWith(`${host}/`))).map((vulnerability) => [vulnerability.analysis.state, vulnerability.analysis.response ?? null]);
    expect(forHost('db-1')).toEqual([['exploitable', ['will_not_fix']]]);
    expect(forHost('web-1')).toEqual([['resolved', null]]);
  });

  const vendorVex = {
    '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://vendor.example/vex/7102', author: 'Vendor PSIRT', timestamp: new Date(NOW).toISOString(), version: 1,
    statements: [
      { vulnerability: { name: 'CVE-2026-7102' }, status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', impact_statement: 'libother1 is built without the parser',
        products: [{ '@id': 'urn:fleetpatch:host:web-2', subcomponents: [{ identifiers: { purl: 'pkg:deb/debian/libother1@1.0-1?distro=debian-12' } }] }] },
      { vulnerability: { name: 'CVE-2026-7101' }, status: 'affected', action_statement: 'update to 1.1-1', products: [{ identifiers: { purl: 'pkg:deb/debian/libfp1@1.0-1' } }] },
    ],
  };

  it('imports a vendor\'s not_affected statement as an approved acceptance that excepts the finding, and refuses self-approval', async () => {
    const before = await acceptanceCount();
    const selfApproved = await post('/api/v1/vex', { document: vendorVex, approvedBy: 'initial admin', expiresAt: new Date(NOW + 90 * DAY).toISOString() });
    expect(selfApproved.status).toBe(400);
    expect(((await selfApproved.json()) as { error: { field: string } }).error.field).toBe('approvedBy');
    const unplaced = await post('/api/v1/vex', { document: { ...vendorVex, statements: [{ ...vendorVex.statements[0], products: [{ identifiers: { cpe23: 'cpe:2.3:a:x:y:1:*:*:*:*:*:*:*' } }] }] }, approvedBy: 'erin', expiresAt: new Date(NOW + 90 * DAY).toISOString() });
    expect(((await unplaced.json()) as { error: { field: string } }).error.field).toBe('document.statements[0].products[0]');
    expect(await acceptanceCount()).toBe(before);

    const imported = await post('/api/v1/vex', { document: vendorVex, approvedBy: 'erin', expiresAt: new Date(NOW + 90 * DAY).toISOString() });
    expect(imported.status).toBe(201);
    expect(await imported.json()).toEqual({ documentId: 'https://vendor.example/vex/7102', acceptances: [expect.any(Number)], skipped: { affected: 1 } });
    const row = ((await (await get('/api/v1/reports/compliance?advisory=DSA-7102-1')).json()) as ComplianceReportJson).rows[0]!;
    expect(row).toMatchObject({ host: 'web-2', compliance_status: 'excepted', justification: 'vulnerable_code_not_in_execute_path', accepted_by: 'token:initial admin', approved_by: 'erin',
      acceptance_reason: 'VEX https://vendor.example/vex/7102 by Vendor PSIRT: libother1 is built without the parser' });
    expect(statusOf(await openVex(), 'web-2')).toEqual([['DSA-7102-1', 'not_affected', 'vulnerable_code_not_in_execute_path']]);
    const audit = await database.pool.query<{ entry: string }>("SELECT entry FROM audit_log WHERE entry LIKE '%risk.accepted%' AND entry LIKE '%vendor.example%'");
    expect(audit.rows).toHaveLength(1);
  });

  it('refuses a bad VEX file from the CLI naming the file and line or field, storing nothing', async () => {
    const before = await acceptanceCount();
    const environment = { DATABASE_URL: database.connectionString, FLEETPATCH_HOME: home };
    const broken = join(home, 'broken.json');
    writeFileSync(broken, '{\n  "@context": "https://openvex.dev/ns/v0.2.0",\n  statements: []\n}\n');
    const syntax = await runCli(['vex', 'import', broken, '--approved-by', 'erin', '--expires', '2099-01-31'], environment);
    expect(syntax.code).not.toBe(0);
    expect(syntax.stderr).toContain(`${broken}, line 3: not valid JSON`);
    const wrong = join(home, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ ...vendorVex, statements: [{ ...vendorVex.statements[0], justification: 'trust me' }] }, null, 2));
    const field = await runCli(['vex', 'import', wrong, '--approved-by', 'erin', '--expires', '2099-01-31'], environment);
    expect(field.code).not.toBe(0);
    expect(field.stderr).toContain(`${wrong}, field statements[0].justification:`);
    expect(await acceptanceCount()).toBe(before);
  }, 60_000);
});
