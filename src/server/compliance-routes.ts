/**
 * The compliance report and VEX routes, as RouteSpecs that `create-app.ts` serves with the rest:
 * validated, authorised and documented in `/openapi.json` by the same code.
 */
import type { Context } from 'hono';
import type pg from 'pg';
import { z } from 'zod';
import { complianceReport, type AuditCheckpointer } from '../app/compliance-service.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { complianceCsv, complianceJson, type ComplianceReportScope } from '../domain/reporting/compliance-report.js';
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

export function complianceRoutes(dependencies: ComplianceRouteDependencies): ComplianceRoute[] {
  const { pool, now } = dependencies;
  return [
    {
      method: 'get', path: '/api/v1/reports/compliance',
      summary: 'The compliance report of an advisory (id or alias), bucket, team and period: one evidence row per host × advisory × package (detected, due, installed, live, how verified, by which rollout, the accepted risk with approver and expiry) with its status (pending reboot past due is non-compliant, an accepted risk excepted), as JSON or CSV; it names the signed audit checkpoint it was built from',
      access: 'viewer',
      query: z.object({
        advisory: text(128, 1).optional(),
        bucket: text(128, 1).optional(),
        team: text(128, 1).optional(),
        from: dateTimeParameter.optional(),
        to: dateTimeParameter.optional(),
        format: z.enum(['json', 'csv']).default('json'),
      }),
      responses: { 200: 'The report: JSON (rows, summary, counts per team and bucket, audit_checkpoint) or CSV (the same rows)' },
      example: { query: { advisory: 'CVE-2026-1001', bucket: 'databases', team: 'data-platform', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', format: 'json' } },
      async handle({ query, context }) {
        const { format, from, to, ...names } = query as { advisory?: string; bucket?: string; team?: string; from?: string; to?: string; format: 'json' | 'csv' };
        const scope: ComplianceReportScope = { ...names, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) };
        const { policy, revision } = dependencies.policy();
        const report = await complianceReport(pool, { scope, now: now(), checkpoint: dependencies.checkpoint, ...(policy ? { policy: { policy, ...(revision !== undefined ? { revision } : {}) } } : {}) });
        if (format === 'csv') return context.body(complianceCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="compliance-report.csv"' });
        return context.json(complianceJson(report));
      },
    },
  ];
}
