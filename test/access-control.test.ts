// Access that can be taken back, on two real server processes sharing one PostgreSQL (the
// production design): a host name cannot be taken over with an enrollment token; tokens expire,
// run out and are revoked; revoking a token or credential, or retiring a host, through one replica
// is refused by both at once; the labels a token grants win over the agent's, and labels a host
// stops sending are gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageListDigest } from '../src/protocol/agent-protocol.js';
import { runCli } from './cli.js';
import { apiGet, apiSend, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const PACKAGES = [{ ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' }];
const fullCheckIn = (labels: Record<string, string> = {}, packages = PACKAGES) => ({ kind: 'full', rebootRequired: false, packageDigest: packageListDigest(packages), packages, labels });

/** How long a change made through one replica may take to reach the other (a NOTIFY round trip). */
const PROPAGATION_MS = 2_000;

async function eventually(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > PROPAGATION_MS) throw new Error(`not true within ${PROPAGATION_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe('access control on two replicas', () => {
  let database: TestDatabase;
  let first: ServerProcess;
  let second: ServerProcess;
  let admin: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await startServerProcess({ DATABASE_URL: database.connectionString });
    second = await startServerProcess({ DATABASE_URL: database.connectionString });
    admin = first.adminToken;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.drop();
  });

  const enroll = (server: ServerProcess, token: string, hostname: string, credential?: string) =>
    fetch(`${server.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
      body: JSON.stringify({ token, hostname }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { credential: string; error: { code: string; hint?: string } } }));
  const enrollmentToken = async (body: Record<string, unknown>) => (await apiSend<{ id: number; token: string }>(first, 'POST', '/api/v1/enrollment-tokens', admin, { name: 'test', ...body })).body;
  const heartbeat = (server: ServerProcess, host: string, credential: string) => apiSend(server, 'POST', `/api/v1/hosts/${host}/heartbeat`, credential, {});

  it('refuses to give an enrolled name to whoever holds an enrollment token', async () => {
    const { token } = await enrollmentToken({ maxUses: 10 });
    const victim = await enroll(first, token, 'victim-1');
    expect(victim.status).toBe(201);
    expect((await apiSend(first, 'PUT', '/api/v1/hosts/victim-1/inventory', victim.body.credential, fullCheckIn({ bucket: 'databases' }))).status).toBe(200);

    // The probe's takeover: the same token, the same name, on either replica.
    for (const server of [first, second]) {
      const attacker = await enroll(server, token, 'victim-1');
      expect(attacker.status).toBe(409);
      expect(attacker.body.error.code).toBe('host-already-enrolled');
      expect(attacker.body.error.hint).toContain('fleetpatch hosts approve-enrollment victim-1');
    }
    expect((await heartbeat(second, 'victim-1', victim.body.credential)).status).toBe(204);
    const host = await apiGet<{ packageCount: number; bucket: string }>(first, '/api/v1/hosts/victim-1', admin);
    expect(host.body).toMatchObject({ packageCount: 1, bucket: 'databases' });

    // The host's own credential may rotate itself; the old one stops working on both replicas.
    const rotated = await enroll(second, token, 'victim-1', victim.body.credential);
    expect(rotated.status).toBe(201);
    for (const server of [first, second]) await eventually(async () => (await heartbeat(server, 'victim-1', victim.body.credential)).status === 401);
    expect((await heartbeat(first, 'victim-1', rotated.body.credential)).status).toBe(204);
  });

  it('lets a name enroll again only with an operator\'s approval, once', async () => {
    const { token } = await enrollmentToken({ maxUses: 10 });
    const original = await enroll(first, token, 'reinstalled-1');
    await apiSend(first, 'PUT', '/api/v1/hosts/reinstalled-1/inventory', original.body.credential, fullCheckIn());
    expect((await enroll(first, token, 'reinstalled-1')).status).toBe(409);
    // Approved through the CLI, straight into the database: both servers honour it.
    const approval = await runCli(['hosts', 'approve-enrollment', 'reinstalled-1', '--within', '10'], { DATABASE_URL: database.connectionString });
    expect(approval.code, approval.stderr).toBe(0);
    const again = await enroll(second, token, 'reinstalled-1');
    expect(again.status).toBe(201);
    expect((await enroll(second, token, 'reinstalled-1')).status).toBe(409);
    for (const server of [first, second]) await eventually(async () => (await heartbeat(server, 'reinstalled-1', original.body.credential)).status === 401);
    expect((await heartbeat(first, 'reinstalled-1', again.body.credential)).status).toBe(204);
  });

  it('ends enrollment tokens by expiry, use limit and revocation', async () => {
    const single = await enrollmentToken({ maxUses: 1 });
    expect((await enroll(first, single.token, 'single-1')).status).toBe(201);
    const usedUp = await enroll(second, single.token, 'single-2');
    expect(usedUp).toMatchObject({ status: 403, body: { error: { code: 'token-used-up' } } });

    const revocable = await enrollmentToken({ maxUses: 5 });
    expect((await apiSend(second, 'POST', `/api/v1/enrollment-tokens/${revocable.id}/revoke`, admin, {})).status).toBe(200);
    expect(await enroll(first, revocable.token, 'revoked-1')).toMatchObject({ status: 403, body: { error: { code: 'token-revoked' } } });

    const listed = await apiGet<Array<{ id: number; uses: number; maxUses: number; revokedAt: string | null; expiresAt: string }>>(first, '/api/v1/enrollment-tokens', admin);
    expect(listed.body.find((row) => row.id === single.id)).toMatchObject({ uses: 1, maxUses: 1, revokedAt: null });
    expect(listed.body.find((row) => row.id === revocable.id)?.revokedAt).not.toBeNull();
    // Every token expires: the default is 24 hours.
    expect(Date.parse(listed.body.find((row) => row.id === single.id)!.expiresAt) - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);

    await database.pool.query("UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [revocable.id + 0]);
    const expiring = await enrollmentToken({ maxUses: 5 });
    await database.pool.query("UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [expiring.id]);
    expect(await enroll(second, expiring.token, 'expired-1')).toMatchObject({ status: 403, body: { error: { code: 'token-expired' } } });
  });

  it('revokes API tokens and host credentials on both replicas at once', async () => {
    const viewer = (await apiSend<{ id: number; token: string }>(first, 'POST', '/api/v1/tokens', admin, { name: 'grafana', role: 'viewer' })).body;
    // Warm both replicas' caches first: revocation must beat a cached principal.
    for (const server of [first, second]) expect((await apiGet(server, '/api/v1/hosts', viewer.token)).status).toBe(200);
    expect((await apiSend(first, 'POST', `/api/v1/tokens/${viewer.id}/revoke`, admin, {})).status).toBe(200);
    expect((await apiGet(first, '/api/v1/hosts', viewer.token)).status).toBe(401);
    const tokenLag = await eventually(async () => (await apiGet(second, '/api/v1/hosts', viewer.token)).status === 401);

    const { token } = await enrollmentToken({ maxUses: 1 });
    const agent = await enroll(first, token, 'revoked-host');
    await apiSend(first, 'PUT', '/api/v1/hosts/revoked-host/inventory', agent.body.credential, fullCheckIn());
    for (const server of [first, second]) expect((await heartbeat(server, 'revoked-host', agent.body.credential)).status).toBe(204);
    const cli = await runCli(['hosts', 'revoke-credential', 'revoked-host'], { DATABASE_URL: database.connectionString });
    expect(cli.code, cli.stderr).toBe(0);
    const credentialLag = Math.max(...(await Promise.all([first, second].map((server) => eventually(async () => (await heartbeat(server, 'revoked-host', agent.body.credential)).status === 401)))));
    // "At once": a notification round trip, not a cache lifetime.
    expect(Math.max(tokenLag, credentialLag)).toBeLessThan(1_000);
  });

  it('retires a host: gone from both replicas, credential refused, a record kept, the name free again', async () => {
    const { token } = await enrollmentToken({ maxUses: 2 });
    const agent = await enroll(first, token, 'retired-1');
    await apiSend(first, 'PUT', '/api/v1/hosts/retired-1/inventory', agent.body.credential, fullCheckIn());
    const retired = await apiSend<{ retired: { name: string } }>(second, 'POST', '/api/v1/hosts/retired-1/retire', admin, { reason: 'decommissioned' });
    expect(retired.status).toBe(200);
    for (const server of [first, second]) {
      expect((await apiGet(server, '/api/v1/hosts/retired-1', admin)).status).toBe(404);
      expect((await apiGet(server, '/api/v1/hosts/retired-1/packages', admin)).status).toBe(404);
      await eventually(async () => (await heartbeat(server, 'retired-1', agent.body.credential)).status === 401);
    }
    const record = await database.pool.query('SELECT reason, retired_by FROM retired_hosts WHERE name = $1', ['retired-1']);
    expect(record.rows).toEqual([{ reason: 'decommissioned', retired_by: 'token:initial admin' }]);
    expect((await enroll(first, token, 'retired-1')).status).toBe(201);
  });

  it('lets the enrollment token\'s labels win and drops labels the host stops sending', async () => {
    const { token } = await enrollmentToken({ labels: { bucket: 'pci', team: 'payments' } });
    const agent = await enroll(first, token, 'labelled-1');
    const checkIn = await apiSend(second, 'PUT', '/api/v1/hosts/labelled-1/inventory', agent.body.credential, fullCheckIn({ bucket: 'dev', team: 'nobody', 'internet-facing': 'true' }));
    expect(checkIn.status).toBe(200);
    const host = await apiGet<{ bucket: string; team: string; labels: Record<string, string> }>(first, '/api/v1/hosts/labelled-1', admin);
    expect(host.body).toMatchObject({ bucket: 'pci', team: 'payments', labels: { bucket: 'pci', team: 'payments', 'internet-facing': 'true' } });
    await apiSend(first, 'PUT', '/api/v1/hosts/labelled-1/inventory', agent.body.credential, fullCheckIn({ team: 'other' }));
    const after = await apiGet<{ labels: Record<string, string> }>(second, '/api/v1/hosts/labelled-1', admin);
    expect(after.body.labels).toEqual({ bucket: 'pci', team: 'payments' });
  });

  it('refuses bogus bearer secrets without remembering them', async () => {
    // 8,000-character secrets that look nothing like a fleetpatch secret are refused at the door.
    for (let index = 0; index < 200; index++) {
      const response = await apiGet(first, '/api/v1/hosts', `fpa_${index}${'y'.repeat(8_000)}`);
      expect(response.status).toBe(401);
    }
    const lookalike = await apiGet(first, '/api/v1/hosts', `fpa_${'a'.repeat(32)}`);
    expect(lookalike.status).toBe(401);
  });
});
