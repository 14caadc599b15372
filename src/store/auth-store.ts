/**
 * Tokens and credentials. Only SHA-256 hashes are stored: a database dump reveals no usable secret.
 * API tokens carry a role; enrollment tokens let agents register (with an expiry, a use limit and
 * revocation); each enrolled host gets a credential that can write only that host. Every change
 * that takes access away notifies `fleetpatch_access`, so every replica drops its cached
 * principals at once. Every change appends to the audit log in its own transaction.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { auditActor, auditedChange } from './audit-log.js';
import { notifyChange } from './change-notifications.js';

type Queryable = pg.Pool | pg.PoolClient;

export type Role = 'viewer' | 'operator' | 'admin';

export type Principal =
  | { kind: 'token'; id: number; name: string; role: Role }
  | { kind: 'agent'; hostName: string; grantedLabels: Record<string, string> };

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new random secret with a readable prefix saying what it is (`fpa_`, `fpe_`, `fph_`). */
export function newSecret(prefix: 'fpa' | 'fpe' | 'fph'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export async function countApiTokens(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM api_tokens WHERE revoked_at IS NULL')).rows[0]!.n;
}

/** Creates an API token and returns the secret (shown once, never stored). */
export async function createApiToken(db: Queryable, name: string, role: Role, createdBy?: string): Promise<{ id: number; token: string }> {
  const token = newSecret('fpa');
  const id = await auditedChange(
    db,
    async (client) => (await client.query<{ id: number }>('INSERT INTO api_tokens (name, role, token_hash, created_by) VALUES ($1, $2, $3, $4) RETURNING id', [name, role, hashSecret(token), createdBy ?? null])).rows[0]!.id,
    (created) => ({ action: 'api-token.created', actor: auditActor(createdBy), subject: `api-token:${created}`, details: { name, role } }),
  );
  return { id, token };
}

export interface EnrollmentTokenOptions {
  name: string;
  labels: Record<string, string>;
  expiresAt: Date;
  /** How many enrollments the token allows; undefined: no limit (only the expiry ends it). */
  maxUses?: number;
  createdBy?: string;
}

export async function createEnrollmentToken(db: Queryable, options: EnrollmentTokenOptions): Promise<{ id: number; token: string }> {
  const token = newSecret('fpe');
  const id = await auditedChange(
    db,
    async (client) => (await client.query<{ id: number }>(
      'INSERT INTO enrollment_tokens (name, token_hash, labels, expires_at, max_uses, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [options.name, hashSecret(token), JSON.stringify(options.labels), options.expiresAt, options.maxUses ?? null, options.createdBy ?? null],
    )).rows[0]!.id,
    (created) => ({
      action: 'enrollment-token.created',
      actor: auditActor(options.createdBy),
      subject: `enrollment-token:${created}`,
      details: { name: options.name, labels: options.labels, expiresAt: options.expiresAt.toISOString(), maxUses: options.maxUses ?? null },
    }),
  );
  return { id, token };
}

export interface ApiTokenRow {
  id: number;
  name: string;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export async function listApiTokens(db: Queryable): Promise<ApiTokenRow[]> {
  const result = await db.query<ApiTokenRow>(
    'SELECT id, name, role, created_at AS "createdAt", created_by AS "createdBy", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt" FROM api_tokens ORDER BY id',
  );
  return result.rows;
}

export interface EnrollmentTokenRow {
  id: number;
  name: string;
  labels: Record<string, string>;
  createdAt: Date;
  createdBy: string | null;
  expiresAt: Date | null;
  maxUses: number | null;
  uses: number;
  revokedAt: Date | null;
}

export async function listEnrollmentTokens(db: Queryable): Promise<EnrollmentTokenRow[]> {
  const result = await db.query<EnrollmentTokenRow>(
    `SELECT id, name, labels, created_at AS "createdAt", created_by AS "createdBy", expires_at AS "expiresAt", max_uses AS "maxUses", uses, revoked_at AS "revokedAt"
       FROM enrollment_tokens ORDER BY id`,
  );
  return result.rows;
}

/** Revokes an API token; false when there is no such (unrevoked) token. */
export async function revokeApiToken(db: Queryable, id: number, revokedBy?: string): Promise<boolean> {
  return auditedChange(
    db,
    async (client) => {
      const result = await client.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
      if ((result.rowCount ?? 0) === 0) return false;
      await notifyChange(client, 'fleetpatch_access', `token:${id}`);
      return true;
    },
    (revoked) => (revoked ? { action: 'api-token.revoked', actor: auditActor(revokedBy), subject: `api-token:${id}` } : undefined),
  );
}

/** Revokes an enrollment token; hosts it enrolled keep their credentials. */
export async function revokeEnrollmentToken(db: Queryable, id: number, revokedBy?: string): Promise<boolean> {
  return auditedChange(
    db,
    async (client) => ((await client.query('UPDATE enrollment_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id])).rowCount ?? 0) > 0,
    (revoked) => (revoked ? { action: 'enrollment-token.revoked', actor: auditActor(revokedBy), subject: `enrollment-token:${id}` } : undefined),
  );
}

/** Revokes a host's credential: its agent is refused until an operator approves a new enrollment. */
export async function revokeAgentCredential(db: Queryable, hostName: string, revokedBy?: string): Promise<boolean> {
  return auditedChange(
    db,
    async (client) => {
      const result = await client.query('UPDATE agent_credentials SET revoked_at = now() WHERE host_name = $1 AND revoked_at IS NULL AND credential_hash IS NOT NULL', [hostName]);
      if ((result.rowCount ?? 0) === 0) return false;
      await notifyChange(client, 'fleetpatch_access', `host:${hostName}`);
      return true;
    },
    (revoked) => (revoked ? { action: 'host.credential-revoked', actor: auditActor(revokedBy), subject: `host:${hostName}` } : undefined),
  );
}

/** Lets `hostName` be enrolled again (once) until `until`, e.g. after the host was reinstalled. */
export async function approveReenrollment(db: Queryable, hostName: string, until: Date, approvedBy: string): Promise<void> {
  await auditedChange(
    db,
    (client) => client.query(
      `INSERT INTO agent_credentials (host_name, credential_hash, reenrollment_approved_until, reenrollment_approved_by) VALUES ($1, NULL, $2, $3)
       ON CONFLICT (host_name) DO UPDATE SET reenrollment_approved_until = excluded.reenrollment_approved_until, reenrollment_approved_by = excluded.reenrollment_approved_by`,
      [hostName, until, approvedBy],
    ),
    () => ({ action: 'host.reenrollment-approved', actor: auditActor(approvedBy), subject: `host:${hostName}`, details: { until: until.toISOString() } }),
  );
}

/** Who a bearer secret belongs to, if anyone (revoked secrets belong to no one). */
export async function principalOf(db: Queryable, secret: string): Promise<Principal | undefined> {
  const hash = hashSecret(secret);
  if (secret.startsWith('fph_')) {
    const agent = await db.query<{ host_name: string; granted_labels: Record<string, string> }>(
      'SELECT host_name, granted_labels FROM agent_credentials WHERE credential_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const row = agent.rows[0];
    return row ? { kind: 'agent', hostName: row.host_name, grantedLabels: row.granted_labels } : undefined;
  }
  const token = await db.query<{ id: number; name: string; role: Role }>(
    'UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, name, role',
    [hash],
  );
  const row = token.rows[0];
  return row ? { kind: 'token', id: row.id, name: row.name, role: row.role } : undefined;
}
