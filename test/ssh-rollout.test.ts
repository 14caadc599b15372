// A rollout over real sshd, end to end through the product: four agentless Debian hosts, each a
// network namespace with its own sshd and dpkg root (test/support/netns-hosts.ts), put into the
// inventory as an operator would (`fleetpatch inventory import` of each host's dpkg status and
// os-release, with its name and address label), then patched by `runServer`'s job worker through
// the SSH executor wired as `fleetpatch server --ssh-key --known-hosts` wires it. The test pins
// every host's key; one host's sshd then gets a new key and is refused untouched. Every reboot
// drops its connection (the harness kills the namespace's sshd); one host stays down a while
// after its reboot (the harness's stopSshd/startSshd), so collect-facts must reconnect with
// backoff; the server verifies each return from the host's new boot id and versions.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { createSshExecutor, journalEntryName } from '../src/executors/ssh/ssh-executor.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { jobResultSchema, type JobResult } from '../src/protocol/job-protocol.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { runCli } from './cli.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, DEMO_ADVISORY, IN_PLACE_PATH, openWindowStart } from './rollout-servers.js';
import { createNetnsHosts, netnsUnavailableReason, type NetnsFleet, type NetnsHost } from './support/netns-hosts.js';
import { buildTestAptRepository, waitFor } from './test-hosts.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`SSH rollout test skipped: ${unavailable}`);

const NAMES = ['ssh-1', 'ssh-2', 'ssh-3', 'ssh-4'];
/** Gets a new host key before the rollout: refused. */
const REKEYED = 'ssh-2';
/** Stays unreachable for a while after its reboot: collect-facts must keep trying. */
const SLOW_RETURN = 'ssh-3';
const SLOW_RETURN_DOWN_MS = 4_000;

describe.skipIf(unavailable !== undefined)('a rollout over real sshd in network namespaces', () => {
  const directory = mkdtempSync(join(tmpdir(), 'fp-ssh-rollout-'));
  const knownHostsPath = join(directory, 'server', 'known_hosts');
  let database: TestDatabase;
  let server: RunningServer;
  let fleet: NetnsFleet;
  let token = '';
  const logs: string[] = [];
  const api = apiOf(() => server.url, () => token);
  const host = (name: string) => fleet.hosts.find((candidate) => candidate.name === name)!;
  const before = new Map<string, { dpkg: Record<string, string>; bootId: string; sshdStarts: number }>();
  let knownHostsText = '';
  let newFingerprint = '';

  beforeAll(async () => {
    chmodSync(directory, 0o755);
    database = await createTestDatabase();
    const repository = buildTestAptRepository(join(directory, 'repository'));
    fleet = await createNetnsHosts({ names: NAMES, repository });

    // The operator pins every host's key (as checked on the host) in the server's known_hosts.
    knownHostsText = `${fleet.hosts.map((candidate) => `${candidate.address} ${candidate.hostKey}`).join('\n')}\n`;
    mkdirSync(join(directory, 'server'), { recursive: true });
    writeFileSync(knownHostsPath, knownHostsText, { mode: 0o600 });

    const policyFile = join(directory, 'fleetpatch.yaml');
    writeFileSync(policyFile, `version: 1
windows:
  now: { timeZone: UTC, every: day, start: "${openWindowStart()}", duration: 4h, admissionCutoff: 10m }
buckets:
  - name: ssh-fleet
    owner: platform
    match: { labels: { role: ssh-fleet } }
    executor: { kind: ssh, user: root, addressLabel: address }
    strategy: { kind: in-place }
    windows: [now]
    scheduled: false
    waves: [1, "100%"]
    maxInFlight: 2
    errorBudget: 1
    reboot: { policy: always, timeout: 2m, onTimeout: page }
    expectedHostDuration: 1m
    checks:
      pre: [{ name: dpkg database readable, command: 'test -s "\${FLEETPATCH_ROOT}var/lib/dpkg/status"', timeout: 30s }]
      post: [{ name: no reboot owed, command: 'test ! -e "\${FLEETPATCH_ROOT}var/run/reboot-required"', timeout: 30s }]
fallback: { bucket: leftovers, owner: sre }
`);
    server = await runServer({
      port: 0, host: '127.0.0.1', home: join(directory, 'server', 'home'), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('test', [advisoryFromOsv(DEMO_ADVISORY, { file: 'test' })]), syncIntervalSeconds: 0, policyFile, policyPollMs: 0,
      log: (message) => logs.push(message), rolloutEngine: { passIntervalMs: 200 },
      // What src/cli/commands/server.ts builds from --ssh-key and --known-hosts.
      executors: { ssh: (settings) => createSshExecutor({ settings, privateKeyPath: fleet.clientKeyPath, knownHostsPath }) },
    });
    token = server.firstStart!.adminToken;

    // Agentless hosts enter the inventory as an operator puts them there: each host's dpkg status
    // and os-release (copied off the host), its name and its labels, through the real CLI.
    const imported = await Promise.all(fleet.hosts.map((candidate, index) => runCli([
      'inventory', 'import', join(candidate.root, 'var/lib/dpkg/status'), '--host', candidate.name, '--format', 'dpkg-status',
      '--os-release', join(candidate.root, 'etc/os-release'), '--running-kernel', candidate.runningKernel(),
      '--label', 'role=ssh-fleet', '--label', `address=${candidate.address}`, ...(index === 0 ? ['--label', 'canary=true'] : []),
    ], { DATABASE_URL: database.connectionString, FLEETPATCH_HOME: join(directory, 'cli-home') })));
    for (const [index, result] of imported.entries()) {
      expect(result.code, `${NAMES[index]}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`${NAMES[index]}: 3 packages (dpkg-status)`);
    }
    // The server syncs the advisories of the fleet's ecosystems (Debian:12 now) and evaluates the hosts that run what they name.
    await server.syncAdvisories();
    for (const name of NAMES) {
      const detail = await api<{ bucket: string; findingsTotal: number; labels: Record<string, string> }>('GET', `/api/v1/hosts/${name}`);
      expect(detail.body, name).toMatchObject({ bucket: 'ssh-fleet', findingsTotal: 1, labels: { address: host(name).address } });
    }

    for (const candidate of fleet.hosts) before.set(candidate.name, { dpkg: dpkgVersions(candidate), bootId: candidate.bootId(), sshdStarts: candidate.sshdStarts() });

    // ssh-2 is reinstalled (or impersonated): its sshd now presents a key nobody pinned.
    const rekeyed = host(REKEYED);
    await rekeyed.stopSshd();
    const keyPath = join(rekeyed.directory, 'ssh_host_ed25519_key');
    rmSync(keyPath);
    rmSync(`${keyPath}.pub`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${REKEYED}-reinstalled`, '-f', keyPath], { stdio: 'pipe' });
    newFingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${keyPath}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
    expect(newFingerprint).not.toBe(rekeyed.hostKeyFingerprint);
    await rekeyed.startSshd();
    before.get(REKEYED)!.sshdStarts = rekeyed.sshdStarts();

    // ssh-3's reboot drops its connections like the others', but its sshd does not come back by
    // itself (test-only: the harness restarts sshd only when the reboot left its mark): the host
    // is down until the test starts sshd again, as a slow power cycle would be.
    const slowScript = join(host(SLOW_RETURN).directory, 'ssh-reboot.sh');
    const script = readFileSync(slowScript, 'utf8');
    expect(script).toContain('touch "$host/rebooting"\n');
    writeFileSync(slowScript, script.replace('touch "$host/rebooting"\n', ': the test starts sshd again\n'));
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await fleet?.destroy();
    await database?.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  /** What dpkg itself says is installed in the host's root. */
  function dpkgVersions(target: NetnsHost): Record<string, string> {
    const listing = execFileSync('dpkg-query', [`--admindir=${join(target.root, 'var/lib/dpkg')}`, '-W', '-f', '${Package}=${Version}\n'], { encoding: 'utf8' });
    return Object.fromEntries(listing.trim().split('\n').map((line) => line.split('=') as [string, string]));
  }

  /** apt's own record of the transactions it ran in the host's root. */
  function aptTransactions(target: NetnsHost): number {
    const history = join(target.root, 'var/log/apt/history.log');
    return existsSync(history) ? readFileSync(history, 'utf8').split('\n').filter((line) => line.startsWith('Start-Date:')).length : 0;
  }

  it('patches the reachable hosts over SSH, refuses the re-keyed one untouched, and verifies each reboot from the host itself', async () => {
    const created = await api<{ id: number; draft: { waves: Array<{ hosts: string[] }> } }>('POST', '/api/v1/rollouts', { bucket: 'ssh-fleet', advisory: DEMO_ADVISORY.id, reason: DEMO_ADVISORY.id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.waves.map((wave) => wave.hosts)).toEqual([['ssh-1'], ['ssh-2', 'ssh-3', 'ssh-4']]);
    const rolloutId = created.body.id;

    // ssh-3 reboots and stays down: its collect-facts finds nobody home, more than once, before sshd returns.
    const slow = host(SLOW_RETURN);
    await waitFor(`${SLOW_RETURN} to reboot`, () => slow.reboots().length === 1, 120_000, 50);
    const downSince = Date.now();
    await waitFor(`${SLOW_RETURN}'s collect-facts to find it down`, () => logs.some((line) => line.includes(`${SLOW_RETURN}:collect-facts:1: ${SLOW_RETURN} (${slow.address}:22) does not answer yet`)), 60_000, 50);
    expect(slow.sshdStarts()).toBe(before.get(SLOW_RETURN)!.sshdStarts);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, SLOW_RETURN_DOWN_MS - (Date.now() - downSince))));
    await slow.startSshd();

    interface View { state: string; hosts: Array<{ host: string; state: string; lastError?: string }> }
    const final = await waitFor('the rollout to end', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${rolloutId}`)).body;
      return ['succeeded', 'completed-with-errors', 'halted'].includes(view.state) ? view : undefined;
    }, 120_000, 250);
    const states = Object.fromEntries(final.hosts.map((entry) => [entry.host, entry.state]));
    expect(states, JSON.stringify(final.hosts)).toEqual({ 'ssh-1': 'succeeded', 'ssh-2': 'failed', 'ssh-3': 'succeeded', 'ssh-4': 'succeeded' });
    expect(final.state).toBe('completed-with-errors');

    // The re-keyed host: refused at its first step, with the key it presented; nothing ran on it.
    const refused = final.hosts.find((entry) => entry.host === REKEYED)!;
    expect(refused.lastError).toContain('host key changed');
    expect(refused.lastError).toContain(newFingerprint);
    expect(dpkgVersions(host(REKEYED))).toEqual(before.get(REKEYED)!.dpkg);
    expect(host(REKEYED).journalEntries()).toEqual([]);
    expect(host(REKEYED).reboots()).toEqual([]);
    expect(aptTransactions(host(REKEYED))).toBe(0);
    // Nothing was pinned on its behalf.
    expect(readFileSync(knownHostsPath, 'utf8')).toBe(knownHostsText);

    const jobs = await database.pool.query<{ key: string; host: string; step: string; attempt: number; executor: string; result: JobResult | null }>(
      'SELECT key, host, step, attempt, executor, result FROM rollout_jobs WHERE rollout_id = $1 ORDER BY dispatched_at, key', [rolloutId]);
    expect(new Set(jobs.rows.map((row) => row.executor))).toEqual(new Set(['ssh']));
    for (const row of jobs.rows) expect(jobResultSchema.parse(row.result), row.key).toEqual(row.result);
    expect(jobs.rows.filter((row) => row.host === REKEYED).map((row) => `${row.step}:${row.result?.outcome}`)).toEqual(['pre-check:failed']);

    const events = await database.pool.query<{ host: string; from_state: string; to_state: string }>("SELECT host, from_state, to_state FROM rollout_events WHERE rollout_id = $1 AND kind = 'host' ORDER BY id", [rolloutId]);
    const findings = await database.pool.query<{ host: string; state: string; resolved: boolean }>(
      `SELECT h.name AS host, f.state, f.resolved_at IS NOT NULL AS resolved FROM findings f JOIN hosts h ON h.key = f.host_key WHERE f.package_name = 'fp-demo-lib'`);
    const stored = await database.pool.query<{ name: string; boot_id: string | null; running_kernel: string | null }>('SELECT name, boot_id, running_kernel FROM hosts');
    const rolloutHosts = await database.pool.query<{ host: string; boot_id_before: string | null }>('SELECT host, boot_id_before FROM rollout_hosts WHERE rollout_id = $1', [rolloutId]);
    expect(findings.rows.filter((row) => row.host === REKEYED)).toEqual([{ host: REKEYED, state: 'vulnerable', resolved: false }]);

    for (const name of NAMES.filter((candidate) => candidate !== REKEYED)) {
      const patched = host(name);
      // The host's own dpkg database: exactly the advisory's fix, nothing else moved.
      expect(dpkgVersions(patched), name).toEqual({ ...before.get(name)!.dpkg, 'fp-demo-lib': '1.1-1' });
      expect(aptTransactions(patched), name).toBe(1);
      // One reboot, which dropped the connection: sshd was started again after it.
      expect(patched.reboots(), name).toHaveLength(1);
      expect(patched.sshdStarts(), name).toBeGreaterThan(before.get(name)!.sshdStarts);

      // Each step once, in the in-place order; the collect-facts after the reboot found it back.
      const own = jobs.rows.filter((row) => row.host === name);
      expect(own.map((row) => `${row.step}:${row.attempt}:${row.result?.outcome}`), name).toEqual(['pre-check:1:succeeded', 'upgrade:1:succeeded', 'reboot:1:started', 'collect-facts:1:succeeded', 'post-check:1:succeeded']);
      expect(own.find((row) => row.step === 'upgrade')!.result!.replaced, name).toEqual([{ name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' }]);
      // The remote journal holds each acting key once, each with its result (collect-facts acts on nothing and is not journalled).
      const acting = own.filter((row) => row.step !== 'collect-facts');
      expect(patched.journalEntries(), name).toEqual(acting.map((row) => journalEntryName(row.key)).sort());
      for (const row of acting) {
        const journalled = JSON.parse(readFileSync(join(patched.root, 'var/lib/fleetpatch/ssh-jobs', journalEntryName(row.key), 'result.json'), 'utf8')) as JobResult;
        expect(journalled.outcome, row.key).toBe(row.result!.outcome);
      }

      // The server judged the return itself: a boot id other than the one before the reboot, now the host's.
      const bootBefore = rolloutHosts.rows.find((row) => row.host === name)!.boot_id_before;
      expect(bootBefore, name).toBe(before.get(name)!.bootId);
      expect(patched.bootId(), name).not.toBe(bootBefore);
      expect(stored.rows.find((row) => row.name === name), name).toMatchObject({ boot_id: patched.bootId(), running_kernel: patched.runningKernel() });
      expect(events.rows.filter((row) => row.host === name).map((row) => `${row.from_state}>${row.to_state}`), name).toEqual(IN_PLACE_PATH.slice(1).map((to, index) => `${IN_PLACE_PATH[index]}>${to}`));
      expect(findings.rows.filter((row) => row.host === name), name).toEqual([{ host: name, state: 'fixed', resolved: true }]);
    }

    // ssh-3 was found down and read again until it answered.
    const slowFacts = jobs.rows.find((row) => row.host === SLOW_RETURN && row.step === 'collect-facts')!;
    expect(slowFacts.result!.details?.attempts as number).toBeGreaterThanOrEqual(2);
    const quickFacts = jobs.rows.find((row) => row.host === 'ssh-1' && row.step === 'collect-facts')!;
    expect(quickFacts.result!.details?.attempts as number).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
