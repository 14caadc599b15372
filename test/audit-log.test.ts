// The audit log on a real PostgreSQL: concurrent appends stay gapless, the triggers refuse changes,
// and verification catches what a superuser does behind them (rewritten rows, deleted entries,
// forged checkpoints), naming the first bad entry.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/domain/audit/audit-entry.js';
import { checkpointFileName } from '../src/domain/audit/checkpoint.js';
import { AuditLogTampered, auditPaths, createCheckpoint, verifyAuditLog } from '../src/store/audit-checkpoints.js';
import { appendAudit, auditedChange, listAudit, readAuditRows, recordAudit } from '../src/store/audit-log.js';
import { enrollHost, retireHost } from '../src/app/host-access.js';
import { approveReenrollment, createApiToken, createEnrollmentToken, revokeAgentCredential, revokeApiToken, revokeEnrollmentToken } from '../src/store/auth-store.js';
import { acceptRisk } from '../src/store/finding-queries.js';
import { withTransaction } from '../src/store/transaction.js';
import { runCli } from './cli.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const event = (index: number): AuditEvent => ({ action: 'api-token.created', actor: `cli:writer-${index % 4}`, subject: `api-token:${index}`, reason: `entry ${index}`, details: { index } });

let database: TestDatabase;
let home: string;

beforeEach(async () => {
  database = await createTestDatabase();
  home = mkdtempSync(join(tmpdir(), 'fleetpatch-audit-'));
});

afterEach(async () => {
  await database.drop();
  rmSync(home, { recursive: true, force: true });
});

async function append(count: number, from = 1): Promise<void> {
  for (let index = from; index < from + count; index++) await recordAudit(database.pool, event(index));
}

/** What a superuser can do: the triggers disabled, a statement run, the triggers back. */
async function asSuperuser(statement: string, parameters: unknown[] = []): Promise<void> {
  await withTransaction(database.pool, async (client) => {
    await client.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_head DISABLE TRIGGER USER');
    await client.query(statement, parameters);
    // Put back as they were, as someone covering their tracks would.
    await client.query('ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only, ENABLE ALWAYS TRIGGER audit_log_no_truncate');
    await client.query('ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_grows, ENABLE ALWAYS TRIGGER audit_head_no_delete, ENABLE ALWAYS TRIGGER audit_head_no_truncate');
  });
}

describe('audit log', () => {
  it('numbers concurrent appends from many connections without gaps or forks, and verifies', async () => {
    const writers = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: database.connectionString, max: 2 }));
    try {
      await Promise.all(writers.map((pool, writer) => Promise.all(Array.from({ length: 20 }, (_, index) => recordAudit(pool, event(writer * 100 + index))))));
    } finally {
      await Promise.all(writers.map((pool) => pool.end()));
    }
    const rows = await readAuditRows(database.pool);
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    // Times follow the numbers: each entry was timed under the head lock.
    for (let index = 1; index < rows.length; index++) expect(rows[index]!.recordedAt.getTime()).toBeGreaterThanOrEqual(rows[index - 1]!.recordedAt.getTime());
    expect(new Set(rows.map((row) => JSON.parse(row.entry).subject)).size).toBe(120);
    await createCheckpoint(database.pool, home);
    const report = await verifyAuditLog(database.pool, { home });
    expect(report).toMatchObject({ ok: true, size: 120, anchoredSize: 120, problems: [] });
  });

  it('commits an entry with the change it records, and gives an aborted change\'s number back', async () => {
    await expect(withTransaction(database.pool, async (client) => {
      await appendAudit(client, event(1));
      throw new Error('the change failed');
    })).rejects.toThrow('the change failed');
    const kept = await auditedChange(database.pool, async (client) => (await client.query('SELECT 1')).rowCount, () => event(2));
    expect(kept).toBe(1);
    // Nothing changed, nothing recorded.
    await auditedChange(database.pool, async () => false, () => undefined);
    const listed = await listAudit(database.pool);
    expect(listed.map((entry) => [entry.seq, entry.subject])).toEqual([[1, 'api-token:2']]);
    expect((await verifyAuditLog(database.pool, { home })).ok).toBe(true);
  });

  it('lists entries newest first, by action family, time and limit', async () => {
    await append(3);
    await recordAudit(database.pool, { action: 'host.retired', actor: 'token:ops', subject: 'host:db-7', reason: 'decommissioned' });
    expect((await listAudit(database.pool, { action: 'host' })).map((entry) => entry.seq)).toEqual([4]);
    expect((await listAudit(database.pool, { action: 'api-token.created', limit: 2 })).map((entry) => entry.seq)).toEqual([3, 2]);
    expect(await listAudit(database.pool, { action: 'api' })).toEqual([]);
    expect(await listAudit(database.pool, { since: new Date(Date.now() + 60_000) })).toEqual([]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE, also with replication triggers off', async () => {
    await append(2);
    await expect(database.pool.query("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 1")).rejects.toThrow('append-only');
    await expect(database.pool.query('DELETE FROM audit_log WHERE seq = 2')).rejects.toThrow('append-only');
    await expect(database.pool.query('TRUNCATE audit_log')).rejects.toThrow('append-only');
    await expect(database.pool.query('UPDATE audit_head SET size = 0')).rejects.toThrow('only grows');
    await createCheckpoint(database.pool, home);
    await expect(database.pool.query('DELETE FROM audit_checkpoints')).rejects.toThrow('append-only');
    await expect(withTransaction(database.pool, async (client) => {
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query('DELETE FROM audit_log');
    })).rejects.toThrow('append-only');
    expect(await readAuditRows(database.pool)).toHaveLength(2);
  });

  it('fails verification naming an entry a superuser rewrote behind the triggers', async () => {
    await append(5);
    await createCheckpoint(database.pool, home);
    await asSuperuser(`UPDATE audit_log SET entry = replace(entry, '"reason":"entry 3"', '"reason":"nothing to see"') WHERE seq = 3`);
    const report = await verifyAuditLog(database.pool, { home });
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(3);
    expect(report.problems[0]!.message).toBe('entry 3: its leaf hash does not match its text (the entry or its hash was changed after it was written)');
    // The checkpoints (file and database) no longer match either.
    expect(report.problems.some((problem) => problem.checkpoint === `file ${checkpointFileName(5)}`)).toBe(true);
    // And the log refuses to sign over it.
    await expect(createCheckpoint(database.pool, home)).rejects.toThrow(AuditLogTampered);
  });

  it('catches an entry rewritten together with its hash through the checkpoint it was covered by', async () => {
    await append(4);
    await createCheckpoint(database.pool, home);
    await append(2, 5);
    await createCheckpoint(database.pool, home);
    const rewritten = (await readAuditRows(database.pool))[4]!.entry.replace('"reason":"entry 5"', '"reason":"forged"');
    await asSuperuser("UPDATE audit_log SET entry = $1, leaf_hash = sha256('\\x00'::bytea || convert_to($1, 'UTF8')) WHERE seq = 5", [rewritten]);
    const report = await verifyAuditLog(database.pool, { home });
    expect(report.ok).toBe(false);
    // Checkpoint 4 still holds; checkpoint 6 does not: the change is in entries 5–6.
    expect(report.anchoredSize).toBe(4);
    expect(report.firstBadSeq).toBe(5);
    expect(report.problems.map((problem) => problem.message)).toContain(
      `checkpoint at size 6 (file ${checkpointFileName(6)}): the log is not an extension of it: an entry between 5 and 6 was changed after it was signed`,
    );
  });

  it('fails against the checkpoint when the last entries are deleted', async () => {
    await append(6);
    await createCheckpoint(database.pool, home);
    await asSuperuser('DELETE FROM audit_log WHERE seq > 4');
    const report = await verifyAuditLog(database.pool, { home });
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(5);
    expect(report.problems.map((problem) => problem.message)).toContain(`checkpoint at size 6 (file ${checkpointFileName(6)}): the log has only 4 entries: entries 5–6 were removed`);
    // Even with the head and the database's checkpoints rewritten too, the file remembers.
    await asSuperuser('UPDATE audit_head SET size = 4');
    await withTransaction(database.pool, async (client) => {
      await client.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
      await client.query('DELETE FROM audit_checkpoints');
    });
    const again = await verifyAuditLog(database.pool, { home });
    expect(again.ok).toBe(false);
    expect(again.problems.map((problem) => problem.message)).toEqual([`checkpoint at size 6 (file ${checkpointFileName(6)}): the log has only 4 entries: entries 5–6 were removed`]);
  });

  it('fails on a checkpoint whose signature or content was tampered with, or signed by another key', async () => {
    await append(3);
    const { file } = (await createCheckpoint(database.pool, home))!;
    const original = readFileSync(file, 'utf8');
    const checkpoint = JSON.parse(original) as { rootHash: string; signature: string };
    const signature = Buffer.from(checkpoint.signature, 'base64');
    signature[10]! ^= 1;
    writeFileSync(file, JSON.stringify({ ...checkpoint, signature: signature.toString('base64') }));
    let report = await verifyAuditLog(database.pool, { home });
    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => problem.message)).toEqual([`checkpoint at size 3 (file ${checkpointFileName(3)}): its signature does not verify (the checkpoint was altered or forged)`]);

    writeFileSync(file, JSON.stringify({ ...checkpoint, treeSize: 2 }));
    expect((await verifyAuditLog(database.pool, { home })).problems[0]!.message).toContain('its signature does not verify');

    // The untouched file verifies, but not under someone else's key.
    writeFileSync(file, original);
    expect((await verifyAuditLog(database.pool, { home })).ok).toBe(true);
    const otherHome = mkdtempSync(join(tmpdir(), 'fleetpatch-audit-other-'));
    try {
      await createCheckpoint(database.pool, otherHome);
      report = await verifyAuditLog(database.pool, { home, publicKeyFile: auditPaths(otherHome).publicKey });
      expect(report.ok).toBe(false);
      expect(report.problems[0]!.message).toMatch(/^checkpoint at size 3 \(file 000000000003\.json\): signed by key [0-9a-f]{16}, not the trusted key [0-9a-f]{16}$/);
    } finally {
      rmSync(otherHome, { recursive: true, force: true });
    }
  });

  it('keeps the signing key private and signs each size once', async () => {
    expect(await createCheckpoint(database.pool, home)).toBeUndefined();
    await append(2);
    const first = (await createCheckpoint(database.pool, home))!;
    expect(first.created).toBe(true);
    expect(statSync(auditPaths(home).privateKey).mode & 0o777).toBe(0o600);
    expect(existsSync(auditPaths(home).publicKey)).toBe(true);
    const again = (await createCheckpoint(database.pool, home))!;
    expect(again).toMatchObject({ created: false, checkpoint: first.checkpoint });
    expect((await database.pool.query('SELECT count(*)::integer AS n FROM audit_checkpoints')).rows[0].n).toBe(1);
    // Without the files, only the database's copy remains: consistent, but not anchored outside it.
    rmSync(auditPaths(home).checkpoints, { recursive: true });
    expect(await verifyAuditLog(database.pool, { home })).toMatchObject({ ok: true, size: 2, checkpointsChecked: 1, anchoredSize: 0 });
  });

  it('fleetpatch audit verify exits 0 on an untouched log and 1 naming the entry on a tampered one', async () => {
    await append(3);
    const environment = { DATABASE_URL: database.connectionString, FLEETPATCH_HOME: home };
    const signed = await runCli(['audit', 'checkpoint', '--json'], environment);
    expect(signed.code, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ created: true, checkpoint: { treeSize: 3 } });
    const good = await runCli(['audit', 'verify'], environment);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('audit log verified');
    const listed = await runCli(['audit', 'log', '--json', '--limit', '2'], environment);
    expect(JSON.parse(listed.stdout).map((entry: { seq: number }) => entry.seq)).toEqual([3, 2]);

    await asSuperuser("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 2");
    const bad = await runCli(['audit', 'verify'], environment);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('first bad entry 2');
    expect(bad.stdout).toContain('entry 2: its actor column (cli:mallory) differs from its text (cli:writer-2)');
    const json = await runCli(['audit', 'verify', '--json'], environment);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBadSeq: 2 });
  });

  it('records every access change and risk acceptance with its actor, in the change\'s transaction', async () => {
    const now = new Date();
    const api = await createApiToken(database.pool, 'grafana', 'viewer', 'token:admin');
    await revokeApiToken(database.pool, api.id, 'cli:alice');
    expect(await revokeApiToken(database.pool, api.id, 'cli:alice')).toBe(false);
    const enrollment = await createEnrollmentToken(database.pool, { name: 'databases', labels: { team: 'data' }, expiresAt: new Date(now.getTime() + 3_600_000), maxUses: 3, createdBy: 'first start' });
    await enrollHost(database.pool, { token: enrollment.token, hostname: 'db-7' }, now);
    await revokeAgentCredential(database.pool, 'db-7', 'token:ops');
    await approveReenrollment(database.pool, 'db-7', new Date(now.getTime() + 60_000), 'token:ops');
    await enrollHost(database.pool, { token: enrollment.token, hostname: 'db-7' }, now);
    await revokeEnrollmentToken(database.pool, enrollment.id, 'cli:alice');
    await database.pool.query("INSERT INTO hosts (name, bucket, team) VALUES ('db-7', 'databases', 'data')");
    await retireHost(database.pool, 'db-7', 'cli:alice', 'decommissioned', now);
    await acceptRisk(database.pool, { advisoryId: 'CVE-2027-0001', reason: 'not reachable', acceptedBy: 'bob', expiresAt: new Date(now.getTime() + 86_400_000) });
    const entries = (await listAudit(database.pool)).reverse();
    expect(entries.map((entry) => [entry.action, entry.actor, entry.subject])).toEqual([
      ['api-token.created', 'token:admin', `api-token:${api.id}`],
      ['api-token.revoked', 'cli:alice', `api-token:${api.id}`],
      ['enrollment-token.created', 'system:first start', `enrollment-token:${enrollment.id}`],
      ['host.enrolled', 'host:db-7', 'host:db-7'],
      ['host.credential-revoked', 'token:ops', 'host:db-7'],
      ['host.reenrollment-approved', 'token:ops', 'host:db-7'],
      ['host.enrolled', 'host:db-7', 'host:db-7'],
      ['enrollment-token.revoked', 'cli:alice', `enrollment-token:${enrollment.id}`],
      ['host.retired', 'cli:alice', 'host:db-7'],
      ['risk.accepted', 'cli:bob', 'risk-acceptance:1'],
    ]);
    expect(entries[3]!.details).toMatchObject({ how: 'new', grantedLabels: { team: 'data' } });
    expect(entries[6]!.details).toMatchObject({ how: 'approved-reenrollment' });
    expect(entries[8]).toMatchObject({ reason: 'decommissioned', details: { bucket: 'databases', team: 'data', openFindings: 0 } });
    // A refused enrollment changes nothing and records nothing.
    await expect(enrollHost(database.pool, { token: 'fpe_unknown', hostname: 'db-8' }, now)).rejects.toThrow('unknown enrollment token');
    expect((await verifyAuditLog(database.pool, { home })).size).toBe(10);
  });
});
