/**
 * A small Debian 12 fleet for the plan API and the plan page: a server in this process on a fresh
 * database, hosts checked in through the API (the real Debian image's package list), the Debian
 * advisories plus one for PostgreSQL, and the seed's three PostgreSQL patch levels on the database
 * hosts. The policy is left to the test (the plan answers 409 until one is applied).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { DirectoryFeed } from '../src/feeds/directory-feed.js';
import { fullCheckInOf } from '../src/protocol/agent-protocol.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** The plan's clock: the holiday freeze (12-24 … 12-26) falls inside its 30 days. */
export const PLAN_FROM = '2026-12-20T12:00:00Z';

/** The seed's three PostgreSQL patch levels; the advisory below is fixed in the last one. */
export const POSTGRES_LEVELS = ['16.1-1', '16.2-1', '16.4-1'];

const POSTGRES_ADVISORY = {
  id: 'DSA-9100-1',
  modified: '2026-10-05T00:00:00Z',
  published: '2026-10-04T00:00:00Z',
  aliases: ['CVE-2026-9100'],
  summary: 'postgresql-16: SQL injection in a quoting function',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N' }],
  affected: [{ package: { ecosystem: 'Debian:12', name: 'postgresql-16' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '16.4-1' }] }] }],
};

/** Host name → labels: the roles examples/fleetpatch.yaml files into its buckets. */
export const PLAN_HOSTS: Record<string, Record<string, string>> = {
  'db-1': { role: 'postgres' },
  'db-2': { role: 'postgres' },
  'db-3': { role: 'postgres' },
  'db-4': { role: 'postgres' },
  'node-1': { role: 'k8s-node', canary: 'true' },
  'node-2': { role: 'k8s-node' },
  'node-3': { role: 'k8s-node' },
  'web-1': { role: 'stateless' },
  'web-2': { role: 'stateless' },
};

export interface PlanFleet {
  database: TestDatabase;
  server: RunningServer;
  token: string;
  get<T>(path: string): Promise<{ status: number; body: T }>;
  send<T>(method: string, path: string, body: unknown): Promise<{ status: number; body: T }>;
  /** Marks every host seen a minute before PLAN_FROM and every finding found a month before, as the plan tests expect. */
  ageFleet(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPlanFleet(): Promise<PlanFleet> {
  const database = await createTestDatabase();
  const advisories = mkdtempSync(join(tmpdir(), 'fleetpatch-plan-osv-'));
  for (const record of [...DEBIAN_ADVISORIES, POSTGRES_ADVISORY]) writeFileSync(join(advisories, `${record.id}.json`), JSON.stringify(record));
  const server = await runServer({
    port: 0,
    host: '127.0.0.1',
    home: mkdtempSync(join(tmpdir(), 'fleetpatch-plan-')),
    databaseUrl: database.connectionString,
    staleAfterSeconds: 3600,
    openAdvisoryFeed: () => new DirectoryFeed(advisories),
    syncIntervalSeconds: 0,
    log: () => undefined,
  });
  const token = server.firstStart!.adminToken;
  const send = async <T>(method: string, path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const image = parseInventory({ text: readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'), fileName: 'dpkg-status', format: 'dpkg-status', osEcosystem: 'Debian:12' }).packages;
  const names = Object.keys(PLAN_HOSTS);
  for (const [index, hostname] of names.entries()) {
    const labels = PLAN_HOSTS[hostname]!;
    const packages: InstalledPackage[] = [...image];
    if (labels.role === 'postgres') {
      const version = POSTGRES_LEVELS[index % POSTGRES_LEVELS.length]!;
      packages.push({ ecosystem: 'Debian:12', name: 'postgresql-16', version, arch: 'amd64', sourceName: 'postgresql-16', sourceVersion: version });
    }
    const checkIn = fullCheckInOf({ hostname, osEcosystem: 'Debian:12', arch: 'amd64', packages, kernel: { running: '6.1.0-18-amd64', installed: [] }, rebootRequired: false, labels });
    const answer = await send('PUT', `/api/v1/hosts/${hostname}/inventory`, checkIn);
    if (answer.status !== 200) throw new Error(`check-in of ${hostname}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  await server.syncAdvisories();
  return {
    database,
    server,
    token,
    get: <T>(path: string) => send<T>('GET', path, undefined),
    send,
    async ageFleet() {
      await database.pool.query('UPDATE hosts SET last_seen_at = $1', [new Date(Date.parse(PLAN_FROM) - 60_000)]);
      await database.pool.query("UPDATE findings SET first_seen_at = '2026-11-20T00:00:00Z'");
    },
    async stop() {
      await server.stop();
      await database.drop();
    },
  };
}
