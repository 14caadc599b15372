// The CLI against a real PostgreSQL: malformed input is rejected with file/line/field and changes
// nothing; a process killed in the middle of an import leaves the database consistent.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './cli.js';
import { sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

async function counts(database: TestDatabase) {
  const result = await database.pool.query(
    `SELECT (SELECT count(*) FROM advisories)::int AS advisories, (SELECT count(*) FROM hosts)::int AS hosts,
            (SELECT count(*) FROM findings)::int AS findings, (SELECT count(*) FROM package_versions)::int AS packages`,
  );
  return result.rows[0] as { advisories: number; hosts: number; findings: number; packages: number };
}

describe('fleetpatch CLI on the database', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
  });
  afterAll(async () => database.drop());

  it('refuses host names and labels no agent could enroll with, storing nothing', async () => {
    const before = await counts(database);
    const inventory = sharedData('inventories/almalinux-9.2-rpm-qa.txt');
    for (const host of ['a/b', '\u001b[31mred', 'line\nbreak', 'x'.repeat(254), '-leading-dash', '<img src=x onerror=alert(1)>']) {
      const result = await runCli(['inventory', 'import', inventory, '--host', host, '--distro', 'almalinux:9'], env);
      expect(result.code, JSON.stringify(host)).toBe(2);
      expect(result.stderr).toMatch(/field --host: not a host name/);
    }
    const label = await runCli(['inventory', 'import', inventory, '--host', 'ok-1', '--distro', 'almalinux:9', '--label', 'team=a\u0007b'], env);
    expect(label.code).toBe(2);
    expect(label.stderr).toMatch(/field --label: label contains a control character/);
    expect(await counts(database)).toEqual(before);
  });

  it('imports an inventory and lists its findings as JSON', async () => {
    const advisories = await runCli(['advisories', 'import', sharedData('osv/almalinux/almalinux9.zip')], env);
    expect(advisories.stderr).not.toMatch(/internal error/);
    expect(advisories.code).toBe(0);
    const imported = await runCli(
      ['inventory', 'import', sharedData('inventories/almalinux-9.2-rpm-qa.txt'), '--host', 'alma-1', '--os-release', sharedData('inventories/almalinux-9.2-os-release'), '--running-kernel', '5.14.0-284.11.1.el9_2.x86_64'],
      env,
    );
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/alma-1: 1277 packages \(rpm\); \d+ finding/);
    const listed = await runCli(['findings', '--host', 'alma-1', '--severity', 'critical', '--json'], env);
    expect(listed.code).toBe(0);
    const findings = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(finding).toMatchObject({ host: 'alma-1', severity: 'critical' });
      expect(finding).toHaveProperty('package');
      expect(finding).toHaveProperty('fixedVersion');
      expect(finding).toHaveProperty('riskExplanation');
    }
  }, 120_000);

  it('rejects a malformed inventory naming file, line and field, and stores nothing', async () => {
    const before = await counts(database);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-bad-'));
    const file = join(directory, 'status');
    writeFileSync(file, 'Package: bash\nStatus: install ok installed\nVersion: 5.2-1\n\nPackage: zlib1g\nStatus: install ok installed\n');
    const result = await runCli(['inventory', 'import', file, '--host', 'broken', '--distro', 'debian:12'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}, line 5, field Version: package zlib1g has no Version`);
    expect(await counts(database)).toEqual(before);
  });

  it('rejects a malformed advisory batch whole, naming file and field', async () => {
    const before = await counts(database);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-bad-osv-'));
    writeFileSync(join(directory, 'GOOD-1.json'), JSON.stringify({ id: 'GOOD-1', modified: '2026-01-01T00:00:00Z', affected: [] }));
    writeFileSync(join(directory, 'BAD-1.json'), JSON.stringify({ id: 'BAD-1', modified: 'yesterday', affected: [] }));
    const result = await runCli(['advisories', 'import', directory], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(directory, 'BAD-1.json')}, field modified: invalid OSV record (BAD-1): not an RFC 3339 timestamp`);
    expect(result.stderr).toContain('nothing was imported');
    expect(await counts(database)).toEqual(before);
  });

  it('leaves the database consistent when killed in the middle of an import', async () => {
    const fresh = await createTestDatabase();
    try {
      const freshEnv = { DATABASE_URL: fresh.connectionString };
      const zip = sharedData('osv/almalinux/almalinux8.zip');
      for (const delayMs of [50, 400, 900]) {
        const { child, done } = startCli(['advisories', 'import', zip], freshEnv);
        // Kill once the records are read and the transaction is writing them.
        await new Promise<void>((resolve) => {
          child.stderr!.on('data', (chunk: string) => {
            if (String(chunk).includes('new or changed advisories')) setTimeout(resolve, delayMs);
          });
          child.on('close', () => resolve());
        });
        child.kill('SIGKILL');
        await done;
        const { advisories } = await counts(fresh);
        // One transaction: all of the zip or none of it, never a part.
        expect([0, 3237]).toContain(advisories);
      }
      const completed = await runCli(['advisories', 'import', zip, '--json'], freshEnv);
      expect(completed.code).toBe(0);
      expect((await counts(fresh)).advisories).toBe(3237);
    } finally {
      await fresh.drop();
    }
  }, 180_000);
});
