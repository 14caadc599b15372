/**
 * `fleetpatch rollout create | list | show | pause | resume | abort | approve | retry | skip | confirm`: the
 * operator's side of the rollout engine, over the same service the API uses. `create --dry-run`
 * prints the planner's draft and stores nothing; every change needs a reason, which goes to the
 * rollout's timeline and the audit log. A refused action (the rollout or host is in the wrong
 * state) is exit 2 with the reason it was refused.
 */
import type { Command } from 'commander';
import { confirmChecklistStep, createRollout, draftStoredRollout, operateRollout, operateRolloutHost, rolloutDetail, type HostAction, type RolloutAction, type RolloutDetail } from '../../app/rollout-service.js';
import { InputError } from '../../domain/errors.js';
import type { RolloutDraft } from '../../domain/rollout/rollout-draft.js';
import { ROLLOUT_STATES, type RolloutState } from '../../domain/rollout/rollout-model.js';
import { listRollouts, type GateMeasurementRow, type RolloutHostView, type RolloutSummary, type StoredRollout } from '../../store/rollout-store.js';
import { withDatabase } from '../database-session.js';
import { collect, parseLabels } from '../inventory-input.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';
import { policyFor } from './plan.js';

const ACTOR = `cli:${process.env.USER ?? 'unknown'}`;
/** Timeline entries `show` prints; `--json` has them all. */
const TIMELINE_TAIL = 20;
const ROLLOUT_ACTIONS: Record<RolloutAction, string> = {
  pause: 'Pause a rollout: no host is admitted until it is resumed (hosts in a step finish it).',
  resume: 'Resume a paused or halted rollout.',
  abort: 'Cancel a rollout: hosts not yet started are skipped, hosts in a step finish it.',
  approve: 'Approve the next wave of a rollout that waits for approval.',
};
const HOST_ACTIONS: Record<HostAction, string> = {
  retry: 'Start a failed, timed-out, stuck, rolled-back, skipped or agent-less host over, with its next attempt.',
  skip: 'Leave a host out of the rollout (not while it is in the middle of a step); its slot is freed.',
};

interface CreateOptions {
  bucket: string;
  advisory?: string;
  label?: string[];
  host?: string[];
  reason?: string;
  policy?: string;
  staleAfter: number;
  dryRun?: boolean;
  json?: boolean;
}

export function registerRolloutCommand(program: Command): void {
  const rollout = program.command('rollout').description('Rollouts: create one for a bucket, follow it, and pause, resume, abort, approve, retry or skip hosts (audited).');
  rollout
    .command('create')
    .description('Create a rollout of a bucket with the policy in force: its hosts in waves, canaries first, one content snapshot for all.')
    .requiredOption('--bucket <name>', 'the bucket to patch')
    .option('--advisory <id>', 'only the fix of this advisory')
    .option('--label <key=value>', 'only the bucket\'s hosts with this label (repeatable)', collect)
    .option('--host <name>', 'only this host of the bucket (repeatable)', collect)
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--policy <file>', 'draft with this policy file instead of the one applied')
    .option('--stale-after <seconds>', 'a host not seen for this long at admission has no agent to act', parsePositiveInteger, 3600)
    .option('--dry-run', 'print what would be created (waves, snapshot, settings) and store nothing')
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      const result = await withDatabase(createProgress(!options.json), async (database) => {
        const { policy, revision } = await policyFor(database, options.policy);
        const request = {
          policy,
          ...(revision !== undefined ? { policyRevision: revision } : {}),
          bucket: options.bucket,
          actor: ACTOR,
          now: new Date(),
          staleAfterSeconds: options.staleAfter,
          ...(options.advisory ? { advisoryId: options.advisory } : {}),
          ...(options.label ? { labels: parseLabels(options.label) } : {}),
          ...(options.host ? { hosts: options.host } : {}),
          ...(options.reason ? { reason: options.reason } : {}),
        };
        return options.dryRun ? { draft: await draftStoredRollout(database.pool, request) } : createRollout(database.pool, request);
      });
      if (options.json) return print('id' in result ? result : result.draft);
      process.stdout.write(`${'id' in result ? `created rollout ${result.id}` : 'dry run, nothing stored'}: ${formatDraft(result.draft)}`);
    });
  rollout
    .command('list')
    .description('Rollouts, newest first, with their hosts counted by state.')
    .option('--state <state>', `only this state: ${ROLLOUT_STATES.join(', ')}`)
    .option('--bucket <name>', 'only this bucket')
    .option('--limit <n>', 'at most this many rollouts', parsePositiveInteger, 100)
    .option('--json', 'print a JSON array')
    .action(async (options: { state?: string; bucket?: string; limit: number; json?: boolean }) => {
      if (options.state !== undefined && !ROLLOUT_STATES.includes(options.state as RolloutState)) {
        throw new InputError(`unknown state: ${options.state}`, { field: '--state' }, `use one of ${ROLLOUT_STATES.join(', ')}`);
      }
      const rollouts = await withDatabase(createProgress(!options.json), (database) =>
        listRollouts(database.pool, { ...(options.state ? { state: options.state } : {}), ...(options.bucket ? { bucket: options.bucket } : {}), limit: options.limit }));
      if (options.json) return print(rollouts);
      process.stdout.write(rollouts.length === 0 ? 'no rollouts\n' : renderTable(rollouts, [
        { header: 'ID', value: (row: RolloutSummary) => String(row.id), align: 'right' },
        { header: 'STATE', value: stateText },
        { header: 'BUCKET', value: (row) => row.bucket, maxWidth: 32 },
        { header: 'WAVE', value: (row) => `${row.currentWave}/${row.waveCount}` },
        { header: 'HOSTS', value: (row) => countsText(row.hostCounts), maxWidth: 60 },
        { header: 'CREATED (UTC)', value: (row) => utc(row.createdAt) },
        { header: 'BY', value: (row) => row.createdBy, maxWidth: 32 },
        { header: 'REASON', value: (row) => row.reason ?? '', maxWidth: 48 },
      ]));
    });
  rollout
    .command('show')
    .description('One rollout: settings, snapshot, waves with their hosts by state, the error budget left, the hosts, gate measurements and the timeline.')
    .argument('<id>', 'the rollout', parseRolloutId)
    .option('--json', 'print JSON (the whole timeline and every measurement)')
    .action(async (id: number, options: { json?: boolean }) => {
      const view = await withDatabase(createProgress(!options.json), async (database) => {
        const detail = await rolloutDetail(database.pool, id);
        if (!detail) throw new InputError(`no rollout ${id}`, { field: 'id' }, 'fleetpatch rollout list shows them');
        return detail;
      });
      if (options.json) return print(view);
      process.stdout.write(formatRollout(view));
    });
  for (const [action, description] of Object.entries(ROLLOUT_ACTIONS) as Array<[RolloutAction, string]>) {
    rollout
      .command(action)
      .description(`${description} Needs --reason (audited).`)
      .argument('<id>', 'the rollout', parseRolloutId)
      .option('--reason <text>', 'why (written to the timeline and the audit log)')
      .action(async (id: number, options: { reason?: string }) => {
        const reason = requireReason(options.reason);
        const state = await withDatabase(createProgress(false), (database) => operateRollout(database.pool, action, { id, actor: ACTOR, reason, now: new Date() }));
        process.stdout.write(`rollout ${id}: ${action} done, now ${state}\n`);
      });
  }
  for (const [action, description] of Object.entries(HOST_ACTIONS) as Array<[HostAction, string]>) {
    rollout
      .command(action)
      .description(`${description} Needs --reason (audited).`)
      .argument('<id>', 'the rollout', parseRolloutId)
      .argument('<host>', 'the host')
      .option('--reason <text>', 'why (written to the timeline and the audit log)')
      .action(async (id: number, host: string, options: { reason?: string }) => {
        const reason = requireReason(options.reason);
        const state = await withDatabase(createProgress(false), (database) => operateRolloutHost(database.pool, action, host, { id, actor: ACTOR, reason, now: new Date() }));
        process.stdout.write(`rollout ${id}: ${host} ${action === 'retry' ? 'retried' : 'skipped'}, now ${state}\n`);
      });
  }
  rollout
    .command('confirm')
    .description('Confirm the next step of a manual window\'s checklist for a host (in order, one at a time). Needs --reason (audited).')
    .argument('<id>', 'the rollout', parseRolloutId)
    .argument('<host>', 'the host')
    .argument('<step>', 'the checklist step, from 1', parseStep)
    .option('--reason <text>', 'what was done (written to the timeline and the audit log)')
    .action(async (id: number, host: string, step: number, options: { reason?: string }) => {
      const reason = requireReason(options.reason);
      const done = await withDatabase(createProgress(false), (database) => confirmChecklistStep(database.pool, host, step, { id, actor: ACTOR, reason, now: new Date() }));
      process.stdout.write(`rollout ${id}: ${host} step ${done.confirmed} of ${done.of} confirmed: ${done.item}\n`);
    });
}

function parseStep(value: string): number {
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InputError(`not a checklist step: ${value}`, { field: 'step' }, 'steps are numbered from 1, as rollout show lists them');
  return Number(value);
}

function parseRolloutId(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > 2 ** 31 - 1) throw new InputError(`not a rollout id: ${value}`, { field: 'id' }, 'fleetpatch rollout list shows them');
  return Number(value);
}

/** Blank counts as missing: the reason is what the audit log keeps of why. */
function requireReason(reason: string | undefined): string {
  const trimmed = reason?.trim();
  if (!trimmed) throw new InputError('a reason is required: it is written to the rollout\'s timeline and the audit log', { field: '--reason' }, 'e.g. --reason "INC-42: replication lag"');
  return trimmed;
}

function formatDraft(draft: RolloutDraft): string {
  const hosts = draft.waves.reduce((sum, wave) => sum + wave.hosts.length, 0);
  const lines = [
    `bucket ${draft.bucket} (owned by ${draft.team})${draft.advisoryId ? `, the fix of ${draft.advisoryId}` : ''}: ${hosts} hosts in ${draft.waves.length} waves`,
    settingsText(draft.settings, draft.windows),
    `strategy: ${strategyText(draft.settings)}`,
    ...draft.waves.map((wave) => `  wave ${wave.wave}: ${wave.hosts.join(', ')}`),
    `snapshot (${draft.snapshot.length} packages): ${draft.snapshot.map((target) => `${target.name}=${target.version}`).join(' ')}`,
    ...draft.warnings.map((warning) => `warning: ${warning}`),
  ];
  return `${lines.join('\n')}\n`;
}

function formatRollout(view: RolloutDetail): string {
  const header = [
    `rollout ${view.id}: ${stateText(view)}${view.reason ? ` — ${view.reason}` : ''}`,
    `bucket ${view.bucket} (owned by ${view.team}), wave ${view.currentWave} of ${view.waveCount}${view.bakeUntil ? `, baking until ${utc(view.bakeUntil)} UTC` : ''}${view.advisoryId ? `, the fix of ${view.advisoryId}` : ''}`,
    `created ${utc(view.createdAt)} UTC by ${view.createdBy} (${view.origin}${view.windowName ? `, window ${view.windowName}` : ''})${view.finishedAt ? `, finished ${utc(view.finishedAt)} UTC` : ''}`,
    settingsText(view.settings, view.windows),
    `strategy: ${strategyText(view.settings)}`,
    ...checklistLines(view.settings),
    `error budget left: ${view.budgetLeft} of ${view.settings.errorBudget} (${view.failedHosts} failed)`,
    `snapshot (${view.snapshot.length} packages): ${view.snapshot.map((target) => `${target.name}=${target.version}`).join(' ')}`,
  ].join('\n');
  const waves = renderTable(view.waves, [
    { header: 'WAVE', value: (wave: RolloutDetail['waves'][number]) => String(wave.wave), align: 'right' },
    { header: 'HOSTS', value: (wave) => String(wave.hosts), align: 'right' },
    { header: 'BY STATE', value: (wave) => countsText(wave.states), maxWidth: 80 },
  ]);
  const hosts = renderTable(view.hosts, [
    { header: 'HOST', value: (host: RolloutHostView) => host.host, maxWidth: 40 },
    { header: 'WAVE', value: (host) => String(host.wave), align: 'right' },
    { header: 'STATE', value: (host) => host.state },
    { header: 'ATTEMPT', value: (host) => String(host.attempt), align: 'right' },
    { header: 'SINCE (UTC)', value: (host) => utc(host.stateSince) },
    { header: 'JOB', value: (host) => (host.job ? `${host.job.step}${host.job.outcome ? ` ${host.job.outcome}` : host.job.fetchedAt ? ' fetched' : ' dispatched'} (${JOB_RUNNERS[host.job.executor] ?? host.job.executor})` : '') },
    ...(view.settings.strategy?.kind === 'manual' ? [{ header: 'CHECKLIST', value: (host: RolloutDetail['hosts'][number]) => checklistProgress(host.checklist), maxWidth: 60 }] : []),
    { header: 'LAST ERROR', value: (host) => host.lastError ?? '', maxWidth: 60 },
  ]);
  const events = view.events.slice(-TIMELINE_TAIL);
  const timeline = renderTable(events, [
    { header: 'AT (UTC)', value: (event: RolloutDetail['events'][number]) => utc(event.at) },
    { header: 'HOST', value: (event) => event.host ?? '', maxWidth: 40 },
    { header: 'EVENT', value: (event) => `${event.kind}${event.from || event.to ? ` ${event.from ?? ''}→${event.to ?? ''}` : ''}` },
    { header: 'BY', value: (event) => event.actor, maxWidth: 32 },
    { header: 'DETAIL', value: (event) => event.detail ?? '', maxWidth: 80 },
  ]);
  return [
    `${header}\n`,
    waves,
    hosts,
    formatGates(view),
    `timeline${view.events.length > events.length ? ` (the last ${events.length} of ${view.events.length}; --json has them all)` : ''}:\n${timeline}`,
  ].join('\n');
}

/** Each gate of the rollout with its measurements: how many, the latest phase and value. */
function formatGates(view: RolloutDetail): string {
  const names = [...new Set([...view.gates.map((gate) => (gate as { name: string }).name), ...view.measurements.map((measurement) => measurement.gate)])];
  if (names.length === 0) return 'no gates\n';
  return renderTable(names, [
    { header: 'GATE', value: (name: string) => name, maxWidth: 40 },
    { header: 'WHEN', value: (name) => (view.gates.find((gate) => (gate as { name: string }).name === name) as { when?: string } | undefined)?.when ?? '' },
    { header: 'MEASUREMENTS', value: (name) => String(view.measurements.filter((measurement) => measurement.gate === name).length), align: 'right' },
    { header: 'LATEST', value: (name) => latestMeasurement(view.measurements.filter((measurement) => measurement.gate === name)) },
  ]);
}

function latestMeasurement(measurements: GateMeasurementRow[]): string {
  const latest = measurements.at(-1);
  if (!latest) return 'not measured yet';
  return `${latest.phase}${latest.value !== undefined ? ` (${latest.value})` : ''} at ${utc(latest.takenAt)} UTC, wave ${latest.wave}${latest.host ? `, ${latest.host}` : ''}`;
}

function settingsText(settings: StoredRollout['settings'], windows: string[]): string {
  return `in flight at most ${settings.maxInFlight}, error budget ${settings.errorBudget}, soak ${minutes(settings.soakMs)}, promotion ${settings.promotion}, reboot ${settings.reboot.policy}, windows ${windows.join(', ') || 'none (any time)'}`;
}

/** Who runs a job, as the JOB column names it. */
const JOB_RUNNERS: Record<string, string> = { agent: 'agent', ssh: 'SSH', 'command-hook': 'command hook', kubernetes: 'Kubernetes API' };

/** The strategy and what runs its steps, as the dashboard writes it: `rolling reboot · Kubernetes API · …`. */
function strategyText(settings: StoredRollout['settings']): string {
  const strategy = settings.strategy ?? { kind: 'in-place' as const };
  const executor = settings.executor;
  const executorText = executor?.kind === 'ssh' ? `SSH as ${executor.user}${executor.port === 22 ? '' : `, port ${executor.port}`}${executor.sudo ? ' with sudo' : ''}`
    : executor?.kind === 'command-hook' ? `command hook ${executor.command}` : 'the agent';
  switch (strategy.kind) {
    case 'rolling-reboot':
      return `rolling reboot · Kubernetes API · drain within ${minutes(strategy.drain.timeoutMs)} (stuck after ${minutes(strategy.drain.stuckAfterMs)}) · the OS updated by ${strategy.update === 'agent' ? executorText : `hook ${strategy.update.hook}`}`;
    case 'replace':
      return `replace · image ${strategy.image.id} (built ${strategy.image.built}) · at least ${strategy.minHealthy} host${strategy.minHealthy === 1 ? '' : 's'} serving · provision ${strategy.provisionHook} · retire ${strategy.retireHook}`;
    case 'manual':
      return `manual · ${strategy.noticeDays === 0 ? 'no notice' : strategy.noticeDays === 1 ? "1 day's notice" : `${strategy.noticeDays} days' notice`} · a ${strategy.checklist.length}-step checklist per host${strategy.notifyTeams.length ? ` · also told: ${strategy.notifyTeams.join(', ')}` : ''}`;
    default:
      return `in place · ${executorText}`;
  }
}

/** A manual window's checklist, numbered as `rollout confirm` takes its steps. */
function checklistLines(settings: StoredRollout['settings']): string[] {
  if (settings.strategy?.kind !== 'manual') return [];
  return ['checklist (confirmed in order for each host):', ...settings.strategy.checklist.map((item, index) => `  ${index + 1}. ${item}`)];
}

/** `1 of 3, next 2: Drain traffic at the load balancer`. */
function checklistProgress(checklist: RolloutDetail['hosts'][number]['checklist']): string {
  if (!checklist) return '';
  return `${checklist.confirmed} of ${checklist.of}${checklist.next ? `, next ${checklist.next.step}: ${checklist.next.item}` : ''}`;
}

function stateText(rollout: Pick<StoredRollout, 'state' | 'pauseReason' | 'haltReason'>): string {
  const why = rollout.state === 'paused' ? rollout.pauseReason : rollout.state === 'halted' ? rollout.haltReason : undefined;
  return why ? `${rollout.state} (${why})` : rollout.state;
}

/** `{ pending: 3, succeeded: 1 }` → `3 pending, 1 succeeded`. */
function countsText(counts: Record<string, number>): string {
  return Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([state, n]) => `${n} ${state}`).join(', ');
}

const minutes = (milliseconds: number) => `${Math.round(milliseconds / 60_000)}m`;

function utc(instant: Date): string {
  return instant.toISOString().slice(0, 16).replace('T', ' ');
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
