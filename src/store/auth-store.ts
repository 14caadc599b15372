/**
 * Tokens and credentials. Only SHA-256 hashes are stored: a database dump reveals no usable secret.
 * API tokens carry a role; enrollment tokens let agents register; each enrolled host gets a
 * credential that can write only that host.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export type Role = 'viewer' | 'operator' | 'admin';

export type Principal = { kind: 'token'; name: string; role: Role } | { kind: 'agent'; hostName: string };

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new random secret with a readable prefix saying what it is (`fpa_`, `fpe_`, `fph_`). */
export function newSecret(prefix: 'fpa' | 'fpe' | 'fph'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export async function countApiTokens(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM api_tokens')).rows[0]!.n;
}

/** Creates an API token and returns the secret (shown once, never stored). */
export async function createApiToken(db: Queryable, name: string, role: Role): Promise<string> {
  const token = newSecret('fpa');
  await db.query('INSERT INTO api_tokens (name, role, token_hash) VALUES ($1, $2, $3)', [name, role, hashSecret(token)]);
  return token;
}

export async function createEnrollmentToken(db: Queryable, name: string, labels: Record<string, string>, expiresAt?: Date): Promise<string> {
  const token = newSecret('fpe');
  await db.query('INSERT INTO enrollment_tokens (name, token_hash, labels, expires_at) VALUES ($1, $2, $3, $4)', [name, hashSecret(token), JSON.stringify(labels), expiresAt ?? null]);
  return token;
}

/** The labels an enrollment token grants, or undefined when it is unknown or expired. */
export async function checkEnrollmentToken(db: Queryable, token: string): Promise<Record<string, string> | undefined> {
  const result = await db.query<{ labels: Record<string, string> }>(
    'SELECT labels FROM enrollment_tokens WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > now())',
    [hashSecret(token)],
  );
  return result.rows[0]?.labels;
}

/** Issues (or re-issues, replacing the old one) the credential of a host. */
export async function issueAgentCredential(db: Queryable, hostName: string): Promise<string> {
  const credential = newSecret('fph');
  await db.query(
    `INSERT INTO agent_credentials (host_name, credential_hash) VALUES ($1, $2)
     ON CONFLICT (host_name) DO UPDATE SET credential_hash = excluded.credential_hash, created_at = now()`,
    [hostName, hashSecret(credential)],
  );
  return credential;
}

/** Who a bearer secret belongs to, if anyone. */
export async function principalOf(db: Queryable, secret: string): Promise<Principal | undefined> {
  const hash = hashSecret(secret);
  if (secret.startsWith('fph_')) {
    const agent = await db.query<{ host_name: string }>('SELECT host_name FROM agent_credentials WHERE credential_hash = $1', [hash]);
    return agent.rows[0] ? { kind: 'agent', hostName: agent.rows[0].host_name } : undefined;
  }
  const token = await db.query<{ name: string; role: Role }>('UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 RETURNING name, role', [hash]);
  return token.rows[0] ? { kind: 'token', name: token.rows[0].name, role: token.rows[0].role } : undefined;
}
