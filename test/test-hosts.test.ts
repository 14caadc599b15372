// The test-host harness and the agent's job runner on real dpkg roots: exact upgrades and
// rollbacks from a local apt repository, checks that change nothing, keys that run once, and a
// real agent process that long-polls a loopback job server, reports, checks in, and reboots.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../src/agent/job-runner.js';
import { MAX_JOB_OUTPUT_BYTES, hostJobSchema, jobResultSchema, type HostJob, type JobResult } from '../src/protocol/job-protocol.js';
import { repoRoot } from './data-path.js';
import { buildTestAptRepository, createTestHost, startTestAgent, waitFor, type TestAgent, type TestAptRepository, type TestHost } from './test-hosts.js';

const HOUR_LATER = () => new Date(Date.now() + 3_600_000).toISOString();
const log = () => undefined;

function job(host: TestHost, step: HostJob['step'], fields: Partial<HostJob> = {}, attempt = 1): HostJob {
  return hostJobSchema.parse({ key: `7:${host.name}:${step}:${attempt}`, rolloutId: 7, step, deadline: HOUR_LATER(), ...fields });
}

function run(host: TestHost, hostJob: HostJob) {
  return runJob(hostJob, { root: host.root, stateDirectory: host.stateDirectory, rebootCommand: host.rebootCommand, log });
}

interface CheckInRecord {
  host: string;
  kind: 'full' | 'delta' | 'heartbeat';
  bootId?: string;
  runningKernel?: string;
  rebootRequired?: boolean;
  added?: Array<{ name: string; version: string }>;
}

/**
 * A loopback stand-in for the server's side of the agent protocols: enrollment, check-ins, and
 * the job protocol (one offered job per host, answered until its result is recorded).
 */
interface JobServer {
  url: string;
  checkIns: CheckInRecord[];
  results: Array<{ host: string; key: string; result: JobResult }>;
  jobPolls: number;
  offer(host: string, job: HostJob): void;
  /** The next `count` result reports are answered 503, as by a server that went down. */
  failResults(count: number): void;
  /** The next `count` result reports are recorded, then the connection drops unanswered (the server died). */
  loseAnswers(count: number): void;
  close(): Promise<void>;
}

async function startJobServer(options: { jobs: boolean } = { jobs: true }): Promise<JobServer> {
  const offered = new Map<string, HostJob>();
  const waiting = new Map<string, () => void>();
  let failingResults = 0;
  let losingAnswers = 0;
  const state: Omit<JobServer, 'url' | 'close'> = {
    checkIns: [],
    results: [],
    jobPolls: 0,
    offer(host, hostJob) {
      offered.set(host, hostJob);
      waiting.get(host)?.();
    },
    failResults(count) {
      failingResults = count;
    },
    loseAnswers(count) {
      losingAnswers = count;
    },
  };
  const readBody = async (request: IncomingMessage) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url!, 'http://localhost');
      const body = await readBody(request);
      const send = (status: number, answer?: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(answer === undefined ? undefined : JSON.stringify(answer));
      };
      const [, , , , host, what, key, result] = url.pathname.split('/');
      if (url.pathname === '/api/v1/enroll') return send(200, { credential: `fph_${String(body.hostname)}`, hostname: body.hostname });
      if (what === 'inventory' || what === 'heartbeat') {
        state.checkIns.push({ host: host!, kind: what === 'heartbeat' ? 'heartbeat' : (body.kind as 'full' | 'delta'), ...(body as object) } as CheckInRecord);
        return send(200, {});
      }
      if (what === 'job') {
        state.jobPolls++;
        if (!options.jobs) return send(404, { error: { code: 'not-found', message: 'no such route' } });
        if (!offered.has(host!)) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Number(url.searchParams.get('waitSeconds')) * 1000);
            waiting.set(host!, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          waiting.delete(host!);
        }
        const current = offered.get(host!);
        return current ? send(200, current) : send(204);
      }
      if (what === 'jobs' && result === 'result') {
        if (failingResults > 0) {
          failingResults--;
          return send(503, { error: { code: 'unavailable', message: 'down' } });
        }
        const decodedKey = decodeURIComponent(key!);
        state.results.push({ host: host!, key: decodedKey, result: jobResultSchema.parse(body) });
        if (offered.get(host!)?.key === decodedKey) offered.delete(host!);
        if (losingAnswers > 0) {
          losingAnswers--;
          return response.socket?.destroy();
        }
        return send(200, { recorded: true });
      }
      send(404, { error: { code: 'not-found', message: url.pathname } });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    get checkIns() {
      return state.checkIns;
    },
    get results() {
      return state.results;
    },
    get jobPolls() {
      return state.jobPolls;
    },
    offer: state.offer,
    failResults: state.failResults,
    loseAnswers: state.loseAnswers,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function check(name: string, command: string, timeoutMs = 10_000) {
  return { name, command, timeoutMs, allowedExitCodes: [0] };
}

describe('test hosts and the job runner', () => {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-test-hosts-'));
  let repository: TestAptRepository;
  let hostNumber = 0;
  const newHost = () => createTestHost(directory, { name: `host-${++hostNumber}`, repository, labels: { bucket: 'web' } });

  beforeAll(() => {
    repository = buildTestAptRepository(join(directory, 'repository'));
  });

  it('builds hosts with their own dpkg database at the old versions, running the kernel installed', () => {
    const [first, second] = [newHost(), newHost()];
    expect(Object.fromEntries(first.installed())).toEqual({ 'fp-demo-lib': '1.0-1', 'fp-demo-tool': '2.0-1', 'linux-image-6.1.0-98-fp': '6.1.76-1' });
    expect(first.runningKernel()).toBe('6.1.0-98-fp');
    expect(first.bootId()).not.toBe(second.bootId());
    expect(existsSync(join(first.root, 'usr/share/doc/fp-demo-lib/version'))).toBe(true);
  });

  it('upgrades exactly the job\'s versions, records what they replaced, and rolls them back', async () => {
    const [host, bystander] = [newHost(), newHost()];
    const upgrade = await run(host, job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }, { name: 'fp-demo-tool', version: '2.1-1' }, { name: 'linux-image-6.1.0-99-fp', version: '6.1.80-1' }] }));
    expect(upgrade.result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(jobResultSchema.parse(upgrade.result)).toEqual(upgrade.result);
    expect(upgrade.result.replaced).toEqual(expect.arrayContaining([
      { name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' },
      { name: 'fp-demo-tool', from: '2.0-1', to: '2.1-1' },
      { name: 'linux-image-6.1.0-99-fp', to: '6.1.80-1' },
    ]));
    expect(upgrade.result.replaced).toHaveLength(3);
    expect(Object.fromEntries(host.installed())).toEqual({ 'fp-demo-lib': '1.1-1', 'fp-demo-tool': '2.1-1', 'linux-image-6.1.0-98-fp': '6.1.76-1', 'linux-image-6.1.0-99-fp': '6.1.80-1' });
    expect(readFileSync(join(host.root, 'usr/share/doc/fp-demo-lib/version'), 'utf8')).toBe('1.1-1\n');
    expect(Object.fromEntries(bystander.installed())).toEqual({ 'fp-demo-lib': '1.0-1', 'fp-demo-tool': '2.0-1', 'linux-image-6.1.0-98-fp': '6.1.76-1' });

    const previous = upgrade.result.replaced.flatMap((change) => (change.from ? [{ name: change.name, version: change.from }] : []));
    const rollback = await run(host, job(host, 'rollback', { previous }));
    expect(rollback.result).toMatchObject({ outcome: 'succeeded' });
    expect(rollback.result.replaced).toEqual(expect.arrayContaining([{ name: 'fp-demo-lib', from: '1.1-1', to: '1.0-1' }, { name: 'fp-demo-tool', from: '2.1-1', to: '2.0-1' }]));
    expect(host.installed().get('fp-demo-lib')).toBe('1.0-1');
    expect(host.installed().get('fp-demo-tool')).toBe('2.0-1');
    expect(host.stepLog().map((line) => line.step)).toEqual(['upgrade', 'rollback']);
  });

  it('refuses an upgrade that would change a package outside the job, before installing anything', async () => {
    const host = newHost();
    const status = readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8');
    // fp-demo-tool 2.1-1 needs fp-demo-lib >= 1.1, which apt would pull in.
    const { result } = await run(host, job(host, 'upgrade', { packages: [{ name: 'fp-demo-tool', version: '2.1-1' }] }));
    expect(result.outcome).toBe('failed');
    expect(result.error).toContain('fp-demo-lib');
    expect(result.error).toContain('nothing was installed');
    expect(readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8')).toBe(status);
  });

  it('fails an upgrade to a version the repository does not have, changing nothing', async () => {
    const host = newHost();
    const { result } = await run(host, job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '9.9-1' }] }));
    expect(result).toMatchObject({ outcome: 'failed', replaced: [] });
    expect(result.output).toContain("Version '9.9-1' for 'fp-demo-lib' was not found");
    expect(host.installed().get('fp-demo-lib')).toBe('1.0-1');
  });

  it('stops a pre-check at its first failing command, which changes nothing on the host', async () => {
    const host = newHost();
    const status = readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8');
    const marker = join(host.directory, 'third-ran');
    const { result } = await run(host, job(host, 'pre-check', {
      commands: [
        check('root is given', 'test "$FLEETPATCH_ROOT" = "$EXPECTED_ROOT" && test "$FLEETPATCH_STEP" = pre-check && test "$FLEETPATCH_ROLLOUT" = 7 && echo fine'.replace('$EXPECTED_ROOT', host.root)),
        check('disk space', 'echo not enough disk >&2; exit 3'),
        check('never reached', `touch ${marker}`),
      ],
    }));
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(result.error).toContain('disk space failed (exit 3');
    expect(result.output).toContain('fine\n');
    expect(result.output).toContain('not enough disk');
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8')).toBe(status);
  });

  it('accepts the exit codes a check allows', async () => {
    const host = newHost();
    const { result } = await run(host, job(host, 'post-check', { commands: [{ name: 'grep finds nothing', command: 'exit 1', timeoutMs: 10_000, allowedExitCodes: [0, 1] }] }));
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 1 });
  });

  it('kills a command\'s whole process group at its timeout', async () => {
    const host = newHost();
    const pidFile = join(host.directory, 'background.pid');
    const { result } = await run(host, job(host, 'post-check', { commands: [check('hangs', `sleep 300 & echo $! > ${pidFile}; wait`, 300)] }));
    expect(result).toMatchObject({ outcome: 'failed', error: 'hangs timed out after 300 ms' });
    const background = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the background sleep to be gone', () => !existsSync(`/proc/${background}`) || readFileSync(`/proc/${background}/stat`, 'utf8').split(' ')[2] === 'Z', 10_000);
  });

  it('gives up at the deadline', async () => {
    const host = newHost();
    const { result } = await run(host, job(host, 'post-check', { deadline: new Date(Date.now() + 300).toISOString(), commands: [check('slow', 'sleep 300', 60_000)] }));
    expect(result).toMatchObject({ outcome: 'failed', error: 'deadline passed' });
    const late = await run(host, job(host, 'post-check', { deadline: new Date(Date.now() - 1000).toISOString(), commands: [check('never', 'true')] }, 2));
    expect(late.result).toMatchObject({ outcome: 'failed', error: 'deadline passed' });
    expect(host.stepLog()).toHaveLength(1);
  });

  it('keeps the tail of a chatty command, within the bound and as text the server accepts', async () => {
    const host = newHost();
    const command = "i=0; while [ $i -lt 4000 ]; do printf 'line %05d \\033[1mbold\\033[0m ééé\\n' $i; i=$((i+1)); done";
    const { result } = await run(host, job(host, 'post-check', { commands: [check('chatty', command)] }));
    expect(result.outcome).toBe('succeeded');
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(MAX_JOB_OUTPUT_BYTES);
    expect(Buffer.byteLength(result.output)).toBeGreaterThan(MAX_JOB_OUTPUT_BYTES - 100);
    expect(result.output.endsWith('line 03999 ?[1mbold?[0m ééé\n')).toBe(true);
    expect(result.output).not.toContain('line 00000');
    expect(result.output).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFD]/);
  });

  it('runs a key once: asked again, it answers the stored result', async () => {
    const host = newHost();
    const counter = join(host.directory, 'runs');
    const postCheck = job(host, 'post-check', { commands: [check('count', `echo run >> ${counter}`)] });
    const first = await run(host, postCheck);
    const second = await run(host, postCheck);
    expect(second.result).toEqual(first.result);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
    expect(host.stepLog().filter((line) => line.key === postCheck.key)).toHaveLength(1);
  });

  it('reports a key the agent died in as interrupted, and never runs it again', async () => {
    const host = newHost();
    const counter = join(host.directory, 'runs');
    const shellPid = join(host.directory, 'shell.pid');
    const postCheck = job(host, 'post-check', { commands: [check('count then hang', `echo $$ > ${shellPid}; echo run >> ${counter}; sleep 300`, 600_000)] });
    // A process of its own runs the job, and is killed mid-step as an agent would be.
    const script = `import { runJob } from ${JSON.stringify(join(repoRoot, 'src/agent/job-runner.ts'))};
      await runJob(${JSON.stringify(postCheck)}, { root: ${JSON.stringify(host.root)}, stateDirectory: ${JSON.stringify(host.stateDirectory)}, rebootCommand: 'true', log: console.error });`;
    const runner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { cwd: repoRoot, stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.on('exit', resolve));
    await waitFor('the check to start', () => existsSync(counter), 30_000);
    runner.kill('SIGKILL');
    await exited;
    // The check's process group outlives the runner, as it would an agent: end it here.
    process.kill(-Number(readFileSync(shellPid, 'utf8')), 'SIGKILL');
    const replayed = await run(host, postCheck);
    expect(replayed.result).toMatchObject({ outcome: 'failed', error: 'interrupted' });
    expect((await run(host, postCheck)).result).toEqual(replayed.result);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
    expect(host.stepLog().filter((line) => line.key === postCheck.key)).toHaveLength(1);
  });

  it('runs a rollback command from the policy instead of reinstalling, and reports what changed', async () => {
    const host = newHost();
    const debianLib = repository.debs.get('fp-demo-lib=1.2-1')!;
    const { result } = await run(host, job(host, 'rollback', { commands: [check('restore snapshot', `dpkg --root="$FLEETPATCH_ROOT" --install ${debianLib}`)] }));
    expect(result).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.2-1' }] });
  });

  describe('a real agent process', () => {
    let server: JobServer;
    const agents: TestAgent[] = [];
    const agentFor = (host: TestHost, options: { neverReturns?: boolean; intervalSeconds?: number } = {}, target = server) => {
      const agent = startTestAgent(host, { serverUrl: target.url, enrollToken: 'fpe_test', intervalSeconds: options.intervalSeconds ?? 60, ...options });
      agents.push(agent);
      return agent;
    };
    const resultOf = (key: string) => waitFor(`the result of ${key}`, () => server.results.find((reported) => reported.key === key)?.result, 60_000);

    beforeAll(async () => {
      server = await startJobServer();
    });
    afterAll(async () => {
      await Promise.all(agents.map((agent) => agent.stop()));
      await server?.close();
    });

    it('long-polls its job, reports it, checks in the new versions, and comes back from a reboot on the new kernel', async () => {
      const host = newHost();
      const agent = agentFor(host);
      await waitFor('the first check-in', () => server.checkIns.some((checkIn) => checkIn.host === host.name && checkIn.kind === 'full'), 60_000);
      const firstBoot = host.bootId();

      const upgrade = job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }, { name: 'fp-demo-tool', version: '2.1-1' }, { name: 'linux-image-6.1.0-99-fp', version: '6.1.80-1' }] });
      server.offer(host.name, upgrade);
      expect(await resultOf(upgrade.key)).toMatchObject({ outcome: 'succeeded' });
      const delta = await waitFor('the check-in after the upgrade', () => server.checkIns.find((checkIn) => checkIn.host === host.name && checkIn.kind === 'delta'), 60_000);
      expect(delta.added?.map((pkg) => `${pkg.name}=${pkg.version}`).sort()).toEqual(['fp-demo-lib=1.1-1', 'fp-demo-tool=2.1-1', 'linux-image-6.1.0-99-fp=6.1.80-1']);
      expect(delta).toMatchObject({ rebootRequired: true, runningKernel: '6.1.0-98-fp', bootId: firstBoot });

      const reboot = job(host, 'reboot');
      server.offer(host.name, reboot);
      expect(await resultOf(reboot.key)).toMatchObject({ outcome: 'started' });
      const afterBoot = await waitFor('a check-in from the new boot', () => server.checkIns.find((checkIn) => checkIn.host === host.name && checkIn.bootId !== undefined && checkIn.bootId !== firstBoot), 60_000);
      expect(afterBoot).toMatchObject({ runningKernel: '6.1.0-99-fp', rebootRequired: false, bootId: host.bootId() });
      expect(host.reboots()).toHaveLength(1);
      expect(agent.starts()).toBe(2);

      // Asked for the reboot again (as after a lost answer), the agent reports it and does not reboot twice.
      server.offer(host.name, reboot);
      await waitFor('the repeated reboot report', () => server.results.filter((reported) => reported.key === reboot.key).length === 2, 60_000);
      const postCheck = job(host, 'post-check', { commands: [check('service answers', 'true')] });
      server.offer(host.name, postCheck);
      expect(await resultOf(postCheck.key)).toMatchObject({ outcome: 'succeeded' });
      expect(host.reboots()).toHaveLength(1);
      expect(host.stepLog().map((line) => line.step)).toEqual(['upgrade', 'reboot', 'post-check']);
      expect(agent.unexpectedExits()).toEqual([]);
    }, 120_000);

    it('reports a result again until the server answers, without running the step again', async () => {
      const host = newHost();
      agentFor(host);
      await waitFor('the first check-in', () => server.checkIns.some((checkIn) => checkIn.host === host.name), 60_000);
      const counter = join(host.directory, 'runs');
      const preCheck = job(host, 'pre-check', { commands: [check('count', `echo run >> ${counter}`)] });
      server.failResults(1);
      server.offer(host.name, preCheck);
      expect(await resultOf(preCheck.key)).toMatchObject({ outcome: 'succeeded' });
      expect(readFileSync(counter, 'utf8')).toBe('run\n');
      expect(host.stepLog()).toHaveLength(1);
    }, 120_000);

    it('reboots when the server recorded the reboot\'s start but died before answering', async () => {
      const host = newHost();
      agentFor(host);
      await waitFor('the first check-in', () => server.checkIns.some((checkIn) => checkIn.host === host.name), 60_000);
      const firstBoot = host.bootId();
      const reboot = job(host, 'reboot');
      server.loseAnswers(1);
      server.offer(host.name, reboot);
      await waitFor('a check-in from the new boot', () => server.checkIns.some((checkIn) => checkIn.host === host.name && checkIn.bootId !== undefined && checkIn.bootId !== firstBoot), 60_000);
      expect(host.reboots()).toHaveLength(1);
      expect(server.results.filter((reported) => reported.key === reboot.key).map((reported) => reported.result.outcome)).toEqual(['started', 'started']);
    }, 120_000);

    it('stays down after a reboot when the host never returns, and comes back when started', async () => {
      const host = newHost();
      const agent = agentFor(host, { neverReturns: true });
      await waitFor('the first check-in', () => server.checkIns.some((checkIn) => checkIn.host === host.name), 60_000);
      const firstBoot = host.bootId();
      server.offer(host.name, job(host, 'reboot'));
      await waitFor('the reboot', () => host.reboots().length === 1 && !agent.running(), 60_000);
      expect(agent.starts()).toBe(1);
      agent.start();
      await waitFor('a check-in from the new boot', () => server.checkIns.some((checkIn) => checkIn.host === host.name && checkIn.bootId !== undefined && checkIn.bootId !== firstBoot), 60_000);
      expect(agent.unexpectedExits()).toEqual([]);
    }, 120_000);

    it('keeps checking in against a server without the job protocol', async () => {
      const legacy = await startJobServer({ jobs: false });
      try {
        const host = newHost();
        agentFor(host, { intervalSeconds: 1 }, legacy);
        await waitFor('three check-ins', () => legacy.checkIns.filter((checkIn) => checkIn.host === host.name).length >= 3, 60_000);
        // One probe per check-in cycle, not a poll loop.
        expect(legacy.jobPolls).toBeLessThanOrEqual(legacy.checkIns.length);
        expect(legacy.checkIns.map((checkIn) => checkIn.kind).slice(0, 2)).toEqual(['full', 'heartbeat']);
      } finally {
        await Promise.all(agents.splice(-1).map((agent) => agent.stop()));
        await legacy.close();
      }
    }, 120_000);
  });
});
