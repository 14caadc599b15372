// The command-hook executor end to end: the seed's runbook (`patch-host.sh --upgrade | --reboot |
// --rollback`, the checks `--pre-check` / `--post-check`) run where the server runs, on three
// directory-root hosts whose real agents only check in (they fetch no job: the steps are the
// hook's). The hook installs exact versions with apt into each host's root and reports what it
// replaced on its last line; the server judges the versions and the reboot from the agents'
// check-ins. One host's post-check fails: its rollback goes through the hook too.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, createTestFleet, DEMO_ADVISORY } from './rollout-servers.js';
import { startTestAgent, waitFor, type TestAgent, type TestHost } from './test-hosts.js';

/** The seed's runbook, as a team would write it for these test roots; every run is logged. */
function runbook(hostsDirectory: string, runLog: string): string {
  return `#!/bin/sh
set -eu
root="${hostsDirectory}/$FLEETPATCH_HOST/root"
echo "$FLEETPATCH_HOST $FLEETPATCH_STEP $1 $FLEETPATCH_JOB_KEY" >> "${runLog}"
installed() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f '\${Version}' "$1" 2>/dev/null || true; }
# apt reads a root's own configuration only when Dir comes from APT_CONFIG (as the agent does).
printf 'Dir "%s/";\n' "$root" > "$root.apt.conf"
install() {
  replaced=""
  for spec in $1; do
    name=\${spec%%=*}; to=\${spec#*=}; from=$(installed "$name")
    APT_CONFIG="$root.apt.conf" LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends --allow-downgrades -o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root \\
      -o Dir::State::status="$root/var/lib/dpkg/status" -o DPkg::Options::=--root="$root" install "$spec" >&2
    replaced="$replaced\${replaced:+,}{\\"name\\":\\"$name\\",\\"from\\":\\"$from\\",\\"to\\":\\"$to\\"}"
  done
  echo "{\\"replaced\\":[$replaced]}"
}
case "$1" in
  --pre-check) test -e "$root/var/lib/dpkg/status" ;;
  --post-check) test ! -e "$root/fail-post-check" ;;
  --upgrade) install "$FLEETPATCH_PACKAGES" ;;
  --rollback) install "$FLEETPATCH_PREVIOUS" ;;
  --reboot) sh "${hostsDirectory}/$FLEETPATCH_HOST/reboot.sh" ;;
  *) echo "unknown step $1" >&2; exit 2 ;;
esac
`;
}

describe('a rollout through the command hook', () => {
  let database: TestDatabase;
  let server: RunningServer;
  const hosts: TestHost[] = [];
  const agents: TestAgent[] = [];
  let token = '';
  let runLog = '';
  const api = apiOf(() => server.url, () => token);

  beforeAll(async () => {
    database = await createTestDatabase();
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-hook-'));
    const hook = join(directory, 'patch-host.sh');
    runLog = join(directory, 'hook-runs.log');
    const fleet = createTestFleet('fleetpatch-hook-', {
      hosts: 3,
      bucket: `    executor: { kind: command-hook, command: ${hook}, stepTimeout: 2m }
    waves: [1, "100%"]
    maxInFlight: 2
    errorBudget: 1
    reboot: { policy: always, timeout: 2m, onTimeout: page }
    expectedHostDuration: 1m
    checks:
      pre: [{ name: snapshot taken, command: '"${hook}" --pre-check', timeout: 30s }]
      post: [{ name: replication caught up, command: '"${hook}" --post-check', timeout: 30s }]`,
    });
    writeFileSync(hook, runbook(join(fleet.directory, 'hosts'), runLog), { mode: 0o755 });
    hosts.push(...fleet.hosts);
    server = await runServer({
      port: 0, host: '127.0.0.1', home: join(fleet.directory, 'server'), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('test', [advisoryFromOsv(DEMO_ADVISORY, { file: 'test' })]), syncIntervalSeconds: 0, policyFile: fleet.policyFile, policyPollMs: 0,
      log: () => undefined, rolloutEngine: { passIntervalMs: 200 },
    });
    token = server.firstStart!.adminToken;
    const enrollment = await api<{ token: string }>('POST', '/api/v1/enrollment-tokens', { name: 'hook', labels: { role: 'database' }, maxUses: 10 });
    writeFileSync(join(hosts[2]!.root, 'fail-post-check'), 'this host fails its post-check\n');
    for (const host of hosts) agents.push(startTestAgent(host, { serverUrl: server.url, enrollToken: enrollment.body.token, intervalSeconds: 1, jobWaitSeconds: 2 }));
    await waitFor('the hosts to check in', async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'databases'")).rows[0]!.n === 3, 60_000);
    await server.syncAdvisories();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await server?.stop();
    await database?.drop();
  });

  it('runs every step through the hook once, verifies from check-ins and rolls the failed host back through it', async () => {
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: DEMO_ADVISORY.id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    interface View { state: string; hosts: Array<{ host: string; state: string }> }
    const final = await waitFor('the rollout to end', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${created.body.id}`)).body;
      return view.state === 'completed-with-errors' || view.state === 'succeeded' || view.state === 'halted' ? view : undefined;
    }, 150_000, 250);
    expect(Object.fromEntries(final.hosts.map((host) => [host.host, host.state])), JSON.stringify(final.hosts)).toEqual({ 'db-0': 'succeeded', 'db-1': 'succeeded', 'db-2': 'rolled-back' });
    expect(final.state).toBe('completed-with-errors');
    // The hosts' own package databases: the hook installed exactly the target, and took db-2 back.
    expect(hosts[0]!.installed().get('fp-demo-lib')).toBe('1.1-1');
    expect(hosts[1]!.installed().get('fp-demo-lib')).toBe('1.1-1');
    expect(hosts[2]!.installed().get('fp-demo-lib')).toBe('1.0-1');
    expect(hosts[0]!.installed().get('fp-demo-tool')).toBe('2.0-1');
    // Each job key ran once, in the seed's order; the agents ran none of them.
    const runs = readFileSync(runLog, 'utf8').trim().split('\n').map((line) => line.split(' '));
    const keys = runs.map((run) => run[3]);
    expect(new Set(keys).size).toBe(keys.length);
    const stepsOf = (host: string) => runs.filter((run) => run[0] === host).map((run) => run[2]);
    expect(stepsOf('db-0')).toEqual(['--pre-check', '--upgrade', '--reboot', '--post-check']);
    expect(stepsOf('db-2')).toEqual(['--pre-check', '--upgrade', '--reboot', '--post-check', '--rollback']);
    for (const host of hosts) expect(host.stepLog(), host.name).toEqual([]);
    expect(hosts[0]!.reboots()).toHaveLength(1);
    const executors = await database.pool.query<{ executor: string; n: number }>('SELECT executor, count(*)::int AS n FROM rollout_jobs WHERE rollout_id = $1 GROUP BY executor', [created.body.id]);
    expect(executors.rows).toEqual([{ executor: 'command-hook', n: 13 }]);
    for (const agent of agents) expect(agent.unexpectedExits()).toEqual([]);
  }, 180_000);
});
