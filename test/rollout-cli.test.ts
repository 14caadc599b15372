// `fleetpatch rollout` on a real PostgreSQL: three AlmaLinux 9.2 database hosts (one a canary) years
// behind, a policy whose databases bucket runs in place through the agent. The dry run shows the
// planner's waves and snapshot and stores nothing; create stores them; list, show and the operator
// actions work, each audited with its reason; refused actions and a missing reason are exit 2.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const POLICY = `version: 1
windows:
  database-evenings:
    timeZone: Europe/Berlin
    every: week
    days: [tuesday, thursday]
    start: "22:00"
    duration: 3h
    admissionCutoff: 30m
buckets:
  - name: databases
    owner: data-platform
    match:
      labels: { role: postgres }
    strategy: { kind: in-place }
    windows: [database-evenings]
    waves: [1, "100%"]
    maxInFlight: 1
    errorBudget: 1
`;

interface Draft { bucket: string; team: string; advisoryId?: string; snapshot: Array<{ name: string; version: string }>; waves: Array<{ wave: number; hosts: string[] }>; settings: { errorBudget: number; maxInFlight: number } }
interface Listed { id: number; state: string; bucket: string; hostCounts: Record<string, number>; createdBy: string }
interface Shown extends Listed { budgetLeft: number; failedHosts: number; waves: Array<{ wave: number; hosts: number; states: Record<string, number> }>; hosts: Array<{ host: string; wave: number; state: string; attempt: number; lastError?: string }>; events: Array<{ kind: string; host?: string; from?: string; to?: string; actor: string; detail?: string }> }

describe('fleetpatch rollout', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let policyFile: string;
  const actor = `cli:${process.env.USER ?? 'unknown'}`;
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await runCli([...args, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
    policyFile = join(mkdtempSync(join(tmpdir(), 'fleetpatch-rollout-cli-')), 'fleetpatch.yaml');
    writeFileSync(policyFile, POLICY);
    expect((await runCli(['advisories', 'import', sharedData('osv/almalinux/almalinux9.zip')], env)).code).toBe(0);
    for (const [host, canary] of [['pg-1', false], ['pg-2', false], ['pg-3', true]] as const) {
      const imported = await runCli(['inventory', 'import', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--host', host, '--distro', 'almalinux:9', '--running-kernel', '5.14.0-284.11.1.el9_2.x86_64', '--label', 'role=postgres', ...(canary ? ['--label', 'canary=true'] : [])], env);
      expect(imported.code, imported.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => database?.drop());

  it('needs a policy: an applied one or --policy FILE', async () => {
    const result = await runCli(['rollout', 'create', '--bucket', 'databases', '--dry-run'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/field --policy: no policy has been applied/);
  });

  it('dry run: the planner\'s waves (canary first) and one snapshot, nothing stored', async () => {
    expect((await runCli(['policy', 'apply', policyFile, '--message', 'databases in place'], env)).code).toBe(0);
    const draft = await json<Draft>(['rollout', 'create', '--bucket', 'databases', '--dry-run']);
    expect(draft.bucket).toBe('databases');
    expect(draft.team).toBe('data-platform');
    expect(draft.waves).toEqual([{ wave: 1, hosts: ['pg-3'] }, { wave: 2, hosts: ['pg-1', 'pg-2'] }]);
    expect(draft.settings).toMatchObject({ errorBudget: 1, maxInFlight: 1 });
    // 9.2 is years behind: hundreds of packages, the kernel among them, each once.
    expect(draft.snapshot.length).toBeGreaterThan(100);
    expect(draft.snapshot.some((target) => target.name === 'kernel-core')).toBe(true);
    expect(new Set(draft.snapshot.map((target) => target.name)).size).toBe(draft.snapshot.length);
    const text = await runCli(['rollout', 'create', '--bucket', 'databases', '--dry-run'], env);
    expect(text.stdout).toMatch(/^dry run, nothing stored: bucket databases \(owned by data-platform\): 3 hosts in 2 waves/);
    expect(text.stdout).toContain('  wave 1: pg-3\n  wave 2: pg-1, pg-2\n');
    expect(await json<Listed[]>(['rollout', 'list'])).toEqual([]);
  });

  it('dry run of one advisory\'s fix: only the packages it names', async () => {
    const [finding] = await json<Array<{ advisoryId: string; package: string }>>(['findings', '--host', 'pg-1', '--severity', 'high', '--limit', '1']);
    const draft = await json<Draft>(['rollout', 'create', '--bucket', 'databases', '--advisory', finding!.advisoryId, '--dry-run']);
    expect(draft.advisoryId).toBe(finding!.advisoryId);
    expect(draft.snapshot.map((target) => target.name)).toContain(finding!.package);
    const everything = await json<Draft>(['rollout', 'create', '--bucket', 'databases', '--dry-run']);
    expect(draft.snapshot.length).toBeLessThan(everything.snapshot.length);
    expect(draft.snapshot.every((target) => everything.snapshot.some((all) => all.name === target.name))).toBe(true);
  });

  it('creates the rollout, lists and shows it with its waves, budget and timeline', async () => {
    const created = await json<{ id: number; draft: Draft }>(['rollout', 'create', '--bucket', 'databases', '--reason', 'monthly patching']);
    expect(created.id).toBe(1);
    const listed = await json<Listed[]>(['rollout', 'list']);
    expect(listed.map((rollout) => [rollout.id, rollout.state, rollout.bucket, rollout.hostCounts, rollout.createdBy])).toEqual([[1, 'created', 'databases', { pending: 3 }, actor]]);
    expect(await json<Listed[]>(['rollout', 'list', '--state', 'running'])).toEqual([]);
    expect(await json<Listed[]>(['rollout', 'list', '--bucket', 'web'])).toEqual([]);
    const table = await runCli(['rollout', 'list'], env);
    expect(table.stdout).toMatch(/^\s*1\s+created\s+databases\s+0\/2\s+3 pending\s/m);

    const shown = await json<Shown>(['rollout', 'show', '1']);
    expect(shown.waves).toEqual([{ wave: 1, hosts: 1, states: { pending: 1 } }, { wave: 2, hosts: 2, states: { pending: 2 } }]);
    expect([shown.budgetLeft, shown.failedHosts]).toEqual([1, 0]);
    expect(shown.hosts.map((host) => [host.host, host.wave, host.state, host.attempt])).toEqual([['pg-3', 1, 'pending', 1], ['pg-1', 2, 'pending', 1], ['pg-2', 2, 'pending', 1]]);
    expect(shown.events.map((event) => [event.kind, event.to, event.actor, event.detail])).toEqual([['rollout', 'created', actor, '3 hosts in 2 waves']]);
    const text = await runCli(['rollout', 'show', '1'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^rollout 1: created\n/);
    expect(text.stdout).toContain('error budget left: 1 of 1 (0 failed)');
    expect(text.stdout).toMatch(/^\s+2\s+2\s+2 pending$/m);
    expect(text.stdout).toMatch(/^pg-3\s+1\s+pending\s+1\s/m);
    expect(text.stdout).toContain('no gates');
  });

  it('pauses, resumes, skips and aborts, each with its reason on the timeline and in the audit log', async () => {
    const run = async (args: string[]) => {
      const result = await runCli(args, env);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(await run(['rollout', 'pause', '1', '--reason', 'INC-42: replication lag'])).toBe('rollout 1: pause done, now paused\n');
    expect((await json<Shown>(['rollout', 'show', '1'])).state).toBe('paused');
    expect(await run(['rollout', 'resume', '1', '--reason', 'lag gone'])).toBe('rollout 1: resume done, now created\n');
    expect(await run(['rollout', 'skip', '1', 'pg-2', '--reason', 'decommissioned next week'])).toBe('rollout 1: pg-2 skipped, now skipped\n');
    expect(await run(['rollout', 'abort', '1', '--reason', 'wrong snapshot'])).toBe('rollout 1: abort done, now canceled\n');

    const shown = await json<Shown>(['rollout', 'show', '1']);
    expect(shown.state).toBe('canceled');
    expect(shown.hosts.map((host) => [host.host, host.state])).toEqual([['pg-3', 'skipped'], ['pg-1', 'skipped'], ['pg-2', 'skipped']]);
    expect(shown.hosts.find((host) => host.host === 'pg-2')!.lastError).toBe(`skipped by ${actor}: decommissioned next week`);
    expect(shown.events.slice(1).map((event) => [event.kind, event.host ?? null, event.from, event.to, event.actor])).toEqual([
      ['pause', null, 'created', 'paused', actor],
      ['resume', null, 'paused', 'created', actor],
      ['skip', 'pg-2', 'pending', 'skipped', actor],
      ['abort', null, 'created', 'canceled', actor],
    ]);

    const audit = await json<Array<{ action: string; actor: string; subject: string; reason?: string }>>(['audit', 'log', '--action', 'rollout']);
    expect(audit.map((entry) => [entry.action, entry.actor, entry.subject, entry.reason ?? null]).reverse()).toEqual([
      ['rollout.created', actor, 'rollout:1', 'monthly patching'],
      ['rollout.pause', actor, 'rollout:1', 'INC-42: replication lag'],
      ['rollout.resume', actor, 'rollout:1', 'lag gone'],
      ['rollout.host.skip', actor, 'rollout:1/host:pg-2', 'decommissioned next week'],
      ['rollout.abort', actor, 'rollout:1', 'wrong snapshot'],
    ]);
  });

  it('refuses what does not apply, and a missing reason, with exit 2 and why', async () => {
    const second = await json<{ id: number }>(['rollout', 'create', '--bucket', 'databases']);
    const id = String(second.id);
    for (const [args, message] of [
      [['rollout', 'retry', id, 'pg-1', '--reason', 'again'], /pg-1 is pending; only a failed, timed-out, stuck, rolled-back, skipped or agent-less host is retried/],
      [['rollout', 'approve', id, '--reason', 'go'], new RegExp(`rollout ${id} is created: no wave waits for approval`)],
      [['rollout', 'resume', id, '--reason', 'go'], /only a paused or halted rollout resumes/],
      [['rollout', 'pause', '1', '--reason', 'again'], /rollout 1 is canceled: it has ended; nothing to pause/],
      [['rollout', 'pause', id], /field --reason: a reason is required/],
      [['rollout', 'skip', id, 'pg-1', '--reason', '  '], /field --reason: a reason is required/],
      [['rollout', 'skip', id, 'nobody', '--reason', 'typo'], /field host: host "nobody" is not in rollout/],
      [['rollout', 'show', '999'], /field id: no rollout 999/],
      [['rollout', 'show', 'one'], /field id: not a rollout id: one/],
      [['rollout', 'list', '--state', 'sleeping'], /field --state: unknown state: sleeping/],
      [['rollout', 'create', '--bucket', 'web', '--dry-run'], /field bucket: no bucket named "web"/],
      [['rollout', 'create', '--dry-run'], /required option '--bucket <name>'/],
    ] as const) {
      const result = await runCli([...args], env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    // Nothing refused reached the audit log or changed the rollout.
    expect((await json<Shown>(['rollout', 'show', id])).events).toHaveLength(1);
    expect((await json<Array<{ action: string }>>(['audit', 'log', '--action', 'rollout'])).map((entry) => entry.action)).toEqual(['rollout.created', 'rollout.abort', 'rollout.host.skip', 'rollout.resume', 'rollout.pause', 'rollout.created']);
    // Fourteen CLI processes, each starting Node and tsx: on two busy cores that is more than a minute.
  }, 180_000);
});
