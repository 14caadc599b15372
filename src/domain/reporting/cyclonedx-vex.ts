/**
 * The fleet's VEX statements as a CycloneDX 1.6 BOM with `vulnerabilities[].analysis`: each host is
 * a device component holding the package versions the statements are about; each statement's
 * `affects` names those packages. OpenVEX's vocabulary is mapped to CycloneDX's: fixed → resolved,
 * affected → exploitable (respond by update, or will_not_fix for an accepted risk), not_affected →
 * not_affected with the nearest CycloneDX justification.
 */
import type { RiskJustification } from './risk-justification.js';
import type { VexDocumentFacts } from './openvex.js';
import type { VexStatement } from './vex-statements.js';

const JUSTIFICATIONS: Record<RiskJustification, string> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

const STATES = { fixed: 'resolved', affected: 'exploitable', not_affected: 'not_affected', under_investigation: 'in_triage' } as const;

const reference = (host: string, purl: string) => `${host}/${purl}`;

/**
 * `serialNumber` names the BOM as an RFC 9562 URN (`urn:uuid:…`), where OpenVEX has its `@id`.
 *
 * @example cycloneDxVex(statements, facts, 'urn:uuid:3f2a…').vulnerabilities[0].analysis.state // 'exploitable'
 */
export function cycloneDxVex(statements: readonly VexStatement[], facts: Omit<VexDocumentFacts, 'id'>, serialNumber: string, toolVersion: string) {
  const packagesByHost = new Map<string, Set<string>>();
  for (const statement of statements) {
    for (const product of statement.products) packagesByHost.set(product.host, (packagesByHost.get(product.host) ?? new Set()).add(product.purl));
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber,
    version: 1,
    metadata: {
      timestamp: facts.timestamp.toISOString(),
      authors: [{ name: facts.author }],
      tools: { components: [{ type: 'application', name: 'fleetpatch', version: toolVersion, description: facts.tooling }] },
    },
    components: [...packagesByHost].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([host, purls]) => ({
      type: 'device',
      'bom-ref': host,
      name: host,
      components: [...purls].sort().map((purl) => ({ type: 'library', 'bom-ref': reference(host, purl), name: decodeURIComponent(purl.slice(purl.lastIndexOf('/') + 1, purl.indexOf('@'))), purl })),
    })),
    vulnerabilities: statements.map((statement) => ({
      id: statement.advisoryId,
      ...(statement.aliases.length > 0 ? { references: [...new Set(statement.aliases)].filter((alias) => alias !== statement.advisoryId).map((alias) => ({ id: alias, source: { name: alias.startsWith('CVE-') ? 'NVD' : 'OSV' } })) } : {}),
      analysis: {
        state: STATES[statement.status],
        ...(statement.justification ? { justification: JUSTIFICATIONS[statement.justification] } : {}),
        ...(statement.status === 'affected' ? { response: [statement.riskAccepted ? 'will_not_fix' : 'update'] } : {}),
        ...(statement.actionStatement ?? statement.impactStatement ? { detail: statement.actionStatement ?? statement.impactStatement } : {}),
        lastUpdated: statement.timestamp.toISOString(),
      },
      affects: statement.products.map((product) => ({ ref: reference(product.host, product.purl) })),
    })),
  };
}
