// An agent whose delta check-in the server stored but never answered (the server died between its
// commit and its reply: what the rollout kill soak does) spools that delta; the server now holds
// the delta's result, so replaying it is refused as a delta without a base (409). The agent drops
// the spooled delta and reports the host as it is now, and does not die of it.
// A real server on a real PostgreSQL; between them a loopback proxy that can lose one answer.
import { readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/agent/agent.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { debianRoot } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

describe('an agent whose check-in answer was lost', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let loseNextInventoryAnswer = false;
  const proxy = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const upstream = await fetch(`${server.url}${request.url}`, { method: request.method!, headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<string, string>, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
        const body = Buffer.from(await upstream.arrayBuffer());
        if (loseNextInventoryAnswer && request.method === 'PUT' && request.url!.endsWith('/inventory')) {
          // The server stored the check-in; its answer never arrives.
          loseNextInventoryAnswer = false;
          request.socket.destroy();
          return;
        }
        response.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(body);
      })();
    });
  });
  let proxyUrl = '';

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await runServer({
      port: 0, host: '127.0.0.1', home: mkdtempSync(join(tmpdir(), 'fleetpatch-spool-')), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('test', []), syncIntervalSeconds: 0, log: () => undefined,
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.close();
    await server?.stop();
    await database?.drop();
  });

  it('drops a spooled delta the server has no base for and reports the host as it is now', async () => {
    const root = debianRoot();
    const logs: string[] = [];
    const agent = new Agent({ serverUrl: proxyUrl, stateDirectory: mkdtempSync(join(tmpdir(), 'fleetpatch-spool-state-')), root, hostname: 'spool-1', labels: {}, enrollToken: server.firstStart!.enrollmentToken, log: (line) => logs.push(line) });
    expect(await agent.runOnce()).toBe('full');

    // A package changes; the delta that says so is stored by the server, its answer lost.
    const status = join(root, 'var/lib/dpkg/status');
    const before = readFileSync(status, 'utf8');
    const changed = before.replace(/^Version: (.+)$/m, 'Version: $1+fp1');
    expect(changed).not.toBe(before);
    writeFileSync(status, changed);
    loseNextInventoryAnswer = true;
    await expect(agent.runOnce()).rejects.toThrow(/unreachable/);
    const stateDirectory = (agent as unknown as { options: { stateDirectory: string } }).options.stateDirectory;
    expect(existsSync(join(stateDirectory, 'spool.json'))).toBe(true);

    // Next cycle: the spooled delta is refused (its base is gone), dropped, and the host reported.
    expect(await agent.runOnce()).toBe('full');
    expect(existsSync(join(stateDirectory, 'spool.json'))).toBe(false);
    expect(logs.join('\n')).toMatch(/spooled during the outage is a delta the server has no base for/);
    const stored = await database.pool.query<{ digest: string }>("SELECT inventory_digest AS digest FROM hosts WHERE name = 'spool-1'");
    const lastReport = JSON.parse(readFileSync(join(stateDirectory, 'last-report.json'), 'utf8')) as { digest: string };
    expect(stored.rows[0]?.digest).toBe(lastReport.digest);
    expect(await agent.runOnce()).toBe('heartbeat');
  });
});
