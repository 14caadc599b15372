/**
 * Findings in PostgreSQL: merges what detection says now with what was known before, keeping
 * first-seen and resolved times (time-to-patch needs both) and the pending-reboot state of a fix
 * that is on disk but not live yet.
 */
import type pg from 'pg';
import type { DetectedState } from '../domain/detection/host-findings.js';
import { copyRows, type CopyValue } from './copy-rows.js';

export interface StagedFinding {
  hostKey: number;
  advisoryKey: number;
  packageName: string;
  packageKey: number;
  fixedVersion?: string;
  state: DetectedState;
  stateReason?: string;
}

export interface MergeCounts {
  opened: number;
  updated: number;
  resolved: number;
}

const STAGE_COLUMNS = ['host_key', 'advisory_key', 'package_name', 'package_key', 'fixed_version', 'state', 'state_reason'];

/**
 * Replaces the open findings of `hostKeys` with `findings` (which must be every current finding of
 * those hosts). Must run inside a transaction.
 */
export async function mergeFindings(client: pg.PoolClient, hostKeys: number[], findings: Iterable<StagedFinding>, now: Date): Promise<MergeCounts> {
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS staged_findings (
       host_key integer, advisory_key integer, package_name text, package_key integer,
       fixed_version text, state text, state_reason text
     ) ON COMMIT DELETE ROWS`,
  );
  await client.query('TRUNCATE staged_findings');
  await copyRows(client, 'staged_findings', STAGE_COLUMNS, stageRows(findings));
  await client.query('ANALYZE staged_findings');

  const upserted = await client.query<{ opened: boolean }>(
    `INSERT INTO findings AS f (host_key, advisory_key, package_name, package_key, fixed_version, state, state_reason, first_seen_at, resolved_at)
     SELECT DISTINCT ON (host_key, advisory_key, package_name)
            host_key, advisory_key, package_name, package_key, fixed_version, state, state_reason, $1::timestamptz, NULL::timestamptz
       FROM staged_findings
      -- Several installed versions of one name (kernels) share a key: the most urgent state wins.
      ORDER BY host_key, advisory_key, package_name,
               CASE state WHEN 'vulnerable' THEN 0 WHEN 'pending-reboot' THEN 1 ELSE 2 END
     ON CONFLICT (host_key, advisory_key, package_name) DO UPDATE SET
       package_key = excluded.package_key, fixed_version = excluded.fixed_version, state = excluded.state,
       state_reason = excluded.state_reason, resolved_at = NULL,
       -- A regression after a fix opens a new exposure window.
       first_seen_at = CASE WHEN f.resolved_at IS NOT NULL THEN excluded.first_seen_at ELSE f.first_seen_at END
     WHERE (f.package_key, f.fixed_version, f.state, f.state_reason, f.resolved_at)
           IS DISTINCT FROM (excluded.package_key, excluded.fixed_version, excluded.state, excluded.state_reason, NULL::timestamptz)
     RETURNING (xmax = 0) AS opened`,
    [now],
  );
  const opened = upserted.rows.filter((row) => row.opened).length;

  // Open findings detection no longer reports are fixed, unless the host still waits for a reboot:
  // then the fix is on disk but not live.
  const resolved = await client.query(
    `UPDATE findings f SET
       state = CASE WHEN h.reboot_required THEN 'pending-reboot' ELSE 'fixed' END,
       state_reason = CASE WHEN h.reboot_required THEN 'fixed version installed; the host reports a reboot is required' ELSE NULL END,
       resolved_at = CASE WHEN h.reboot_required THEN NULL ELSE $2::timestamptz END
       FROM hosts h
      WHERE h.key = f.host_key AND f.host_key = ANY($1::integer[]) AND f.resolved_at IS NULL
        AND NOT (f.state = 'pending-reboot' AND h.reboot_required AND f.state_reason LIKE 'fixed version installed%')
        AND NOT EXISTS (SELECT 1 FROM staged_findings s
                         WHERE s.host_key = f.host_key AND s.advisory_key = f.advisory_key AND s.package_name = f.package_name)`,
    [hostKeys, now],
  );
  return { opened, updated: upserted.rowCount! - opened, resolved: resolved.rowCount ?? 0 };
}

function* stageRows(findings: Iterable<StagedFinding>): Generator<CopyValue[]> {
  for (const finding of findings) {
    yield [finding.hostKey, finding.advisoryKey, finding.packageName, finding.packageKey, finding.fixedVersion, finding.state, finding.stateReason];
  }
}
