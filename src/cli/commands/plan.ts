/**
 * `fleetpatch plan`: when every host will be patched and whether that meets the SLA, before
 * anything runs; `plan explain HOST` for one host's reasons; `--what-if` for "a CVE in package P
 * is published at T". Reads the stored fleet and the policy in force (or `--policy FILE`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { planStoredFleet, whatIfStoredFleet } from '../../app/plan-service.js';
import { InputError } from '../../domain/errors.js';
import { narrowPlan } from '../../domain/planning/narrow-plan.js';
import type { FindingForecast, FleetPlan, GroupForecast, HostPlan } from '../../domain/planning/plan-types.js';
import type { WhatIfAnswer, WhatIfScenario } from '../../domain/planning/what-if.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import type { Policy } from '../../domain/policy/policy-schema.js';
import { SEVERITY_ORDER, type Severity } from '../../domain/types.js';
import { dateTimeProblem } from '../../domain/well-formed-text.js';
import type { Database } from '../../store/database.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { toCsv } from '../../domain/csv.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

interface PlanOptions {
  policy?: string;
  bucket?: string;
  team?: string;
  host?: string;
  from?: string;
  days: number;
  staleAfter: number;
  whatIf?: string;
  json?: boolean;
  csv?: boolean;
}

export function registerPlanCommand(program: Command): void {
  const plan = program
    .command('plan')
    .description('Forecast the next patch slot of every host and the SLA of every finding, before anything runs.')
    .option('--policy <file>', 'plan with this policy file instead of the one applied')
    .option('--bucket <name>', 'only this bucket')
    .option('--team <name>', 'only this owner team')
    .option('--host <name>', 'only this host')
    .option('--from <time>', 'plan from this instant (ISO 8601; default now)')
    .option('--days <n>', 'how far ahead to plan', parsePositiveInteger, 30)
    .option('--stale-after <seconds>', 'a host not seen for this long is stale', parsePositiveInteger, 3600)
    .option('--what-if <scenario>', 'package=NAME,severity=critical[,at=ISO][,reboot][,kev][,epss=0.9]: when would every affected host be patched')
    .option('--json', 'print JSON')
    .option('--csv', 'print one CSV row per host')
    .action(async (options: PlanOptions) => {
      const now = parseInstant(options.from, '--from');
      const progress = createProgress(!options.json && !options.csv);
      const scenario = options.whatIf ? parseScenario(options.whatIf, now) : undefined;
      const result = await withDatabase(progress, async (database) => {
        const { policy } = await policyFor(database, options.policy);
        if (scenario) return { whatIf: await whatIfStoredFleet(database.pool, policy, scenario) };
        // A bucket is planned whole (its hosts share windows and in-flight slots); team and host only narrow the output.
        const filter = options.bucket ? { bucket: options.bucket } : {};
        const fleetPlan = await planStoredFleet(database.pool, { policy, now, horizonDays: options.days, staleAfterSeconds: options.staleAfter, filter, progress: (message) => progress.note(message) });
        return { plan: narrowPlan(fleetPlan, { ...(options.team ? { team: options.team } : {}), ...(options.host ? { host: options.host } : {}) }) };
      });
      if ('whatIf' in result) {
        process.stdout.write(options.json ? `${JSON.stringify(result.whatIf, null, 2)}\n` : formatWhatIf(result.whatIf!));
        return;
      }
      const fleetPlan = result.plan!;
      if (options.json) process.stdout.write(`${JSON.stringify(fleetPlan, null, 2)}\n`);
      else if (options.csv) process.stdout.write(planCsv(fleetPlan.hosts));
      else process.stdout.write(formatPlan(fleetPlan));
    });

  plan
    .command('explain <host>')
    .description('Why a host is (or is not) scheduled, what will change, and each finding\'s SLA and forecast.')
    .option('--policy <file>', 'plan with this policy file instead of the one applied')
    .option('--from <time>', 'plan from this instant (ISO 8601; default now)')
    .option('--days <n>', 'how far ahead to plan', parsePositiveInteger, 30)
    .option('--stale-after <seconds>', 'a host not seen for this long is stale', parsePositiveInteger, 3600)
    .option('--json', 'print JSON')
    .action(async (host: string, options: PlanOptions) => {
      const now = parseInstant(options.from, '--from');
      const fleetPlan = await withDatabase(createProgress(!options.json), async (database) =>
        planStoredFleet(database.pool, { policy: (await policyFor(database, options.policy)).policy, now, horizonDays: options.days, staleAfterSeconds: options.staleAfter }));
      const hostPlan = fleetPlan.hosts.find((candidate) => candidate.host === host);
      if (!hostPlan) throw new InputError(`no host named ${JSON.stringify(host)}`, { field: 'host' });
      const findings = fleetPlan.findings.forHost(host);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...hostPlan, findings }, null, 2)}\n`);
        return;
      }
      process.stdout.write(explainHost(hostPlan, findings));
    });
}

/** The policy of `--policy FILE`, or else the applied one with its revision. */
export async function policyFor(database: Database, file: string | undefined): Promise<{ policy: Policy; revision?: number }> {
  if (file) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read: ${error.code ?? error.message}`, { file });
    });
    return { policy: parsePolicy(text, file) };
  }
  const revision = await latestPolicyRevision(database.pool);
  if (!revision) throw new InputError('no policy has been applied', { field: '--policy' }, 'give --policy fleetpatch.yaml, or apply one with fleetpatch policy apply');
  return { policy: parsePolicy(revision.text, `policy revision ${revision.revision}`), revision: revision.revision };
}

function parseInstant(text: string | undefined, field: string): Date {
  if (text === undefined) return new Date();
  const problem = dateTimeProblem(text);
  if (problem) throw new InputError(problem, { field });
  return new Date(text);
}

/** `package=openssl,severity=critical,at=2026-12-02T09:00:00Z,reboot,kev,epss=0.9` */
function parseScenario(text: string, now: Date): WhatIfScenario {
  const fields = new Map(text.split(',').map((part) => {
    const equals = part.indexOf('=');
    return equals === -1 ? [part.trim(), 'true'] : [part.slice(0, equals).trim(), part.slice(equals + 1).trim()];
  }));
  const known = new Set(['package', 'severity', 'at', 'reboot', 'kev', 'epss', 'days']);
  for (const key of fields.keys()) if (!known.has(key)) throw new InputError(`unknown what-if field ${JSON.stringify(key)}`, { field: '--what-if' }, `use ${[...known].join(', ')}`);
  const packageName = fields.get('package');
  if (!packageName) throw new InputError('the what-if needs package=NAME', { field: '--what-if' });
  const severity = (fields.get('severity') ?? 'critical') as Severity;
  if (!SEVERITY_ORDER.includes(severity)) throw new InputError(`unknown severity ${JSON.stringify(severity)}`, { field: '--what-if' }, `use one of ${SEVERITY_ORDER.join(', ')}`);
  const epss = fields.has('epss') ? Number(fields.get('epss')) : undefined;
  if (epss !== undefined && !(epss >= 0 && epss <= 1)) throw new InputError('epss is a probability between 0 and 1', { field: '--what-if' });
  const days = fields.has('days') ? Number(fields.get('days')) : undefined;
  if (days !== undefined && !(Number.isInteger(days) && days > 0 && days <= 366)) throw new InputError('days is a whole number of days, 1..366', { field: '--what-if' });
  return {
    packageName,
    severity,
    publishedAt: fields.has('at') ? parseInstant(fields.get('at'), '--what-if at') : now,
    needsReboot: fields.has('reboot'),
    knownExploited: fields.has('kev'),
    ...(epss !== undefined ? { epss } : {}),
    ...(days !== undefined ? { horizonDays: days } : {}),
  };
}

const when = (date: Date | undefined) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : '-');

function formatPlan(plan: FleetPlan): string {
  const groups = (rows: GroupForecast[], header: string) =>
    renderTable(rows, [
      { header, value: (row) => row.name },
      { header: 'HOSTS', value: (row) => String(row.hosts), align: 'right' },
      { header: 'TO PATCH', value: (row) => String(row.hostsToPatch), align: 'right' },
      { header: 'SCHEDULED', value: (row) => String(row.scheduled), align: 'right' },
      { header: 'WAITING', value: (row) => String(row.notScheduled), align: 'right' },
      { header: 'DONE BY (UTC)', value: (row) => when(row.forecastCompletion) },
      { header: 'OPEN', value: (row) => String(row.openFindings), align: 'right' },
      { header: 'DUE 7D', value: (row) => String(row.dueWithinSevenDays), align: 'right' },
      { header: 'BREACHED', value: (row) => String(row.breached), align: 'right' },
      { header: 'WILL BREACH', value: (row) => String(row.predictedBreaches), align: 'right' },
    ]);
  const waiting = new Map<string, number>();
  for (const host of plan.hosts) if (host.status === 'not-scheduled') waiting.set(host.reason ?? 'unknown', (waiting.get(host.reason ?? 'unknown') ?? 0) + 1);
  const next = plan.rollouts.slice(0, 15);
  return [
    `plan from ${when(plan.generatedAt)} to ${when(plan.horizonEnd)} UTC\n`,
    groups(plan.buckets, 'BUCKET'),
    groups(plan.teams, 'TEAM'),
    next.length === 0 ? 'no rollouts planned\n' : renderTable(next, [
      { header: 'ROLLOUT STARTS (UTC)', value: (row) => when(row.occurrenceStart) },
      { header: 'BUCKET', value: (row) => row.bucket },
      { header: 'WINDOW', value: (row) => row.window },
      { header: 'WAVES', value: (row) => row.waves.map((wave) => `${wave.wave}:${wave.hosts.length}`).join(' ') },
      { header: 'HOSTS', value: (row) => String(row.waves.reduce((sum, wave) => sum + wave.hosts.length, 0)), align: 'right' },
    ]),
    waiting.size === 0 ? '' : `not scheduled: ${[...waiting].map(([reason, count]) => `${count} ${reason}`).join(', ')} (fleetpatch plan explain HOST says why)\n`,
  ].join('\n');
}

function explainHost(host: HostPlan, findings: FindingForecast[]): string {
  const lines = [`${host.host} (${host.bucket}, owned by ${host.team}): ${host.status}${host.reason ? ` — ${host.reason}: ${host.detail ?? ''}` : ''}`];
  if (host.slot) lines.push(`  slot: window ${host.slot.window} opening ${host.slot.localStart} (local), wave ${host.slot.wave}, expected ${when(host.slot.expectedStart)} – ${when(host.slot.expectedFinish)} UTC${host.willReboot ? ', reboots' : ''}`);
  if (host.changes.length > 0) {
    lines.push('  changes:');
    for (const change of host.changes) lines.push(`    ${change.packageName} ${change.from ?? '?'} → ${change.to} (${change.because}${change.advisories.length ? `: ${change.advisories.slice(0, 5).join(', ')}${change.advisories.length > 5 ? ', …' : ''}` : ''})`);
  }
  const table = findings.length === 0 ? '  no open findings\n' : renderTable(findings, [
    { header: '  ADVISORY', value: (row) => `  ${row.advisoryId}` },
    { header: 'SEVERITY', value: (row) => row.severity },
    { header: 'PACKAGE', value: (row) => row.packageName },
    { header: 'DUE (UTC)', value: (row) => when(row.dueAt) },
    { header: 'LIVE BY (UTC)', value: (row) => when(row.liveAt) },
    { header: 'PATH', value: (row) => (row.emergency ? 'emergency' : 'routine') },
    { header: 'BREACH', value: (row) => (row.predictedBreach ? 'predicted' : '') },
  ]);
  return `${lines.join('\n')}\n${table}`;
}

function formatWhatIf(answer: WhatIfAnswer): string {
  const scenario = answer.scenario;
  const header = `what if a ${scenario.severity} advisory for ${scenario.packageName} is published ${when(scenario.publishedAt)} UTC${scenario.needsReboot ? ' (live after a reboot)' : ''}: ${answer.emergencyApplies ? 'the emergency path applies' : 'the routine cadence only (no emergency trigger)'}\n`;
  if (answer.buckets.length === 0) return `${header}no host runs ${scenario.packageName}\n`;
  return header + renderTable(answer.buckets, [
    { header: 'BUCKET', value: (row) => row.bucket },
    { header: 'OWNER', value: (row) => row.owner },
    { header: 'HOSTS', value: (row) => String(row.affectedHosts), align: 'right' },
    { header: 'ROUTINE LIVE BY (UTC)', value: (row) => (row.routine.liveBy ? when(row.routine.liveBy) : `not within the horizon (${row.routine.unscheduled} left)`) },
    { header: 'EMERGENCY LIVE BY (UTC)', value: (row) => (row.emergency ? (row.emergency.liveBy ? when(row.emergency.liveBy) : `not within the horizon (${row.emergency.unscheduled} left)`) : '-') },
  ]);
}

function planCsv(hosts: HostPlan[]): string {
  return toCsv(
    ['host', 'bucket', 'team', 'status', 'reason', 'window', 'wave', 'expected_start', 'expected_finish', 'will_reboot', 'changes'],
    hosts.map((host) => [
      host.host, host.bucket, host.team, host.status, host.reason ?? '', host.slot?.window ?? '', host.slot ? String(host.slot.wave) : '',
      host.slot?.expectedStart.toISOString() ?? '', host.slot?.expectedFinish.toISOString() ?? '', String(host.willReboot),
      host.changes.map((change) => `${change.packageName}=${change.to}`).join(' '),
    ]),
  );
}
