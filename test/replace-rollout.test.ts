// The replace strategy end to end: four stateless hosts on baseline image img-1, each a directory
// root with a real agent, are replaced by hosts on img-2. The provision and retire hooks are real
// scripts run where the server runs; they ask this test's "cloud" (a request directory it
// watches) to boot a new host — a new directory root whose real agent enrolls reporting img-2 —
// and to stop an old host's agent. The bucket never has fewer serving hosts than its minimum
// healthy share, every old host is retired as replaced, and the new hosts serve img-2.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, openWindowStart } from './rollout-servers.js';
import { buildTestAptRepository, createTestHost, startTestAgent, waitFor, type TestAgent, type TestAptRepository } from './test-hosts.js';

/** A hook that files a request with the test's cloud and waits (bounded) for its answer, which becomes its last line. */
function hook(cloud: string, kind: 'provision' | 'retire'): string {
  return `#!/bin/sh
set -eu
request="${cloud}/${kind}/$FLEETPATCH_HOST"
printf '%s %s\\n' "\${FLEETPATCH_IMAGE_ID:-}" "\${FLEETPATCH_REPLACEMENT:-}" > "$request.tmp" && mv "$request.tmp" "$request"
i=0
while [ ! -e "$request.done" ]; do
  i=$((i + 1)); [ "$i" -gt 600 ] && { echo "the cloud did not answer" >&2; exit 1; }
  sleep 0.1
done
cat "$request.done"
`;
}

describe('a rollout that replaces stateless hosts', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let repository: TestAptRepository;
  let token = '';
  let enrollToken = '';
  let cloud = '';
  let hostsDirectory = '';
  const agents = new Map<string, TestAgent>();
  const api = apiOf(() => server.url, () => token);
  let cloudTimer: NodeJS.Timeout | undefined;
  let fewestServing = Number.POSITIVE_INFINITY;

  beforeAll(async () => {
    database = await createTestDatabase();
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-replace-'));
    chmodSync(directory, 0o755);
    const policyFile = join(directory, 'fleetpatch.yaml');
    cloud = join(directory, 'cloud');
    hostsDirectory = join(directory, 'hosts');
    for (const kind of ['provision', 'retire']) mkdirSync(join(cloud, kind), { recursive: true });
    writeFileSync(join(cloud, 'provision.sh'), hook(cloud, 'provision'), { mode: 0o755 });
    writeFileSync(join(cloud, 'retire.sh'), hook(cloud, 'retire'), { mode: 0o755 });
    writeFileSync(policyFile, `version: 1
windows:
  now: { timeZone: UTC, every: day, start: "${openWindowStart()}", duration: 4h, admissionCutoff: 10m }
buckets:
  - name: stateless
    owner: web
    match: { labels: { role: stateless } }
    strategy:
      kind: replace
      image: { id: img-2, built: 2026-11-29 }
      provisionHook: ${join(cloud, 'provision.sh')}
      retireHook: ${join(cloud, 'retire.sh')}
      minHealthy: "75%"
      warmup: 2s
      enrollTimeout: 1m
    windows: [now]
    scheduled: false
    waves: ["50%", "100%"]
    maxInFlight: 2
    expectedHostDuration: 1m
fallback: { bucket: leftovers, owner: sre }
`);
    repository = buildTestAptRepository(join(directory, 'repository'));
    server = await runServer({
      port: 0, host: '127.0.0.1', home: join(directory, 'server'), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('test', []), syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: () => undefined, rolloutEngine: { passIntervalMs: 200 },
    });
    token = server.firstStart!.adminToken;
    enrollToken = (await api<{ token: string }>('POST', '/api/v1/enrollment-tokens', { name: 'stateless', labels: { role: 'stateless' }, maxUses: 20 })).body.token;
    const boot = (name: string, image: string) => {
      const host = createTestHost(hostsDirectory, { name, repository, labels: { role: 'stateless', 'image-id': image } });
      agents.set(name, startTestAgent(host, { serverUrl: server.url, enrollToken, intervalSeconds: 1, jobWaitSeconds: 2 }));
    };
    for (let index = 0; index < 4; index++) boot(`web-${index}`, 'img-1');
    await waitFor('the old hosts to check in', async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'stateless'")).rows[0]!.n === 4, 60_000);

    // The test's cloud: boots the replacements the provision hook asks for, stops what the retire hook names.
    let working = false;
    cloudTimer = setInterval(() => {
      if (working) return;
      working = true;
      void (async () => {
        for (const kind of ['provision', 'retire'] as const) {
          for (const name of readdirSync(join(cloud, kind)).filter((file) => !file.includes('.'))) {
            const request = join(cloud, kind, name);
            if (existsSync(`${request}.done`)) continue;
            if (kind === 'provision') {
              const replacement = `${name}-r`;
              if (!agents.has(replacement)) boot(replacement, 'img-2');
              writeFileSync(`${request}.done`, `${JSON.stringify({ details: { replacement } })}\n`);
            } else {
              await agents.get(name)?.stop();
              writeFileSync(`${request}.done`, 'stopped\n');
            }
          }
        }
        // Serving: an agent running and seen within the last few seconds.
        const serving = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'stateless' AND last_seen_at > now() - interval '4 seconds'");
        const running = [...agents.values()].filter((agent) => agent.running()).length;
        fewestServing = Math.min(fewestServing, Math.min(serving.rows[0]!.n, running));
      })().finally(() => (working = false));
    }, 100);
  }, 120_000);

  afterAll(async () => {
    if (cloudTimer) clearInterval(cloudTimer);
    await Promise.all([...agents.values()].map((agent) => agent.stop()));
    await server?.stop();
    await database?.drop();

  });

  it('replaces every host on the old image, retires each only once its replacement serves', async () => {
    const created = await api<{ id: number; draft: { waves: Array<{ hosts: string[] }> } }>('POST', '/api/v1/rollouts', { bucket: 'stateless', reason: 'baseline img-2' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.waves.map((wave) => wave.hosts.length)).toEqual([2, 2]);
    interface View { state: string; hosts: Array<{ host: string; state: string; lastError?: string }> }
    const final = await waitFor('the rollout to end', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${created.body.id}`)).body;
      return ['succeeded', 'completed-with-errors', 'halted'].includes(view.state) ? view : undefined;
    }, 150_000, 250);
    expect(final.state, JSON.stringify(final.hosts)).toBe('succeeded');
    expect(final.hosts.map((host) => host.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);

    // The old hosts left the fleet as replaced; the new ones serve the baseline image.
    const retired = await database.pool.query<{ name: string; reason: string }>('SELECT name, reason FROM retired_hosts ORDER BY name');
    expect(retired.rows).toEqual(['web-0', 'web-1', 'web-2', 'web-3'].map((name) => ({ name, reason: `replaced by ${name}-r (image img-2)` })));
    const serving = await database.pool.query<{ name: string; image: string }>("SELECT name, labels->>'image-id' AS image FROM hosts WHERE bucket = 'stateless' ORDER BY name");
    expect(serving.rows).toEqual(['web-0-r', 'web-1-r', 'web-2-r', 'web-3-r'].map((name) => ({ name, image: 'img-2' })));
    // Never below the minimum healthy share (75% of four), though two hosts were replaced at a time.
    expect(fewestServing).toBeGreaterThanOrEqual(3);
    for (const name of ['web-0', 'web-3']) expect(agents.get(name)!.running(), name).toBe(false);
    // A second rollout has nothing left to replace.
    const again = await api<{ error: { message: string } }>('POST', '/api/v1/rollouts', { bucket: 'stateless', reason: 'again' });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toContain('no host of bucket stateless needs replacing with img-2');
  }, 180_000);
});
