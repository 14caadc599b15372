/**
 * The fleet's VEX statements as an OpenVEX v0.2.0 document: each statement's products are hosts
 * (`urn:fleetpatch:host:<name>`) with the package version it is about as a purl subcomponent.
 */
import type { VexStatement } from './vex-statements.js';

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0';

export interface VexDocumentFacts {
  /** An IRI naming this document; the same statements give the same one (see compliance-service). */
  id: string;
  author: string;
  timestamp: Date;
  /** What made it, and the audit checkpoint it was built from. */
  tooling: string;
}

/** @example hostIri('db-1') // 'urn:fleetpatch:host:db-1' */
export const hostIri = (host: string) => `urn:fleetpatch:host:${encodeURIComponent(host)}`;

/** The vulnerability's other names: unique, without its own. */
const otherNames = (statement: VexStatement) => [...new Set(statement.aliases)].filter((alias) => alias !== statement.advisoryId);

/**
 * @example openVexDocument(statements, { id: 'urn:fleetpatch:vex:3f2a…', author: 'fleetpatch', timestamp, tooling: 'fleetpatch 0.1.0' }).statements[0].status // 'affected'
 */
export function openVexDocument(statements: readonly VexStatement[], facts: VexDocumentFacts) {
  return {
    '@context': OPENVEX_CONTEXT,
    '@id': facts.id,
    author: facts.author,
    role: 'fleet operator',
    timestamp: facts.timestamp.toISOString(),
    version: 1,
    tooling: facts.tooling,
    statements: statements.map((statement) => {
      const aliases = otherNames(statement);
      return {
        vulnerability: { name: statement.advisoryId, ...(aliases.length > 0 ? { aliases } : {}) },
        timestamp: statement.timestamp.toISOString(),
        products: statement.products.map((product) => ({ '@id': hostIri(product.host), subcomponents: [{ '@id': product.purl, identifiers: { purl: product.purl } }] })),
        status: statement.status,
        ...(statement.justification ? { justification: statement.justification } : {}),
        ...(statement.impactStatement ? { impact_statement: statement.impactStatement } : {}),
        ...(statement.actionStatement ? { action_statement: statement.actionStatement, action_statement_timestamp: statement.timestamp.toISOString() } : {}),
      };
    }),
  };
}
