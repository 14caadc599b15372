import { describe, expect, it } from 'vitest';
import { cycloneDxVex } from './cyclonedx-vex.js';
import { openVexDocument } from './openvex.js';
import { packageUrl } from './package-url.js';
import { vexStatements, type VexEvidence } from './vex-statements.js';

const now = new Date('2026-12-10T00:00:00Z');
const detected = new Date('2026-12-01T00:00:00Z');
const row = (host: string, overrides: Partial<VexEvidence> = {}): VexEvidence => ({
  host, bucket: 'databases', team: 'data', advisoryId: 'DSA-5801-1', aliases: ['CVE-2026-1001', 'CVE-2026-1001'], severity: 'high', knownExploited: false,
  ecosystem: 'Debian:12', package: 'libssl3', installedVersion: '3.0.1-1', fixedVersion: '3.0.1-2', findingState: 'vulnerable', detectedAt: detected,
  dueAt: new Date('2026-12-08T00:00:00Z'), ...overrides,
});
const acceptance = { id: 7, reason: 'appliance, vendor patch pending', acceptedBy: 'alice', approvedBy: 'bob', acceptedAt: new Date('2026-12-02T00:00:00Z'), expiresAt: new Date('2027-01-31T00:00:00Z') };
const purl = 'pkg:deb/debian/libssl3@3.0.1-1?distro=debian-12';

describe('vexStatements', () => {
  it('says fixed for a live fix, affected with the action for an open finding and a pending reboot', () => {
    const statements = vexStatements([
      row('a', { findingState: 'fixed', liveAt: now }),
      row('b'),
      row('c', { findingState: 'pending-reboot', installedAt: detected }),
    ], now);
    expect(statements.map((statement) => [statement.products.map((product) => product.host), statement.status, statement.actionStatement])).toEqual([
      [['c'], 'affected', 'reboot to run the installed fix (3.0.1-2), due 2026-12-08'],
      [['b'], 'affected', 'update to 3.0.1-2, due 2026-12-08'],
      [['a'], 'fixed', undefined],
    ]);
  });

  it('keeps an accepted risk affected, saying who accepted it until when and why, unless its approver attested a justification', () => {
    const [accepted] = vexStatements([row('a', { acceptance })], now);
    expect(accepted).toMatchObject({ status: 'affected', riskAccepted: true, actionStatement: 'risk accepted by alice (approved by bob) until 2027-01-31: appliance, vendor patch pending', timestamp: acceptance.acceptedAt });
    expect(accepted!.justification).toBeUndefined();
    const [justified] = vexStatements([row('a', { acceptance: { ...acceptance, justification: 'inline_mitigations_already_exist' } })], now);
    expect(justified).toMatchObject({ status: 'not_affected', justification: 'inline_mitigations_already_exist', impactStatement: 'risk accepted by alice (approved by bob) until 2027-01-31: appliance, vendor patch pending' });
    // Expired, it no longer speaks for the host.
    const [expired] = vexStatements([row('a', { acceptance: { ...acceptance, justification: 'inline_mitigations_already_exist', expiresAt: now } })], now);
    expect(expired!.status).toBe('affected');
    expect(expired!.actionStatement).toBe('update to 3.0.1-2, due 2026-12-08');
  });

  it('says not_affected, not in the execute path, for a vulnerable kernel that is not running', () => {
    const [statement] = vexStatements([row('a', { findingState: 'not-applicable', package: 'linux-image-6.1.0-9-amd64', liveAt: now })], now);
    expect(statement).toMatchObject({ status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', timestamp: now });
  });

  it('makes one statement of the hosts that say the same, dated by the latest of them', () => {
    const statements = vexStatements([row('b', { findingState: 'fixed', liveAt: now }), row('a', { findingState: 'fixed', liveAt: detected })], now);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.products).toEqual([{ host: 'a', purl }, { host: 'b', purl }]);
    expect(statements[0]!.timestamp).toEqual(now);
  });
});

describe('the VEX documents', () => {
  const statements = vexStatements([row('db-1', { acceptance }), row('db-2', { findingState: 'fixed', liveAt: now })], now);

  it('writes OpenVEX with host products, purl subcomponents and unique aliases', () => {
    const document = openVexDocument(statements, { id: 'urn:fleetpatch:vex:sha256:00', author: 'fleetpatch', timestamp: now, tooling: 'fleetpatch 0.1.0' });
    expect(document.statements[0]).toEqual({
      vulnerability: { name: 'DSA-5801-1', aliases: ['CVE-2026-1001'] },
      timestamp: acceptance.acceptedAt.toISOString(),
      products: [{ '@id': 'urn:fleetpatch:host:db-1', subcomponents: [{ '@id': purl, identifiers: { purl } }] }],
      status: 'affected',
      action_statement: 'risk accepted by alice (approved by bob) until 2027-01-31: appliance, vendor patch pending',
      action_statement_timestamp: acceptance.acceptedAt.toISOString(),
    });
  });

  it('writes CycloneDX: an accepted risk exploitable and will_not_fix, a fix resolved, each affecting its host\'s package', () => {
    const bom = cycloneDxVex(statements, { author: 'fleetpatch', timestamp: now, tooling: 'fleetpatch 0.1.0' }, 'urn:uuid:00000000-0000-8000-8000-000000000000', '0.1.0');
    expect(bom.components.map((component) => [component['bom-ref'], component.components.map((child) => child['bom-ref'])])).toEqual([['db-1', [`db-1/${purl}`]], ['db-2', [`db-2/${purl}`]]]);
    expect(bom.vulnerabilities.map((vulnerability) => [vulnerability.analysis.state, 'response' in vulnerability.analysis ? vulnerability.analysis.response : undefined, vulnerability.affects])).toEqual([
      ['exploitable', ['will_not_fix'], [{ ref: `db-1/${purl}` }]],
      ['resolved', undefined, [{ ref: `db-2/${purl}` }]],
    ]);
  });
});

describe('packageUrl', () => {
  it('names OS packages with their distro and encodes what a purl cannot hold', () => {
    expect(packageUrl('Ubuntu:22.04:LTS', 'openssl', '3.0.2-0ubuntu1.18')).toBe('pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.18?distro=ubuntu-22.04');
    expect(packageUrl('Alpine:v3.19', 'busybox', '1.36.1-r15')).toBe('pkg:apk/alpine/busybox@1.36.1-r15?distro=alpine-3.19');
    expect(packageUrl('Red Hat:enterprise_linux:9', 'openssl', '1:3.0.7-27.el9')).toBe('pkg:rpm/redhat/openssl@1%3A3.0.7-27.el9?distro=rhel-9');
    expect(packageUrl('npm', '@babel/core', '7.24.0')).toBe('pkg:npm/%40babel/core@7.24.0');
    expect(packageUrl('Hex', 'plug', '1.0.0')).toBe('pkg:generic/plug@1.0.0');
  });
});
