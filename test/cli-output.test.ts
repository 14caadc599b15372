// Every read command's output is complete when stdout is a pipe whose reader is slow (the pipe
// fills and the CLI must wait before it exits): the same bytes as redirected to a file, JSON that
// parses, and the exit code kept (1 for --fail-on, 2 for bad input). A reader that goes away
// ends the CLI quietly with 141, as SIGPIPE ends other tools.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import type { HostInventory } from '../src/domain/types.js';
import { runBuiltCli, type BuiltCliResult } from './cli.js';
import { repoRoot, sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const MIB = 1024 * 1024;
const SCAN = ['scan', '--inventory', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--distro', 'almalinux:9', '--advisories', sharedData('osv/almalinux/almalinux9.zip')];

/** Runs the command twice, stdout on a slowly read pipe and into a file; both must agree. */
async function pipedAndFiled(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<BuiltCliResult> {
  const piped = await runBuiltCli(args, { ...options, stdout: 'slow-pipe' });
  const filed = await runBuiltCli(args, { ...options, stdout: 'file' });
  expect(piped.stderr).not.toMatch(/internal error|EPIPE|EAGAIN/);
  expect({ code: piped.code, bytes: piped.stdout.length }).toEqual({ code: filed.code, bytes: filed.stdout.length });
  expect(piped.stdout.equals(filed.stdout)).toBe(true);
  return piped;
}

function parseJsonArray(output: Buffer): unknown[] {
  const parsed: unknown = JSON.parse(output.toString('utf8'));
  expect(Array.isArray(parsed)).toBe(true);
  return parsed as unknown[];
}

describe('large output on a slow pipe (built CLI)', () => {
  it('scan --json: 1.4 MB of findings, complete', async () => {
    const result = await pipedAndFiled([...SCAN, '--json']);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(MIB);
    expect(parseJsonArray(result.stdout).length).toBeGreaterThan(2000);
  });

  it('scan --json --fail-on high: complete output and exit 1', async () => {
    const result = await pipedAndFiled([...SCAN, '--json', '--fail-on', 'high']);
    expect(result.code).toBe(1);
    expect(result.stdout.length).toBeGreaterThan(MIB);
    parseJsonArray(result.stdout);
  });

  it('scan as a table: every line, the summary last', async () => {
    const result = await pipedAndFiled(SCAN);
    expect(result.code).toBe(0);
    const lines = result.stdout.toString('utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(2000);
    expect(lines.at(-1)).toMatch(/^\d+ finding\(s\) from \d+ advisories/);
  });

  it('versions compare on standard input: 400,000 results, and exit 2 after a bad line with the results before it', async () => {
    const pairs = Array.from({ length: 400_000 }, (_, index) => `1.0-${index % 7} 1.0-${index + 7}`).join('\n');
    const complete = await pipedAndFiled(['versions', 'compare', '--ecosystem', 'dpkg'], { input: `${pairs}\n` });
    expect(complete.code).toBe(0);
    expect(complete.stdout.toString('utf8').trimEnd().split('\n')).toHaveLength(400_000);
    expect(complete.stdout.length).toBeGreaterThan(MIB);
    const broken = await pipedAndFiled(['versions', 'compare', '--ecosystem', 'dpkg'], { input: `${pairs}\n1.0 2.0 3.0\n` });
    expect(broken.code).toBe(2);
    expect(broken.stdout.equals(complete.stdout)).toBe(true);
    expect(broken.stderr).toContain('<stdin>, line 400001');
  });

  it('a reader that goes away ends the CLI with 141 and nothing on stderr', async () => {
    const child = spawn(process.execPath, [resolve(repoRoot, 'bin/fleetpatch.js'), ...SCAN, '--json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    expect(first.toString('utf8')).toMatch(/^\[/);
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
  });
});

describe('large output of database commands on a slow pipe (built CLI)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
    const advisories = await runBuiltCli(['advisories', 'import', sharedData('osv/almalinux/almalinux9.zip')], { stdout: 'file', env });
    expect(advisories.code, advisories.stderr).toBe(0);
    for (const host of ['alma-1', 'alma-2']) {
      const imported = await runBuiltCli(['inventory', 'import', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--host', host, '--distro', 'almalinux:9'], { stdout: 'file', env });
      expect(imported.code, imported.stderr).toBe(0);
    }
    // Enough hosts for a hosts listing above 1 MiB, stored directly (one CLI run per host would take minutes).
    const detection = await DetectionService.load(database.pool);
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`label-${index}`, `value-${index}-${'v'.repeat(40)}`]));
    const hosts: HostInventory[] = Array.from({ length: 3000 }, (_, index) => ({
      hostname: `fleet-${String(index).padStart(4, '0')}`,
      osEcosystem: 'AlmaLinux:9',
      packages: [],
      kernel: { installed: [] },
      rebootRequired: false,
      labels,
    }));
    await importInventories(database.pool, detection, hosts, { source: 'test' });
  }, 240_000);
  afterAll(async () => database?.drop());

  it('findings --json: every finding of two hosts, and exit 1 with --fail-on', async () => {
    const result = await pipedAndFiled(['findings', '--json', '--limit', '100000'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(MIB);
    expect(parseJsonArray(result.stdout).length).toBeGreaterThan(4000);
    const failing = await pipedAndFiled(['findings', '--json', '--limit', '100000', '--fail-on', 'high'], { env });
    expect(failing.code).toBe(1);
    expect(failing.stdout.equals(result.stdout)).toBe(true);
  }, 120_000);

  it('findings as a table: every row', async () => {
    const result = await pipedAndFiled(['findings', '--limit', '100000'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.toString('utf8').trimEnd().split('\n').length).toBeGreaterThan(4000);
  }, 120_000);

  it('hosts --json and the hosts table: all 3002 hosts', async () => {
    const json = await pipedAndFiled(['hosts', '--json'], { env });
    expect(json.code).toBe(0);
    expect(json.stdout.length).toBeGreaterThan(MIB);
    expect(parseJsonArray(json.stdout)).toHaveLength(3002);
    const table = await pipedAndFiled(['hosts'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout.toString('utf8').trimEnd().split('\n')).toHaveLength(3003);
  }, 120_000);

  it('findings with a bad filter: exit 2 and a message', async () => {
    const result = await pipedAndFiled(['findings', '--severity', 'dire', '--json'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown value dire');
  });
});
