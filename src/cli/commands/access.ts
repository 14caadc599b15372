/**
 * Access that can be given and taken back, from the command line: `fleetpatch tokens …`,
 * `fleetpatch enrollment-tokens …`, and the `hosts retire | revoke-credential | approve-enrollment`
 * subcommands. They write the database directly; every running server hears the change at once.
 */
import type { Command } from 'commander';
import { retireHost } from '../../app/host-access.js';
import { InputError } from '../../domain/errors.js';
import { hostNameProblem } from '../../domain/host-name.js';
import {
  approveReenrollment,
  createApiToken,
  createEnrollmentToken,
  listApiTokens,
  listEnrollmentTokens,
  revokeAgentCredential,
  revokeApiToken,
  revokeEnrollmentToken,
  type Role,
} from '../../store/auth-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const OPERATOR = `cli:${process.env.USER ?? 'unknown'}`;

export function registerAccessCommands(program: Command, hosts: Command): void {
  const tokens = program.command('tokens').description('API tokens: list, create, revoke.');
  tokens
    .command('list')
    .description('List API tokens (never their secrets), revoked ones included.')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(createProgress(!options.json), (database) => listApiTokens(database.pool));
      if (options.json) return print(rows);
      process.stdout.write(rows.length === 0 ? 'no tokens\n' : renderTable(rows, [
        { header: 'ID', value: (row) => String(row.id), align: 'right' },
        { header: 'NAME', value: (row) => row.name },
        { header: 'ROLE', value: (row) => row.role },
        { header: 'LAST USED', value: (row) => when(row.lastUsedAt) },
        { header: 'REVOKED', value: (row) => when(row.revokedAt, '') },
      ]));
    });
  tokens
    .command('create <name>')
    .description('Create an API token; the secret is printed once.')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print JSON')
    .action(async (name: string, options: { role: string; json?: boolean }) => {
      if (!ROLES.includes(options.role as Role)) throw new InputError(`unknown role ${JSON.stringify(options.role)}`, { field: '--role' }, `use one of ${ROLES.join(', ')}`);
      const created = await withDatabase(createProgress(!options.json), (database) => createApiToken(database.pool, name, options.role as Role, OPERATOR));
      if (options.json) return print({ id: created.id, name, role: options.role, token: created.token });
      process.stdout.write(`token ${created.id} (${options.role}): ${created.token}\n`);
    });
  tokens
    .command('revoke <id>')
    .description('Revoke an API token; every server refuses it at once.')
    .action(async (id: string) => {
      const revoked = await withDatabase(createProgress(true), (database) => revokeApiToken(database.pool, parseId(id), OPERATOR));
      if (!revoked) throw new InputError(`no active API token ${id}`, { field: 'id' }, 'fleetpatch tokens list shows them');
      process.stdout.write(`revoked token ${id}\n`);
    });

  const enrollment = program.command('enrollment-tokens').description('Enrollment tokens for agents: list, create, revoke.');
  enrollment
    .command('list')
    .description('List enrollment tokens with their uses, expiry and revocation.')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(createProgress(!options.json), (database) => listEnrollmentTokens(database.pool));
      if (options.json) return print(rows);
      process.stdout.write(rows.length === 0 ? 'no enrollment tokens\n' : renderTable(rows, [
        { header: 'ID', value: (row) => String(row.id), align: 'right' },
        { header: 'NAME', value: (row) => row.name },
        { header: 'USES', value: (row) => `${row.uses}/${row.maxUses ?? '∞'}`, align: 'right' },
        { header: 'EXPIRES', value: (row) => when(row.expiresAt) },
        { header: 'REVOKED', value: (row) => when(row.revokedAt, '') },
        { header: 'LABELS', value: (row) => Object.entries(row.labels).map(([key, value]) => `${key}=${value}`).join(',') },
      ]));
    });
  enrollment
    .command('create <name>')
    .description('Create an enrollment token; the secret is printed once.')
    .option('--label <key=value...>', 'labels every host it enrolls gets (they override the agent\'s)', collectLabels, {})
    .option('--expires-in-hours <n>', 'it expires after this many hours', parsePositiveInteger, 24)
    .option('--uses <n>', 'how many hosts it may enroll', parsePositiveInteger, 1)
    .option('--json', 'print JSON')
    .action(async (name: string, options: { label: Record<string, string>; expiresInHours: number; uses: number; json?: boolean }) => {
      const expiresAt = new Date(Date.now() + options.expiresInHours * 3_600_000);
      const created = await withDatabase(createProgress(!options.json), (database) =>
        createEnrollmentToken(database.pool, { name, labels: options.label, expiresAt, maxUses: options.uses, createdBy: OPERATOR }));
      if (options.json) return print({ id: created.id, name, labels: options.label, expiresAt, maxUses: options.uses, token: created.token });
      process.stdout.write(`enrollment token ${created.id} (${options.uses} uses, expires ${expiresAt.toISOString()}): ${created.token}\n`);
    });
  enrollment
    .command('revoke <id>')
    .description('Revoke an enrollment token (hosts it enrolled keep their credentials).')
    .action(async (id: string) => {
      const revoked = await withDatabase(createProgress(true), (database) => revokeEnrollmentToken(database.pool, parseId(id), OPERATOR));
      if (!revoked) throw new InputError(`no active enrollment token ${id}`, { field: 'id' }, 'fleetpatch enrollment-tokens list shows them');
      process.stdout.write(`revoked enrollment token ${id}\n`);
    });

  hosts
    .command('retire <name>')
    .description('Take a host out of the fleet: its inventory, findings and credential go, a record stays.')
    .requiredOption('--reason <text>', 'why (kept in the record)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { reason: string; json?: boolean }) => {
      const retired = await withDatabase(createProgress(!options.json), (database) => retireHost(database.pool, name, OPERATOR, options.reason, new Date()));
      if (!retired) throw new InputError(`no host named ${JSON.stringify(name)}`, { field: 'name' });
      if (options.json) return print(retired);
      process.stdout.write(`retired ${name} (${retired.bucket}/${retired.team}, ${retired.openFindings} open findings closed)\n`);
    });
  hosts
    .command('revoke-credential <name>')
    .description('Revoke a host\'s agent credential; every server refuses it at once.')
    .action(async (name: string) => {
      const revoked = await withDatabase(createProgress(true), (database) => revokeAgentCredential(database.pool, name, OPERATOR));
      if (!revoked) throw new InputError(`${JSON.stringify(name)} has no active credential`, { field: 'name' });
      process.stdout.write(`revoked the credential of ${name}\n`);
    });
  hosts
    .command('approve-enrollment <name>')
    .description('Let an enrolled name be enrolled again, once (a reinstalled host that lost its credential).')
    .option('--within <minutes>', 'the approval lapses after this many minutes', parsePositiveInteger, 60)
    .action(async (name: string, options: { within: number }) => {
      const problem = hostNameProblem(name);
      if (problem) throw new InputError(problem, { field: 'name' });
      const until = new Date(Date.now() + options.within * 60_000);
      await withDatabase(createProgress(true), (database) => approveReenrollment(database.pool, name, until, OPERATOR));
      process.stdout.write(`${name} may enroll again until ${until.toISOString()}\n`);
    });
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function when(date: Date | null, never = 'never'): string {
  return date ? date.toISOString().slice(0, 16).replace('T', ' ') : never;
}

function parseId(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new InputError(`not an id: ${JSON.stringify(text)}`, { field: 'id' });
  return Number(text);
}

function collectLabels(pair: string, labels: Record<string, string>): Record<string, string> {
  const equals = pair.indexOf('=');
  if (equals <= 0) throw new InputError(`not key=value: ${JSON.stringify(pair)}`, { field: '--label' });
  return { ...labels, [pair.slice(0, equals)]: pair.slice(equals + 1) };
}
