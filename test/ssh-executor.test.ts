// The SSH executor against real sshd, one per network namespace, each host a Debian directory root
// with its own dpkg database (test/support/netns-hosts.ts): host keys pinned, changed or unknown;
// checks, exact upgrades, rollbacks and reboots run once per key through the host's own journal;
// collect-facts waiting for a host that is down or rebooting; timeouts, stops, bounded output.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutedStep, ExecutorTarget, StepContext } from '../src/executors/executor.js';
import { createSshExecutor, journalEntryName, type SshExecutorOptions, type SshExecutorSettings } from '../src/executors/ssh/ssh-executor.js';
import { MAX_JOB_OUTPUT_BYTES, hostJobSchema, jobResultSchema, type HostJob } from '../src/protocol/job-protocol.js';
import { createNetnsHosts, netnsUnavailableReason, type NetnsFleet, type NetnsHost } from './support/netns-hosts.js';
import { buildTestAptRepository, waitFor, type TestAptRepository } from './test-hosts.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`SSH executor tests skipped: ${unavailable}`);

const SETTINGS: SshExecutorSettings = { user: 'root', port: 22, sudo: false, addressLabel: 'ssh-address', trustOnFirstUse: false };

describe.skipIf(unavailable !== undefined)('SSH executor against sshd in network namespaces', () => {
  const directory = mkdtempSync(join(tmpdir(), 'fp-ssh-executor-'));
  const knownHostsPath = join(directory, 'known_hosts');
  let fleet: NetnsFleet;
  let repository: TestAptRepository;
  let pinned: NetnsHost;
  let changed: NetnsHost;
  let unknown: NetnsHost;
  const logs: string[] = [];

  beforeAll(async () => {
    repository = buildTestAptRepository(join(directory, 'repository'));
    fleet = await createNetnsHosts({ names: ['web-1', 'web-2', 'web-3'], repository });
    [pinned, changed, unknown] = fleet.hosts as [NetnsHost, NetnsHost, NetnsHost];
    // web-2's line pins another key (web-1's), as after a reinstall or an impostor; web-3 has none.
    writeFileSync(knownHostsPath, `# fleetpatch's pins\n${pinned.address} ${pinned.hostKey}\n${changed.address} ${pinned.hostKey}\n`);
  });

  afterAll(async () => {
    await fleet?.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  function executor(overrides: Partial<SshExecutorOptions> = {}, settings: Partial<SshExecutorSettings> = {}) {
    return createSshExecutor({
      settings: { ...SETTINGS, ...settings },
      privateKeyPath: fleet.clientKeyPath,
      knownHostsPath,
      connectTimeoutMs: 10_000,
      // Real waits, but short: only as long as an sshd restart needs.
      sleep: () => sleep(50),
      ...overrides,
    });
  }

  function job(host: NetnsHost, step: HostJob['step'], fields: Partial<HostJob> = {}, attempt = 1): HostJob {
    return hostJobSchema.parse({ key: `9:${host.name}:${step}:${attempt}`, rolloutId: 9, step, deadline: new Date(Date.now() + 300_000).toISOString(), ...fields });
  }

  function target(host: NetnsHost): ExecutorTarget {
    return { name: host.name, labels: host.labels, rolloutId: 9, bucket: 'web' };
  }

  function context(signal = new AbortController().signal): StepContext {
    return { signal, log: (message) => logs.push(message), firstStartedAt: new Date(), now: () => new Date() };
  }

  async function run(host: NetnsHost, hostJob: HostJob, options: Partial<SshExecutorOptions> = {}, settings: Partial<SshExecutorSettings> = {}): Promise<ExecutedStep> {
    const executed = await executor(options, settings).run(hostJob, target(host), context());
    // Whatever happened, it is a result the server accepts.
    expect(jobResultSchema.parse(executed.result)).toEqual(executed.result);
    return executed;
  }

  /** What dpkg itself says is installed in the host's root. */
  function dpkgVersions(host: NetnsHost): Record<string, string> {
    const listing = execFileSync('dpkg-query', [`--admindir=${join(host.root, 'var/lib/dpkg')}`, '-W', '-f', '${Package}=${Version}\n'], { encoding: 'utf8' });
    return Object.fromEntries(listing.trim().split('\n').map((line) => line.split('=') as [string, string]));
  }

  /** apt's own record of the transactions it ran in the host's root. */
  function aptTransactions(host: NetnsHost): number {
    const history = join(host.root, 'var/log/apt/history.log');
    return existsSync(history) ? readFileSync(history, 'utf8').split('\n').filter((line) => line.startsWith('Start-Date:')).length : 0;
  }

  function processesWith(token: string): number[] {
    return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
      } catch {
        return false;
      }
    }).map(Number);
  }

  const check = (name: string, command: string, timeoutMs = 30_000) => ({ name, command, timeoutMs, allowedExitCodes: [0] });

  it('reads a pinned host over SSH: its os-release, dpkg database, boot id and kernel', async () => {
    const { result, facts } = await run(pinned, job(pinned, 'collect-facts'));
    expect(result).toMatchObject({ outcome: 'succeeded', details: { attempts: 1 } });
    expect(facts).toMatchObject({ hostname: 'web-1', bootId: pinned.bootId(), runningKernel: pinned.runningKernel(), rebootRequired: false, packageDatabase: { format: 'dpkg-status' } });
    expect(facts!.osRelease).toContain('VERSION_CODENAME=bookworm');
    expect(facts!.packageDatabase.text).toContain('Package: fp-demo-lib\n');
  });

  it('refuses a host whose key changed, even with trust on first use, and runs nothing on it', async () => {
    const before = dpkgVersions(changed);
    for (const trustOnFirstUse of [false, true]) {
      const { result, facts } = await run(changed, job(changed, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] }), {}, { trustOnFirstUse });
      expect(result.outcome).toBe('failed');
      expect(result.error).toContain('host key changed');
      expect(result.error).toContain(changed.hostKeyFingerprint);
      expect(result.error).toContain('web-2');
      expect(facts).toBeUndefined();
    }
    expect(dpkgVersions(changed)).toEqual(before);
    expect(changed.journalEntries()).toEqual([]);
    expect(readFileSync(knownHostsPath, 'utf8')).not.toContain(changed.hostKey);
  });

  it('refuses an unknown host key with its fingerprint and how to pin it; trust on first use pins it', async () => {
    const refused = await run(unknown, job(unknown, 'collect-facts'));
    expect(refused.result.outcome).toBe('failed');
    expect(refused.result.error).toContain(`unknown host key ssh-ed25519 ${unknown.hostKeyFingerprint}`);
    expect(refused.result.error).toContain(`${knownHostsPath}: ${unknown.address} ${unknown.hostKey}`);
    expect(readFileSync(knownHostsPath, 'utf8')).not.toContain(unknown.hostKey);

    const trusted = await run(unknown, job(unknown, 'collect-facts'), {}, { trustOnFirstUse: true });
    expect(trusted.result.outcome).toBe('succeeded');
    expect(readFileSync(knownHostsPath, 'utf8').split('\n')).toContain(`${unknown.address} ${unknown.hostKey}`);
    expect(logs.some((line) => line.includes(`pinned ssh-ed25519 ${unknown.hostKeyFingerprint}`))).toBe(true);
    // Pinned now: it passes without trusting anything new.
    expect((await run(unknown, job(unknown, 'collect-facts', {}, 2))).result.outcome).toBe('succeeded');
  });

  it('stops a pre-check at its first failing command and changes nothing', async () => {
    const before = dpkgVersions(pinned);
    const { result, facts } = await run(pinned, job(pinned, 'pre-check', {
      commands: [check('disk', 'df -P / > /dev/null && echo disk ok'), check('health', 'echo unhealthy; exit 3'), check('never', 'touch "$FLEETPATCH_ROOT/never-ran"')],
    }));
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 3, error: 'health failed (exit 3; allowed: 0)' });
    expect(result.output).toContain('disk ok\n$ health: echo unhealthy; exit 3\nunhealthy\n');
    expect(existsSync(join(pinned.root, 'never-ran'))).toBe(false);
    expect(dpkgVersions(pinned)).toEqual(before);
    expect(facts?.bootId).toBe(pinned.bootId());
  });

  it('upgrades to exactly the job\'s versions, reports what it replaced, and answers the same key again without running it', async () => {
    const upgrade = job(pinned, 'upgrade', {
      packages: [{ name: 'fp-demo-lib', version: '1.1-1' }, { name: 'fp-demo-tool', version: '2.1-1' }, { name: 'linux-image-6.1.0-99-fp', version: '6.1.80-1' }],
    });
    const first = await run(pinned, upgrade);
    expect(first.result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(first.result.replaced).toEqual(expect.arrayContaining([
      { name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' },
      { name: 'fp-demo-tool', from: '2.0-1', to: '2.1-1' },
      { name: 'linux-image-6.1.0-99-fp', to: '6.1.80-1' },
    ]));
    expect(first.result.replaced).toHaveLength(3);
    expect(dpkgVersions(pinned)).toEqual({ 'fp-demo-lib': '1.1-1', 'fp-demo-tool': '2.1-1', 'linux-image-6.1.0-98-fp': '6.1.76-1', 'linux-image-6.1.0-99-fp': '6.1.80-1' });
    // The new kernel's package asks for a reboot, and the facts after the step say so.
    expect(first.facts?.rebootRequired).toBe(true);
    expect(first.facts?.packageDatabase.text).toContain('Package: fp-demo-tool\nStatus: install ok installed');
    expect(aptTransactions(pinned)).toBe(1);
    expect(pinned.journalEntries()).toContain(journalEntryName(upgrade.key));

    const again = await run(pinned, upgrade);
    expect(again.result).toEqual(first.result);
    expect(aptTransactions(pinned)).toBe(1);
  });

  it('refuses a transaction that would change packages outside the job before anything moves', async () => {
    // fp-demo-tool 2.1 needs fp-demo-lib >= 1.1: downgrading the library alone would remove or change the tool.
    const before = dpkgVersions(pinned);
    const { result } = await run(pinned, job(pinned, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.0-1' }] }, 2));
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/fp-demo-tool.*nothing was installed/);
    expect(dpkgVersions(pinned)).toEqual(before);
  });

  it('reports a reboot started and drops the connection; collect-facts reconnects and sees the new boot', async () => {
    const bootBefore = pinned.bootId();
    const starts = pinned.sshdStarts();
    const reboot = job(pinned, 'reboot');
    const { result, facts } = await run(pinned, reboot);
    expect(result).toMatchObject({ outcome: 'started', replaced: [] });
    // The facts are the host's as it went down.
    expect(facts).toMatchObject({ bootId: bootBefore, rebootRequired: true });
    expect(pinned.reboots()).toHaveLength(1);
    await waitFor('web-1 sshd restarted by its reboot', () => pinned.sshdStarts() > starts, 10_000);

    const back = await run(pinned, job(pinned, 'collect-facts', {}, 2));
    expect(back.result.outcome).toBe('succeeded');
    expect(back.facts).toMatchObject({ bootId: pinned.bootId(), runningKernel: '6.1.0-99-fp', rebootRequired: false });
    expect(back.facts!.bootId).not.toBe(bootBefore);

    // The reboot's key is journalled: asking again answers `started` and reboots nothing.
    const again = await run(pinned, reboot);
    expect(again.result).toEqual(result);
    expect(pinned.reboots()).toHaveLength(1);
  });

  it('waits for a host that does not answer, reconnecting with backoff until it does', async () => {
    await pinned.stopSshd();
    const delays: number[] = [];
    const { result, facts } = await run(pinned, job(pinned, 'collect-facts', {}, 3), {
      reconnectBackoff: { initialMs: 1_000, maxMs: 3_000 },
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 3) await pinned.startSshd();
      },
    });
    expect(result).toMatchObject({ outcome: 'succeeded', details: { attempts: 4 } });
    expect(delays).toEqual([1_000, 2_000, 3_000]);
    expect(facts?.bootId).toBe(pinned.bootId());
    expect(logs.some((line) => /web-1 \(10\.213\.[\d.]+:22\) does not answer yet \(cannot connect .*ECONNREFUSED/.test(line))).toBe(true);
  });

  it('rolls back by reinstalling the versions the upgrade replaced', async () => {
    const { result } = await run(pinned, job(pinned, 'rollback', { previous: [{ name: 'fp-demo-lib', version: '1.0-1' }, { name: 'fp-demo-tool', version: '2.0-1' }] }));
    expect(result.outcome).toBe('succeeded');
    expect(result.replaced).toEqual(expect.arrayContaining([{ name: 'fp-demo-lib', from: '1.1-1', to: '1.0-1' }, { name: 'fp-demo-tool', from: '2.1-1', to: '2.0-1' }]));
    expect(dpkgVersions(pinned)).toMatchObject({ 'fp-demo-lib': '1.0-1', 'fp-demo-tool': '2.0-1' });
  });

  it('rolls back with the policy\'s command instead when it has one, reporting what changed', async () => {
    // A stand-in for a snapshot restore: the command puts an older state of the root back.
    const restore = `dpkg --root="$FLEETPATCH_ROOT" --install ${repository.debs.get('fp-demo-lib=1.1-1')}`;
    const { result } = await run(pinned, job(pinned, 'rollback', { commands: [check('restore', restore)] }, 2));
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0, replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' }] });
    expect(dpkgVersions(pinned)['fp-demo-lib']).toBe('1.1-1');
  });

  it('keeps only the tail of a chatty command\'s output', async () => {
    const { result } = await run(pinned, job(pinned, 'post-check', { commands: [check('chatty', 'yes 0123456789abcdef | head -n 20000; echo END-OF-OUTPUT')] }));
    expect(result.outcome).toBe('succeeded');
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_JOB_OUTPUT_BYTES);
    expect(Buffer.byteLength(result.output)).toBeGreaterThan(MAX_JOB_OUTPUT_BYTES - 100);
    expect(result.output.endsWith('0123456789abcdef\nEND-OF-OUTPUT\n')).toBe(true);
  });

  it('fails a command that outlives its timeout and kills what it started', async () => {
    const { result } = await run(pinned, job(pinned, 'post-check', { commands: [check('slow', 'sleep 28.301 & sleep 28.302; wait', 1_000)] }, 2));
    expect(result).toMatchObject({ outcome: 'failed', error: 'slow timed out after 1000 ms' });
    await waitFor('the timed-out check and its child gone', () => processesWith('28.30').length === 0, 10_000);
  });

  it('stops promptly when the worker\'s signal aborts, killing the command and journalling why', async () => {
    const stop = new AbortController();
    const marker = join(pinned.root, 'sleeping');
    const stopped = job(pinned, 'post-check', { commands: [check('long', 'touch "$FLEETPATCH_ROOT/sleeping"; sleep 28.401', 120_000)] }, 3);
    const running = executor().run(stopped, target(pinned), context(stop.signal));
    await waitFor('the long check started', () => existsSync(marker), 20_000);
    stop.abort();
    const { result } = await running;
    expect(result).toMatchObject({ outcome: 'failed', error: 'stopped: the job worker lost its lease or is shutting down' });
    await waitFor('the stopped check gone', () => processesWith('28.401').length === 0, 10_000);
    rmSync(marker);
    const again = await run(pinned, stopped);
    expect(again.result).toEqual(result);
    expect(existsSync(marker)).toBe(false);
  });

  it('answers interrupted for a key a run claimed and never finished, and changes nothing', async () => {
    const upgrade = job(pinned, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.2-1' }] }, 3);
    const entry = join(pinned.root, 'var/lib/fleetpatch/ssh-jobs', journalEntryName(upgrade.key));
    mkdirSync(entry);
    writeFileSync(join(entry, 'started'), JSON.stringify({ key: upgrade.key }));
    const before = dpkgVersions(pinned);
    const { result } = await run(pinned, upgrade);
    expect(result).toMatchObject({ outcome: 'failed', error: 'interrupted' });
    expect(dpkgVersions(pinned)).toEqual(before);
    expect((await run(pinned, upgrade)).result).toEqual(result);
  });

  it('fails a step whose connection drops under it; the key answers interrupted from then on', async () => {
    const starts = unknown.sshdStarts();
    // The check reboots web-3 while it runs (detached, as the reboot outlives the session): every sshd there stops.
    const dropped = job(unknown, 'pre-check', { commands: [check('drops', 'setsid "$FLEETPATCH_REBOOT_COMMAND" & sleep 28.501')] });
    const { result } = await run(unknown, dropped);
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/^the connection to web-3 \(10\.213\.[\d.]+:22\) was lost \(.*\) during pre-check; what the step changed is unknown$/);
    await waitFor('web-3 sshd back', () => unknown.sshdStarts() > starts, 10_000);
    await waitFor('the dropped check gone', () => processesWith('28.501').length === 0, 10_000);
    await unknown.startSshd();
    expect((await run(unknown, dropped)).result).toMatchObject({ outcome: 'failed', error: 'interrupted' });
  });

  it('runs through sudo -n with the host\'s environment kept, and fails clearly when sudo wants a password', async () => {
    // The host's sudo resets the environment as sudo does: the root and apt configuration arrive only if passed on.
    const passes = await run(unknown, job(unknown, 'post-check', { commands: [check('root', 'test -f "${FLEETPATCH_ROOT}etc/os-release" && test -n "$APT_CONFIG" && echo "as $(id -u) in $FLEETPATCH_ROOT"')] }), {}, { sudo: true });
    expect(passes.result).toMatchObject({ outcome: 'succeeded' });
    expect(passes.result.output).toContain(`as 0 in ${unknown.root}/`);
    unknown.sudoAsksForPassword(true);
    try {
      const refused = await run(unknown, job(unknown, 'post-check', { commands: [check('root', 'true')] }, 2), {}, { sudo: true });
      expect(refused.result.outcome).toBe('failed');
      expect(refused.result.error).toContain('sudo asks for a password (sudo -n refused)');
    } finally {
      unknown.sudoAsksForPassword(false);
    }
  });

  it('reports a host it cannot reach as a failed step', async () => {
    const { result } = await run(pinned, job(pinned, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] }, 4), {}, { port: 2222 });
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/^cannot connect to web-1 \(10\.213\.[\d.]+:2222\): .*ECONNREFUSED/);
  });

  it('leaves steps of other strategies to their executors', async () => {
    const { result } = await run(pinned, job(pinned, 'drain'));
    expect(result).toMatchObject({ outcome: 'failed', error: 'the ssh executor does not run drain steps' });
  });
});
