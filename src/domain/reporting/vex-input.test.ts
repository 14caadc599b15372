import { describe, expect, it } from 'vitest';
import { parseOpenVex, vexImportPlan } from './vex-input.js';

const document = (statements: unknown[]) => ({ '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://vendor.example/vex/1', author: 'Vendor', timestamp: '2026-12-01T00:00:00Z', version: 1, statements });
const purl = 'pkg:deb/debian/libfp1@1.0-1?distro=debian-12';

describe('parseOpenVex', () => {
  it('names the file and the JSON path of a bad field', () => {
    expect(() => parseOpenVex(document([{ vulnerability: {}, products: [{ '@id': purl }], status: 'fixed' }]), { file: 'vendor.json' })).toThrow('vendor.json, field statements[0].vulnerability.name: ');
    expect(() => parseOpenVex(document([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': purl }], status: 'not_affected' }]), { file: 'vendor.json' }))
      .toThrow('vendor.json, field statements[0].justification: a not_affected statement needs a justification or an impact_statement');
    expect(() => parseOpenVex(document([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': purl }], status: 'affected' }]))).toThrow('field statements[0].action_statement: an affected statement needs an action_statement');
    expect(() => parseOpenVex(document([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': purl }], status: 'not_affected', justification: 'because' }]))).toThrow('field statements[0].justification');
    expect(() => parseOpenVex({ ...document([]), '@context': 'https://example.com' }, { prefix: 'document' })).toThrow('field document.@context: not an OpenVEX context');
    expect(() => parseOpenVex(document([]))).toThrow('field statements');
  });
});

describe('vexImportPlan', () => {
  it('asks for one acceptance per host package, per host, or per package everywhere; skips what is not not_affected', () => {
    const plan = vexImportPlan(parseOpenVex(document([
      { vulnerability: { name: 'CVE-2026-7101' }, status: 'not_affected', justification: 'vulnerable_code_not_present',
        products: [{ '@id': 'urn:fleetpatch:host:db%2D1', subcomponents: [{ identifiers: { purl } }, { '@id': purl }] }, { '@id': 'urn:fleetpatch:host:db-2' }, { identifiers: { purl } }] },
      { vulnerability: { name: 'CVE-2026-7102' }, status: 'not_affected', impact_statement: 'compiled without the module', products: [{ '@id': purl }] },
      { vulnerability: { name: 'CVE-2026-7103' }, status: 'fixed', products: [{ '@id': purl }] },
      { vulnerability: { name: 'CVE-2026-7104' }, status: 'affected', action_statement: 'update', products: [{ '@id': purl }] },
    ])));
    expect(plan.documentId).toBe('https://vendor.example/vex/1');
    expect(plan.skipped).toEqual({ fixed: 1, affected: 1 });
    const reason = 'VEX https://vendor.example/vex/1 by Vendor: not affected (vulnerable_code_not_present)';
    expect(plan.acceptances).toEqual([
      { advisoryId: 'CVE-2026-7101', hostName: 'db-1', packageName: 'libfp1', justification: 'vulnerable_code_not_present', reason },
      { advisoryId: 'CVE-2026-7101', hostName: 'db-2', justification: 'vulnerable_code_not_present', reason },
      { advisoryId: 'CVE-2026-7101', packageName: 'libfp1', justification: 'vulnerable_code_not_present', reason },
      { advisoryId: 'CVE-2026-7102', packageName: 'libfp1', reason: 'VEX https://vendor.example/vex/1 by Vendor: compiled without the module' },
    ]);
  });

  it('refuses a product it cannot place, naming it', () => {
    const cpeOnly = parseOpenVex(document([{ vulnerability: { name: 'CVE-1' }, status: 'not_affected', justification: 'component_not_present', products: [{ identifiers: { cpe23: 'cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*' } }] }]));
    expect(() => vexImportPlan(cpeOnly, { file: 'vendor.json' })).toThrow('vendor.json, field statements[0].products[0]: fleetpatch knows a product by its purl or as urn:fleetpatch:host:<name>');
    const badPurl = parseOpenVex(document([{ vulnerability: { name: 'CVE-1' }, status: 'not_affected', justification: 'component_not_present', products: [{ '@id': 'urn:fleetpatch:host:db-1', subcomponents: [{ '@id': 'pkg:deb' }] }] }]));
    expect(() => vexImportPlan(badPurl, { prefix: 'document' })).toThrow('field document.statements[0].products[0].subcomponents[0]');
  });
});
