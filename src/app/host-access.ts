/**
 * Who may write a host: enrolling an agent, re-enrolling a name that is already taken, and retiring
 * a host. A name that has a host or a credential is never handed to whoever holds an enrollment
 * token: it needs that host's current credential (rotation) or an operator's approval. Each
 * enrollment and retirement is recorded in the audit log in its own transaction.
 */
import type pg from 'pg';
import { appendAudit, auditActor } from '../store/audit-log.js';
import { hashSecret, newSecret } from '../store/auth-store.js';
import { notifyChange } from '../store/change-notifications.js';
import { withTransaction } from '../store/transaction.js';

export type EnrollmentRefusal = 'unknown-token' | 'token-revoked' | 'token-expired' | 'token-used-up' | 'host-already-enrolled';

/** Enrollment was refused; `reason` says why, in a word the API and the agent can act on. */
export class EnrollmentRefused extends Error {
  override readonly name = 'EnrollmentRefused';
  constructor(
    readonly reason: EnrollmentRefusal,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface EnrollmentRequest {
  token: string;
  hostname: string;
  /** The host's current credential, when an enrolled agent rotates its own. */
  currentCredential?: string;
}

export interface Enrollment {
  hostname: string;
  credential: string;
  /** The labels the token grants; they override the agent's labels of the same names. */
  labels: Record<string, string>;
}

interface TokenRow {
  id: number;
  labels: Record<string, string>;
  expires_at: Date | null;
  max_uses: number | null;
  uses: number;
  revoked_at: Date | null;
}

interface CredentialRow {
  credential_hash: string | null;
  revoked_at: Date | null;
  reenrollment_approved_until: Date | null;
}

/**
 * Issues a credential for `hostname`, counting one use of the token, in one transaction (the token
 * and the name are locked, so two enrollments cannot both take the last use or the same name).
 *
 * @example await enrollHost(pool, { token: 'fpe_…', hostname: 'db-7' }, new Date())
 */
export async function enrollHost(pool: pg.Pool, request: EnrollmentRequest, now: Date): Promise<Enrollment> {
  return withTransaction(pool, async (client) => {
    const token = (await client.query<TokenRow>('SELECT id, labels, expires_at, max_uses, uses, revoked_at FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE', [hashSecret(request.token)])).rows[0];
    if (!token) throw new EnrollmentRefused('unknown-token', 'unknown enrollment token');
    if (token.revoked_at) throw new EnrollmentRefused('token-revoked', 'this enrollment token was revoked', 'ask an administrator for a new one');
    if (token.expires_at && token.expires_at <= now) throw new EnrollmentRefused('token-expired', `this enrollment token expired at ${token.expires_at.toISOString()}`, 'ask an administrator for a new one');
    if (token.max_uses !== null && token.uses >= token.max_uses) throw new EnrollmentRefused('token-used-up', `this enrollment token was already used ${token.uses} of ${token.max_uses} times`, 'ask an administrator for a new one');

    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`enroll:${request.hostname}`]);
    const existing = (await client.query<CredentialRow>('SELECT credential_hash, revoked_at, reenrollment_approved_until FROM agent_credentials WHERE host_name = $1 FOR UPDATE', [request.hostname])).rows[0];
    const hostExists = ((await client.query('SELECT 1 FROM hosts WHERE name = $1', [request.hostname])).rowCount ?? 0) > 0;
    const taken = hostExists || Boolean(existing?.credential_hash);
    const rotating = request.currentCredential !== undefined && existing?.credential_hash === hashSecret(request.currentCredential) && !existing.revoked_at;
    if (taken) {
      const approved = existing?.reenrollment_approved_until !== null && existing?.reenrollment_approved_until !== undefined && existing.reenrollment_approved_until > now;
      if (!rotating && !approved) {
        throw new EnrollmentRefused(
          'host-already-enrolled',
          `${request.hostname} is already enrolled`,
          `an operator can approve a new enrollment of this name: fleetpatch hosts approve-enrollment ${request.hostname}`,
        );
      }
    }
    await client.query('UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = $1', [token.id]);
    const credential = newSecret('fph');
    await client.query(
      `INSERT INTO agent_credentials (host_name, credential_hash, granted_labels, enrollment_token_id, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (host_name) DO UPDATE SET credential_hash = excluded.credential_hash, granted_labels = excluded.granted_labels,
         enrollment_token_id = excluded.enrollment_token_id, created_at = excluded.created_at, revoked_at = NULL,
         reenrollment_approved_until = NULL, reenrollment_approved_by = NULL`,
      [request.hostname, hashSecret(credential), JSON.stringify(token.labels), token.id, now],
    );
    // The replaced credential must stop working on every replica now, not when a cache expires.
    await notifyChange(client, 'fleetpatch_access', `host:${request.hostname}`);
    const how = !taken ? 'new' : rotating ? 'rotation' : 'approved-reenrollment';
    await appendAudit(client, { action: 'host.enrolled', actor: `host:${request.hostname}`, subject: `host:${request.hostname}`, details: { enrollmentTokenId: token.id, how, grantedLabels: token.labels } });
    return { hostname: request.hostname, credential, labels: token.labels };
  });
}

export interface RetiredHost {
  name: string;
  bucket: string;
  team: string;
  openFindings: number;
}

/**
 * Takes a host out of the fleet: its inventory, findings and credential go, a `retired_hosts`
 * record stays; the name is free for a new enrollment. Undefined when there is no such host.
 */
export async function retireHost(pool: pg.Pool, hostname: string, retiredBy: string, reason: string, now: Date): Promise<RetiredHost | undefined> {
  return withTransaction(pool, async (client) => {
    const host = (await client.query<{ key: number; bucket: string; team: string; last_seen_at: Date | null }>('SELECT key, bucket, team, last_seen_at FROM hosts WHERE name = $1 FOR UPDATE', [hostname])).rows[0];
    if (!host) return undefined;
    const open = (await client.query<{ n: number }>("SELECT count(*)::integer AS n FROM findings WHERE host_key = $1 AND state IN ('vulnerable', 'pending-reboot')", [host.key])).rows[0]!.n;
    await client.query(
      'INSERT INTO retired_hosts (name, bucket, team, retired_at, retired_by, reason, open_findings, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [hostname, host.bucket, host.team, now, retiredBy, reason, open, host.last_seen_at],
    );
    await client.query('DELETE FROM findings WHERE host_key = $1', [host.key]);
    await client.query('DELETE FROM hosts WHERE key = $1', [host.key]);
    await client.query('DELETE FROM agent_credentials WHERE host_name = $1', [hostname]);
    await notifyChange(client, 'fleetpatch_access', `host:${hostname}`);
    await appendAudit(client, { action: 'host.retired', actor: auditActor(retiredBy), subject: `host:${hostname}`, reason, details: { bucket: host.bucket, team: host.team, openFindings: open } });
    return { name: hostname, bucket: host.bucket, team: host.team, openFindings: open };
  });
}
