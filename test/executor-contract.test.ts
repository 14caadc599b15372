// The executors' shared contract (src/executors/executor.ts), one suite for every executor the
// server's job worker runs: the command hook with a real script, SSH against sshd in a network
// namespace (test/support/netns-hosts.ts), Kubernetes against the in-test API server
// (test/support/kube-api-server.ts). Each executor comes with a small harness: a subject that
// answers and one where nothing does, a job that acts (and a look at what it changed), a chatty
// step, a step that runs until stopped. Adding an executor is one entry in HARNESSES.
//
// The contract: `run` never throws (nothing answers, a step it does not run → a failed result);
// every result is one the job protocol accepts (well-formed text, ISO times, output within
// MAX_JOB_OUTPUT_BYTES however much the step prints); an aborted signal ends the run promptly
// with a failed result, and a signal aborted before the run acts on nothing; `kind` is the name
// job rows give the executor and the one the server's routing picks it by; `resumable` names only
// steps the executor runs; a second run of a finished key acts no more where the executor keeps
// it from acting twice (SSH's journal on the host, Kubernetes' re-runs that do only what is left).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverExecutorFor, type ServerExecutors } from '../src/app/job-executors.js';
import type { ExecutorSettings, RolloutSettings } from '../src/domain/rollout/rollout-model.js';
import { createCommandHookExecutor } from '../src/executors/command-hook.js';
import type { ExecutedStep, Executor, ExecutorTarget } from '../src/executors/executor.js';
import { createKubernetesExecutor } from '../src/executors/kubernetes/kubernetes-executor.js';
import { createSshExecutor, journalEntryName, type SshExecutorSettings } from '../src/executors/ssh/ssh-executor.js';
import { HOST_STEPS, MAX_JOB_OUTPUT_BYTES, hostJobSchema, jobResultSchema, type HostJob, type HostStep } from '../src/protocol/job-protocol.js';
import type { ClaimedJob } from '../src/store/job-queue.js';
import { freePort } from './rollout-servers.js';
import { startKubeApiServer } from '../src/simulator/simulated-kubernetes-api.js';
import { createNetnsHosts, netnsUnavailableReason } from './support/netns-hosts.js';
import { buildTestAptRepository } from './test-hosts.js';

/** An executor and the host (or node) it is pointed at. */
interface Subject {
  executor: Executor;
  target: ExecutorTarget;
}

/** A job and the host (or node) it is for. */
interface Step {
  job: HostJob;
  target: ExecutorTarget;
}

interface ContractHarness {
  /** The name job rows give this executor (`rollout_jobs.executor`). */
  kind: ClaimedJob['executor'];
  /** What the server's job worker is configured with, and the rollout settings that route a job to this executor. */
  routing: { executors: ServerExecutors; executor?: ExecutorSettings };
  /** The steps it runs; any other is refused with `refusal(step)`. */
  steps: ReadonlySet<HostStep>;
  refusal(step: HostStep): string;
  subject: Subject;
  /** Where nothing answers: an unreachable host or cluster, a hook file that does not exist. */
  unreachable: Subject;
  /** A quick job that changes its target, another one for each attempt; `trace()` shows what the jobs changed. */
  acting(attempt: number): Step;
  trace(): unknown;
  /**
   * How a second run of a finished key is kept from acting again: by the executor's journal on
   * the host, by re-runs that do only what is left (resumable steps), or not by the executor at
   * all (the job worker never runs a reported key and answers `interrupted` for a started one).
   */
  repeat: 'journal' | 'resumable' | 'worker';
  /** A step that prints far more than MAX_JOB_OUTPUT_BYTES (control characters among it where the step's output can carry them); `END` is the last of it. */
  chatty(): Step;
  /** A step that runs until it is stopped, and whether it has begun. */
  slow(attempt: number): Step & { begun(): boolean };
  /** Contract clauses this executor breaks today (test name → the bug, and how the clause fails because of it): expected failures, so the fix shows. */
  knownBugs?: Readonly<Record<string, { bug: string; fails: RegExp }>>;
  close(): Promise<void>;
}

interface HarnessEntry {
  name: string;
  /** Why this executor cannot be tested here (then its suite is skipped, saying why). */
  unavailable?: string;
  create(): Promise<ContractHarness>;
}

/** A promptly ended step ends within this (SSH leaves itself a little time to journal the result). */
const PROMPT_MS = 5_000;
const CHATTY_COMMAND = `i=0; while [ $i -lt 3000 ]; do printf '\\033[1;32mok\\033[0m line %05d of a chatty check\\001\\000\\n' $i; i=$((i + 1)); done; printf 'END\\n'`;
const check = (name: string, command: string, timeoutMs = 30_000) => ({ name, command, timeoutMs, allowedExitCodes: [0] });

function hostJob(step: HostStep, host: string, attempt: number, fields: Partial<HostJob> = {}, deadlineMs = 120_000): HostJob {
  return hostJobSchema.parse({ key: `31:${host}:${step}:${attempt}`, rolloutId: 31, step, deadline: new Date(Date.now() + deadlineMs).toISOString(), ...fields });
}

const target = (name: string, labels: Record<string, string> = {}): ExecutorTarget => ({ name, labels, rolloutId: 31, bucket: 'contract' });

const ROLLOUT_SETTINGS: RolloutSettings = {
  maxInFlight: 1, errorBudget: 0, soakMs: 0, promotion: 'automatic', preChecks: [], postChecks: [],
  reboot: { policy: 'if-required', timeoutMs: 300_000, onTimeout: 'page' }, rollback: { automatic: true, commands: [], timeoutMs: 600_000 },
  expectedHostMs: 60_000, staleAfterMs: 3_600_000,
};

// ---- the command hook: a real runbook script, logging every run ----

function commandHookHarness(): HarnessEntry {
  return {
    name: 'command-hook',
    async create() {
      const directory = mkdtempSync(join(tmpdir(), 'fp-contract-hook-'));
      const runs = join(directory, 'runs.log');
      const hook = join(directory, 'patch-host.sh');
      writeFileSync(hook, `#!/bin/sh
set -eu
echo "$FLEETPATCH_JOB_KEY $1 $FLEETPATCH_PACKAGES" >> '${runs}'
case "$1" in
  --upgrade) echo '{"replaced":[]}' ;;
  --reboot|--rollback|--provision|--retire) ;;
  *) echo "unknown flag $1" >&2; exit 2 ;;
esac
`, { mode: 0o755 });
      const executor = createCommandHookExecutor({ command: hook });
      return {
        kind: 'command-hook',
        routing: { executors: {}, executor: { kind: 'command-hook', command: hook, stepTimeoutMs: 600_000 } },
        steps: new Set<HostStep>(['pre-check', 'post-check', 'upgrade', 'reboot', 'rollback', 'provision', 'retire']),
        refusal: (step) => `the command hook does not run ${step} steps`,
        subject: { executor, target: target('hook-1') },
        unreachable: { executor: createCommandHookExecutor({ command: join(directory, 'no-such-hook.sh') }), target: target('hook-1') },
        acting: (attempt) => ({ job: hostJob('upgrade', 'hook-1', attempt, { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] }), target: target('hook-1') }),
        trace: () => (existsSync(runs) ? readFileSync(runs, 'utf8') : ''),
        repeat: 'worker',
        chatty: () => ({ job: hostJob('post-check', 'hook-1', 1, { commands: [check('chatty', CHATTY_COMMAND)] }), target: target('hook-1') }),
        slow: (attempt) => {
          const marker = join(directory, `slow-${attempt}`);
          return { job: hostJob('post-check', 'hook-1', 10 + attempt, { commands: [check('slow', `touch '${marker}'; sleep 8`)] }), target: target('hook-1'), begun: () => existsSync(marker) };
        },
        close: async () => rmSync(directory, { recursive: true, force: true }),
      };
    },
  };
}

// ---- SSH: one host in a network namespace, its key pinned ----

function sshHarness(): HarnessEntry {
  const unavailable = netnsUnavailableReason();
  return {
    name: 'ssh',
    ...(unavailable ? { unavailable } : {}),
    async create() {
      const directory = mkdtempSync(join(tmpdir(), 'fp-contract-ssh-'));
      const repository = buildTestAptRepository(join(directory, 'repository'));
      const fleet = await createNetnsHosts({ names: ['ssh-c1'], repository });
      const host = fleet.hosts[0]!;
      const knownHostsPath = join(directory, 'known_hosts');
      writeFileSync(knownHostsPath, `${host.address} ${host.hostKey}\n`);
      const settings: SshExecutorSettings = { user: 'root', port: 22, sudo: false, addressLabel: 'ssh-address', trustOnFirstUse: false };
      const make = (overrides: Partial<SshExecutorSettings> = {}) => createSshExecutor({ settings: { ...settings, ...overrides }, privateKeyPath: fleet.clientKeyPath, knownHostsPath, connectTimeoutMs: 10_000, reconnectBackoff: { initialMs: 200, maxMs: 500 } });
      const aptTransactions = () => {
        const history = join(host.root, 'var/log/apt/history.log');
        return existsSync(history) ? readFileSync(history, 'utf8').split('\n').filter((line) => line.startsWith('Start-Date:')).length : 0;
      };
      const dpkg = () => execFileSync('dpkg-query', [`--admindir=${join(host.root, 'var/lib/dpkg')}`, '-W', '-f', '${Package}=${Version}\n'], { encoding: 'utf8' });
      return {
        kind: 'ssh',
        routing: { executors: { ssh: (routed) => createSshExecutor({ settings: routed, privateKeyPath: fleet.clientKeyPath, knownHostsPath }) }, executor: { kind: 'ssh', ...settings } },
        steps: new Set<HostStep>(['pre-check', 'upgrade', 'reboot', 'post-check', 'rollback', 'collect-facts']),
        refusal: (step) => `the ssh executor does not run ${step} steps`,
        subject: { executor: make(), target: target(host.name, host.labels) },
        // Nothing listens on port 1 of the host's address.
        unreachable: { executor: make({ port: 1 }), target: target(host.name, host.labels) },
        acting: (attempt) => ({ job: hostJob('upgrade', host.name, attempt, { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] }), target: target(host.name, host.labels) }),
        // The host's own dpkg database, apt's record of its transactions and the journal's entries.
        trace: () => ({ dpkg: dpkg(), transactions: aptTransactions(), journal: host.journalEntries() }),
        repeat: 'journal',
        chatty: () => ({ job: hostJob('post-check', host.name, 1, { commands: [check('chatty', CHATTY_COMMAND)] }), target: target(host.name, host.labels) }),
        slow: (attempt) => {
          const marker = join(host.root, `slow-${attempt}`);
          return { job: hostJob('post-check', host.name, 10 + attempt, { commands: [check('slow', `touch "\${FLEETPATCH_ROOT}slow-${attempt}"; sleep 8`)] }), target: target(host.name, host.labels), begun: () => existsSync(marker) };
        },
        close: async () => {
          await fleet.destroy();
          rmSync(directory, { recursive: true, force: true });
        },
      };
    },
  };
}

// ---- Kubernetes: the in-test API server ----

function kubernetesHarness(): HarnessEntry {
  return {
    name: 'kubernetes',
    async create() {
      const server = await startKubeApiServer();
      server.addNode({ name: 'node-1' });
      server.addNode({ name: 'node-2' });
      // Cordoned already, running only finished Job pods with long names: a drain that only logs.
      server.addNode({ name: 'node-chatty', unschedulable: true });
      for (let index = 0; index < 1_500; index++) {
        server.addPod({ namespace: 'batch', name: `nightly-report-with-a-rather-long-generated-name-${String(index).padStart(5, '0')}`, node: 'node-chatty', phase: 'Succeeded', owner: { kind: 'Job', name: 'nightly-report' } });
      }
      // Its kubelet never reports Ready: an await-ready that waits until it is stopped.
      server.addNode({ name: 'node-down', ready: false });
      const executor = createKubernetesExecutor({ kubeConfig: server.kubeConfig(), pollMs: 50, maxRetryMs: 200 });
      const nowhere = new KubeConfig();
      nowhere.loadFromOptions({
        clusters: [{ name: 'gone', server: `http://127.0.0.1:${await freePort()}`, skipTLSVerify: true }],
        users: [{ name: 'gone', token: 'test-token' }],
        contexts: [{ name: 'gone', cluster: 'gone', user: 'gone' }],
        currentContext: 'gone',
      });
      let slowStarted = Number.POSITIVE_INFINITY;
      return {
        kind: 'kubernetes',
        routing: { executors: { kubernetes: executor } },
        steps: new Set<HostStep>(['cordon', 'drain', 'await-ready', 'uncordon']),
        refusal: (step) => `the kubernetes executor runs cordon, drain, await-ready and uncordon, not ${step}`,
        subject: { executor, target: target('node-1') },
        unreachable: { executor: createKubernetesExecutor({ kubeConfig: nowhere, pollMs: 50, maxRetryMs: 200 }), target: target('node-1') },
        // Each attempt cordons a node of its own (its target names it), so each run's change is its own.
        acting: (attempt) => ({ job: hostJob('cordon', `node-${attempt}`, attempt), target: target(`node-${attempt}`) }),
        trace: () => ['node-1', 'node-2'].map((name) => {
          const node = server.node(name);
          return { name, unschedulable: node.spec.unschedulable === true, annotations: node.metadata.annotations, resourceVersion: node.metadata.resourceVersion };
        }),
        repeat: 'resumable',
        chatty: () => ({ job: hostJob('drain', 'node-chatty', 1, { drain: { stuckAfterMs: 60_000, deleteEmptyDirData: false } }), target: target('node-chatty') }),
        slow: (attempt) => {
          slowStarted = Date.now();
          // It polls the node every 50 ms from its start: a few polls in, it is waiting.
          return { job: hostJob('await-ready', 'node-down', 10 + attempt), target: target('node-down'), begun: () => Date.now() - slowStarted > 300 };
        },
        close: () => server.close(),
      };
    },
  };
}

const HARNESSES: HarnessEntry[] = [commandHookHarness(), sshHarness(), kubernetesHarness()];

for (const entry of HARNESSES) if (entry.unavailable) console.warn(`executor contract: ${entry.name} skipped: ${entry.unavailable}`);

describe.each(HARNESSES)('the executor contract: $name', (entry) => {
  let harness: ContractHarness;
  const logs: string[] = [];

  beforeAll(async () => {
    if (!entry.unavailable) harness = await entry.create();
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  /** A contract clause; an expected failure where the harness names it a known bug. */
  function clause(name: string, test: () => Promise<void>, timeoutMs = 60_000): void {
    it.skipIf(entry.unavailable !== undefined)(name, async () => {
      const known = harness.knownBugs?.[name];
      if (!known) return test();
      // A known bug: the clause must still fail, and because of it; once it passes, the bug is fixed and its entry goes.
      await expect(test(), `known bug, now fixed? ${known.bug}`).rejects.toThrow(known.fails);
    }, timeoutMs);
  }

  const context = (signal: AbortSignal = new AbortController().signal) => ({ signal, log: (message: string) => logs.push(message), firstStartedAt: new Date(), now: () => new Date() });

  /** Runs `job` and checks what every result must be: never a throw, always a result the protocol accepts. */
  async function run(executor: Executor, { job, target: on }: Step, signal?: AbortSignal): Promise<ExecutedStep> {
    const executed = await executor.run(job, on, context(signal));
    expectAccepted(executed);
    return executed;
  }

  function expectAccepted(executed: ExecutedStep): void {
    const parsed = jobResultSchema.safeParse(executed.result);
    expect(parsed.success, parsed.error?.message).toBe(true);
    expect(parsed.data).toEqual(executed.result);
    const { startedAt, finishedAt, output } = executed.result;
    expect(new Date(startedAt).toISOString()).toBe(startedAt);
    expect(new Date(finishedAt).toISOString()).toBe(finishedAt);
    expect(Date.parse(finishedAt)).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(MAX_JOB_OUTPUT_BYTES);
  }

  clause('is named as job rows name it, and the server routes those jobs to it', async () => {
    expect(harness.subject.executor.kind).toBe(harness.kind);
    const { job, target: on } = harness.acting(1);
    const claimed: ClaimedJob = {
      key: job.key, host: on.name, rolloutId: job.rolloutId, bucket: 'contract', executor: harness.kind, job, labels: on.labels,
      settings: { ...ROLLOUT_SETTINGS, ...(harness.routing.executor ? { executor: harness.routing.executor } : {}) },
      startedBefore: false, firstStartedAt: new Date(),
    };
    const routed = serverExecutorFor(harness.routing.executors)(claimed);
    expect(routed).not.toHaveProperty('unavailable');
    expect((routed as Executor).kind).toBe(harness.kind);
    // Configured without it, the server says so instead of running the job elsewhere.
    if (harness.kind !== 'command-hook') expect(serverExecutorFor({})(claimed)).toHaveProperty('unavailable');
  });

  clause('names only steps it runs as resumable', async () => {
    for (const step of harness.subject.executor.resumable) expect(harness.steps.has(step), step).toBe(true);
  });

  clause('answers every step with a result, never a throw, where nothing answers; refuses the steps it does not run', async () => {
    for (const step of HOST_STEPS) {
      const job = hostJob(step, harness.unreachable.target.name, 90, step === 'drain' ? { drain: { stuckAfterMs: 1_000, deleteEmptyDirData: false } } : {}, 3_000);
      const started = Date.now();
      const { result } = await run(harness.unreachable.executor, { job, target: harness.unreachable.target });
      if (harness.steps.has(step)) {
        expect(result.error, step).not.toBe(harness.refusal(step));
        // A missing hook's checks have no command of the hook to run; everything else fails.
        if (!(harness.kind === 'command-hook' && (step === 'pre-check' || step === 'post-check'))) expect(result.outcome, `${step}: ${result.error}`).toBe('failed');
      } else {
        expect(result, step).toMatchObject({ outcome: 'failed', error: harness.refusal(step) });
      }
      expect(Date.now() - started, step).toBeLessThan(3_000 + PROMPT_MS);
    }
    // A step it does not run is refused on a reachable target too, before anything is asked of it.
    const before = harness.trace();
    for (const step of HOST_STEPS.filter((candidate) => !harness.steps.has(candidate))) {
      expect((await run(harness.subject.executor, { job: hostJob(step, harness.subject.target.name, 91), target: harness.subject.target })).result, step).toMatchObject({ outcome: 'failed', error: harness.refusal(step) });
    }
    expect(harness.trace()).toEqual(before);
  }, 120_000);

  clause('acts once per key where it says so: a second run of a finished key changes nothing more', async () => {
    const before = harness.trace();
    const acting = harness.acting(1);
    const first = await run(harness.subject.executor, acting);
    expect(first.result.outcome, first.result.error).toBe('succeeded');
    const acted = harness.trace();
    expect(acted).not.toEqual(before);
    const second = await run(harness.subject.executor, acting);
    expect(second.result.outcome).toBe('succeeded');
    if (harness.repeat === 'worker') {
      // Not this executor's promise: the job worker never runs a reported key, and a key started
      // without a result is answered `interrupted` unless its step is resumable (none is here).
      expect(harness.subject.executor.resumable.has(acting.job.step)).toBe(false);
      expect(harness.trace(), 'the executor itself runs a key again').not.toEqual(acted);
      return;
    }
    expect(harness.trace()).toEqual(acted);
    if (harness.repeat === 'journal') expect(second.result).toEqual(first.result);
    else expect(harness.subject.executor.resumable.has(acting.job.step)).toBe(true);
  });

  clause('keeps every result one the job protocol accepts, even a chatty step\'s', async () => {
    const { result } = await run(harness.subject.executor, harness.chatty());
    expect(result.outcome, result.error).toBe('succeeded');
    // Only the tail is kept: it is the most of it that fits, and it ends where the step ended.
    expect(Buffer.byteLength(result.output)).toBeGreaterThan(MAX_JOB_OUTPUT_BYTES / 2);
    expect(result.output.trimEnd().split('\n').at(-1)).toMatch(/END|drained/);
  });

  clause('ends promptly with a failed result when its signal aborts mid-step', async () => {
    const stop = new AbortController();
    const { job, target: on, begun } = harness.slow(1);
    const running = harness.subject.executor.run(job, on, context(stop.signal));
    let settled = false;
    void running.finally(() => (settled = true));
    for (let waited = 0; !begun() && !settled && waited < 30_000; waited += 25) await sleep(25);
    expect(settled, 'the slow step ended on its own').toBe(false);
    const abortedAt = Date.now();
    stop.abort();
    const executed = await running;
    expect(Date.now() - abortedAt).toBeLessThan(PROMPT_MS);
    expectAccepted(executed);
    expect(executed.result.outcome).toBe('failed');
    expect(executed.result.error).toMatch(/interrupted|stopped/);
  });

  clause('acts on nothing when the signal was aborted before the run', async () => {
    const stop = new AbortController();
    stop.abort();
    const before = harness.trace();
    const started = Date.now();
    const executed = await Promise.race([run(harness.subject.executor, harness.acting(2), stop.signal), sleep(PROMPT_MS).then(() => undefined)]);
    expect(executed, 'still running after the abort').toBeDefined();
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    expect(harness.trace(), 'it acted after the abort').toEqual(before);
    expect(executed!.result.outcome).toBe('failed');
  });

  if (entry.name === 'ssh') {
    clause('(ssh) journals each acting key on the host under its entry name', async () => {
      const journal = (harness.trace() as { journal: string[] }).journal;
      expect(journal).toContain(journalEntryName(harness.acting(1).job.key));
      expect(journal).not.toContain(journalEntryName(harness.acting(2).job.key));
    });
  }
});
