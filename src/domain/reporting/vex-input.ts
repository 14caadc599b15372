/**
 * Reading an OpenVEX document to import its `not_affected` statements as risk acceptances: the
 * schema (zod, every string bounded and well formed; an error names its JSON path), and what each
 * statement's products mean here — a fleetpatch host IRI (`urn:fleetpatch:host:<name>`, its purl
 * subcomponents the packages) or a purl (that package on every host). `affected`, `fixed` and
 * `under_investigation` statements are counted and skipped: detection says what is affected or
 * fixed, and only a statement that the flaw does not matter here is a decision to record.
 */
import { z } from 'zod';
import { jsonPath } from '../advisories/json-path.js';
import { InputError } from '../errors.js';
import { parsePurl } from '../inventory/purl.js';
import { isoDateTime, wellFormedString } from '../well-formed-text.js';
import { RISK_JUSTIFICATIONS, type RiskJustification } from './risk-justification.js';

const text = (max: number, min = 0) => wellFormedString({ min, max });
const words = wellFormedString({ min: 1, max: 4096, multiline: true });
const dateTime = isoDateTime.max(64).meta({ format: 'date-time' });
const STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
type VexInputStatus = (typeof STATUSES)[number];
const HOST_IRI = 'urn:fleetpatch:host:';

const identifiersSchema = z.object({ purl: text(2048, 1).optional(), cpe22: text(1024, 1).optional(), cpe23: text(1024, 1).optional() });
const subcomponentSchema = z.object({ '@id': text(2048, 1).optional(), identifiers: identifiersSchema.optional() });
const productSchema = z.object({ '@id': text(2048, 1).optional(), identifiers: identifiersSchema.optional(), subcomponents: z.array(subcomponentSchema).max(10_000).optional() });

const statementSchema = z.object({
  '@id': text(2048, 1).optional(),
  version: z.number().int().min(1).max(1_000_000).optional(),
  vulnerability: z.object({ '@id': text(2048, 1).optional(), name: text(256, 1), description: words.optional(), aliases: z.array(text(256, 1)).max(100).optional() }),
  timestamp: dateTime.optional(),
  last_updated: dateTime.optional(),
  products: z.array(productSchema).min(1, 'a statement needs the products it is about').max(100_000),
  status: z.enum(STATUSES),
  supplier: text(512).optional(),
  status_notes: words.optional(),
  justification: z.enum(RISK_JUSTIFICATIONS).optional(),
  impact_statement: words.optional(),
  action_statement: words.optional(),
  action_statement_timestamp: dateTime.optional(),
}).superRefine((statement, context) => {
  if (statement.status === 'not_affected' && !statement.justification && !statement.impact_statement) {
    context.addIssue({ code: 'custom', path: ['justification'], message: 'a not_affected statement needs a justification or an impact_statement' });
  }
  if (statement.status === 'affected' && !statement.action_statement) context.addIssue({ code: 'custom', path: ['action_statement'], message: 'an affected statement needs an action_statement' });
});

/** An OpenVEX v0.2.0 document, as fleetpatch reads it (unknown fields are ignored). */
export const openVexInputSchema = z.object({
  '@context': text(256, 1).regex(/^https:\/\/openvex\.dev\/ns\//, 'not an OpenVEX context (https://openvex.dev/ns/v0.2.0)'),
  '@id': text(2048, 1),
  author: text(512, 1),
  role: text(512).optional(),
  timestamp: dateTime,
  last_updated: dateTime.optional(),
  version: z.number().int().min(1).max(1_000_000),
  tooling: text(1024).optional(),
  statements: z.array(statementSchema).min(1).max(100_000),
});
export type OpenVexInput = z.output<typeof openVexInputSchema>;

/** A risk acceptance a statement asks for, before its approver and expiry are added. */
export interface VexAcceptanceDraft {
  advisoryId: string;
  hostName?: string;
  packageName?: string;
  justification?: RiskJustification;
  reason: string;
}

export interface VexImportPlan {
  documentId: string;
  acceptances: VexAcceptanceDraft[];
  /** Statements not imported, by status. */
  skipped: Partial<Record<VexInputStatus, number>>;
}

/**
 * Validates `document`; an error names `file` (when given) and the JSON path of the bad field.
 *
 * @example parseOpenVex(JSON.parse(text), { file: 'vendor.openvex.json' }).statements.length // 3
 */
export function parseOpenVex(document: unknown, where: { file?: string; prefix?: string } = {}): OpenVexInput {
  const result = openVexInputSchema.safeParse(document);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InputError(issue.message, { ...(where.file ? { file: where.file } : {}), field: joined(where.prefix, jsonPath(issue.path)) });
}

const joined = (prefix: string | undefined, path: string) => (!prefix ? path : path === '' ? prefix : path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`);

/** The package name of a purl product or subcomponent (its identifiers' purl, else an @id that is one). */
function purlName(part: { '@id'?: string | undefined; identifiers?: { purl?: string | undefined } | undefined }, field: string, file: string | undefined): string | undefined {
  const purl = part.identifiers?.purl ?? (part['@id']?.startsWith('pkg:') ? part['@id'] : undefined);
  return purl === undefined ? undefined : parsePurl(purl, { ...(file ? { file } : {}), field }).name;
}

/**
 * The acceptances a document's `not_affected` statements ask for: one per host and package (a host
 * IRI with purl subcomponents), per host (a host IRI alone) or per package on every host (a purl).
 *
 * @example vexImportPlan(document).acceptances[0] // { advisoryId: 'CVE-2026-1001', packageName: 'libfp1', justification: 'vulnerable_code_not_present', reason: 'VEX … by vendor: …' }
 */
export function vexImportPlan(document: OpenVexInput, where: { file?: string; prefix?: string } = {}): VexImportPlan {
  const acceptances: VexAcceptanceDraft[] = [];
  const skipped: VexImportPlan['skipped'] = {};
  document.statements.forEach((statement, index) => {
    if (statement.status !== 'not_affected') {
      skipped[statement.status] = (skipped[statement.status] ?? 0) + 1;
      return;
    }
    const reason = `VEX ${document['@id']} by ${document.author}: ${statement.impact_statement ?? `not affected (${statement.justification})`}`;
    const base = { advisoryId: statement.vulnerability.name, reason, ...(statement.justification ? { justification: statement.justification } : {}) };
    statement.products.forEach((product, productIndex) => {
      const field = joined(where.prefix, `statements[${index}].products[${productIndex}]`);
      const id = product['@id'];
      if (id?.startsWith(HOST_IRI)) {
        const hostName = decodeURIComponent(id.slice(HOST_IRI.length));
        const packages = (product.subcomponents ?? []).map((subcomponent, subIndex) => {
          const name = purlName(subcomponent, `${field}.subcomponents[${subIndex}]`, where.file);
          if (name === undefined) throw new InputError('a subcomponent of a host needs a purl', { ...(where.file ? { file: where.file } : {}), field: `${field}.subcomponents[${subIndex}]` });
          return name;
        });
        if (packages.length === 0) acceptances.push({ ...base, hostName });
        for (const packageName of new Set(packages)) acceptances.push({ ...base, hostName, packageName });
        return;
      }
      const packageName = purlName(product, field, where.file);
      if (packageName === undefined) {
        throw new InputError('fleetpatch knows a product by its purl or as urn:fleetpatch:host:<name>', { ...(where.file ? { file: where.file } : {}), field }, 'give the product an identifiers.purl');
      }
      acceptances.push({ ...base, packageName });
    });
  });
  return { documentId: document['@id'], acceptances, skipped };
}
