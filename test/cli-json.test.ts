// Every command that reports data has --json (a script never parses a table), and the JSON of the
// write commands that had none (signals import, findings accept) says what was stored. The options
// of `findings accept` are its own, not the listing's filters of the same names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { runBuiltCli } from './cli.js';
import { sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** Commands that report data or what they stored; any `list` or `show` command counts too. */
const REPORTING = ['scan', 'hosts', 'findings', 'findings accept', 'inventory import', 'advisories import', 'advisories sync', 'signals import', 'report compliance', 'vex import', 'incident timeline', 'incident update', 'incident relax'];

function commandNames(command: Command, prefix = ''): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((child) => {
    const name = `${prefix}${child.name()}`;
    return [{ name, command: child }, ...commandNames(child, `${name} `)];
  });
}

describe('--json', () => {
  it('is offered by every command that reports data', () => {
    const commands = commandNames(buildProgram());
    const reporting = commands.filter(({ name, command }) => REPORTING.includes(name) || ['list', 'show'].includes(command.name()));
    expect(reporting.map(({ name }) => name)).toEqual(expect.arrayContaining(REPORTING));
    const lacking = reporting.filter(({ command }) => !command.options.some((option) => option.long === '--json')).map(({ name }) => name);
    expect(lacking).toEqual([]);
  });
});

describe('--json of write commands (built CLI)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
  });
  afterAll(async () => database?.drop());

  it('signals import --json reports the catalogue it stored', async () => {
    const result = await runBuiltCli(['signals', 'import', '--kev', sharedData('kev/known_exploited_vulnerabilities.json'), '--json'], { stdout: 'file', env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.toString('utf8')) as { kev: { catalogVersion: string; entries: number } };
    const stored = await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM kev_entries');
    expect(report.kev.entries).toBe(stored.rows[0]!.count);
    expect(report.kev.entries).toBeGreaterThan(1000);
    expect(report).not.toHaveProperty('epss');
  });

  it('findings accept --json reports the acceptance it recorded', async () => {
    const result = await runBuiltCli(['findings', 'accept', '--advisory', 'CVE-2026-1001', '--host', 'db-7', '--reason', 'not exposed', '--expires', '2099-01-31', '--by', 'tester', '--approved-by', 'reviewer', '--json'], { stdout: 'file', env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.toString('utf8'))).toEqual({
      id: expect.any(Number),
      advisory: 'CVE-2026-1001',
      host: 'db-7',
      package: null,
      reason: 'not exposed',
      acceptedBy: 'tester',
      approvedBy: 'reviewer',
      justification: null,
      expiresAt: '2099-01-31T00:00:00.000Z',
    });
  });
});
