/**
 * The compliance report and VEX routes, as RouteSpecs that `create-app.ts` serves with the rest:
 * validated, authorised and documented in `/openapi.json` by the same code.
 */
import type { Context } from 'hono';
import type pg from 'pg';
import { z } from 'zod';
import { complianceReport, importVexAcceptances, NothingToState, VEX_FORMATS, vexExport, type AuditCheckpointer, type VexFormat } from '../app/compliance-service.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { complianceCsv, complianceJson, type ComplianceReportScope } from '../domain/reporting/compliance-report.js';
import { openVexInputSchema, vexImportPlan, type OpenVexInput } from '../domain/reporting/vex-input.js';
import { ApiError } from './api-error.js';
import { isoDateTime, wellFormedString } from '../domain/well-formed-text.js';
import type { Principal } from '../store/auth-store.js';
import type { RouteSpec } from './route-spec.js';

export interface ComplianceRouteDependencies {
  pool: pg.Pool;
  now: () => Date;
  /** The policy in force now, whose SLA clocks give the due times. */
  policy: () => { policy?: Policy | undefined; revision?: number | undefined };
  checkpoint: AuditCheckpointer;
  /** How a principal is named in the audit log and in acceptances. */
  actor: (principal: Principal | undefined) => string;
}

export interface ComplianceRouteInput {
  query: Record<string, unknown>;
  body: unknown;
  principal: Principal | undefined;
  context: Context;
}

export type ComplianceRoute = RouteSpec & { handle(input: ComplianceRouteInput): Promise<Response> };

const text = (max: number, min = 0) => wellFormedString({ min, max });
const dateTimeParameter = isoDateTime.max(64).meta({ format: 'date-time' });
/** A VEX document of 100,000 statements is about 40 MB. */
const MAX_VEX_BYTES = 64 * 1024 * 1024;
const EXAMPLE_VEX = {
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://vendor.example/vex/2026-0001',
  author: 'Vendor Security',
  timestamp: '2026-12-01T09:00:00Z',
  version: 1,
  statements: [{
    vulnerability: { name: 'CVE-2026-1001', aliases: ['DSA-5801-1'] },
    products: [{ '@id': 'urn:fleetpatch:host:db-7', subcomponents: [{ identifiers: { purl: 'pkg:deb/debian/openssl@3.0.15-1~deb12u1?distro=debian-12' } }] }],
    status: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    impact_statement: 'the vulnerable function is never called by our build',
  }],
};

export function complianceRoutes(dependencies: ComplianceRouteDependencies): ComplianceRoute[] {
  const { pool, now } = dependencies;
  return [
    {
      method: 'get', path: '/api/v1/reports/compliance',
      summary: 'The compliance report of an advisory (id or alias), bucket, team and period: one evidence row per host × advisory × package (detected, due, installed, live, how verified, by which rollout, the accepted risk with approver and expiry) with its status (pending reboot past due is non-compliant, an accepted risk excepted), as JSON or CSV; it names the signed audit checkpoint it was built from. limit lists only the first rows of the JSON (the counts are of all)',
      access: 'viewer',
      query: z.object({
        advisory: text(128, 1).optional(),
        bucket: text(128, 1).optional(),
        team: text(128, 1).optional(),
        from: dateTimeParameter.optional(),
        to: dateTimeParameter.optional(),
        format: z.enum(['json', 'csv']).default('json'),
        /** JSON only: list at most this many rows (the counts are of all). */
        limit: z.coerce.number().int().positive().max(10_000_000).optional(),
      }),
      responses: { 200: 'The report: JSON (rows, summary, counts per team and bucket, audit_checkpoint) or CSV (the same rows)' },
      example: { query: { advisory: 'CVE-2026-1001', bucket: 'databases', team: 'data-platform', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', format: 'json', limit: '1000' } },
      async handle({ query, context }) {
        const { format, from, to, limit, ...names } = query as { advisory?: string; bucket?: string; team?: string; from?: string; to?: string; format: 'json' | 'csv'; limit?: number };
        const scope: ComplianceReportScope = { ...names, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) };
        const { policy, revision } = dependencies.policy();
        const report = await complianceReport(pool, { scope, now: now(), checkpoint: dependencies.checkpoint, ...(policy ? { policy: { policy, ...(revision !== undefined ? { revision } : {}) } } : {}) });
        if (format === 'csv') return context.body(complianceCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="compliance-report.csv"' });
        return context.json(complianceJson(report, limit));
      },
    },
    {
      method: 'get', path: '/api/v1/vex',
      summary: 'The fleet\'s VEX statements as OpenVEX or CycloneDX: fixed and live is fixed, open is affected with its action, an accepted risk affected with who accepted it until when and why, not_affected only with the justification its approver attested; it names the audit checkpoint it was built from',
      access: 'viewer',
      query: z.object({ format: z.enum(VEX_FORMATS).default('openvex') }),
      responses: { 200: 'The VEX document', 404: 'The fleet has no findings to state anything about' },
      example: { query: { format: 'openvex' } },
      async handle({ query, context }) {
        const { policy, revision } = dependencies.policy();
        try {
          const document = await vexExport(pool, { format: (query as { format: VexFormat }).format, now: now(), checkpoint: dependencies.checkpoint, author: 'fleetpatch', ...(policy ? { policy: { policy, ...(revision !== undefined ? { revision } : {}) } } : {}) });
          return context.json(document);
        } catch (error) {
          if (error instanceof NothingToState) throw new ApiError(404, 'no-statements', error.message);
          throw error;
        }
      },
    },
    {
      method: 'post', path: '/api/v1/vex',
      summary: 'Import an OpenVEX document\'s not_affected statements as risk acceptances, all or none, each audited: approvedBy someone other than the caller, until expiresAt (operator)',
      access: 'operator',
      body: z.object({ document: openVexInputSchema, approvedBy: text(128, 1), expiresAt: dateTimeParameter }),
      maxBodyBytes: MAX_VEX_BYTES,
      responses: { 201: 'The acceptances recorded, and the statements skipped by status' },
      example: { body: { document: EXAMPLE_VEX, approvedBy: 'bob', expiresAt: '2099-01-31T00:00:00Z' } },
      async handle({ body, principal, context }) {
        const request = body as { document: OpenVexInput; approvedBy: string; expiresAt: string };
        const plan = vexImportPlan(request.document, { prefix: 'document' });
        const result = await importVexAcceptances(pool, {
          plan, requestedBy: dependencies.actor(principal), approvedBy: request.approvedBy, expiresAt: new Date(request.expiresAt), now: now(),
          fields: { approvedBy: 'approvedBy', expiresAt: 'expiresAt' },
        });
        return context.json(result, 201);
      },
    },
  ];
}
