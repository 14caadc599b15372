/**
 * `fleetpatch incident list | show | open | update | relax | review | close | timeline`: the
 * emergency path's incidents over the same service the API uses. Read commands have --json;
 * `timeline --markdown` prints the postmortem's timeline section. Opening, relaxing and closing
 * need a reason (timeline and audit log); a close the scope refuses is exit 2 with every blocker
 * named. `update --draft` prints the proposed status update; `update` posts it (or `--file`, the
 * commander's edited one) through the policy's notification routes.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { closeIncident, DEFAULT_EMERGENCY, incidentDetail, incidentLabel, incidentScope, incidentTimeline, openIncident, type EmergencySettings, type IncidentDetail } from '../../app/incident-service.js';
import { approveRelaxation, completeRelaxationReview, draftIncidentUpdate, postIncidentUpdate } from '../../app/incident-emergency.js';
import { InputError } from '../../domain/errors.js';
import type { Policy } from '../../domain/policy/policy-schema.js';
import { RELAXATIONS, type Relaxation } from '../../domain/rollout/rollout-model.js';
import { formatPolicyDuration } from '../../domain/policy/policy-duration.js';
import { timelineToJson, timelineToMarkdown } from '../../domain/incidents/incident-timeline.js';
import type { ScopeCounts } from '../../domain/incidents/incident-scope.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import type { Database } from '../../store/database.js';
import { listIncidents, type IncidentState, type StoredIncident } from '../../store/incident-store.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

const ACTOR = `cli:${process.env.USER ?? 'unknown'}`;
const STATES: readonly IncidentState[] = ['open', 'closed'];
/** Timeline entries `show` prints; `--json` and `timeline` have them all. */
const TIMELINE_TAIL = 20;

const staleOption = ['--stale-after <seconds>', 'a host not seen for this long counts as unknown (and blocks closing)', parsePositiveInteger, 3600] as const;

/** The applied policy, if any. */
async function policyOf(database: Database): Promise<Policy | undefined> {
  const revision = await latestPolicyRevision(database.pool);
  return revision ? parsePolicy(revision.text, `policy revision ${revision.revision}`) : undefined;
}

/** The emergency settings of the applied policy; the policy file's defaults without one. */
async function emergencyOf(database: Database): Promise<EmergencySettings> {
  return (await policyOf(database))?.emergency ?? DEFAULT_EMERGENCY;
}

function incidentId(text: string): number {
  if (!/^(INC-)?[1-9][0-9]{0,9}$/i.test(text)) throw new InputError(`not an incident id: ${JSON.stringify(text)}`, { field: 'ID' }, 'give the number (or INC-number) fleetpatch incident list shows');
  const id = Number(text.replace(/^INC-/i, ''));
  if (id > 2_147_483_647) throw new InputError(`not an incident id: ${text}`, { field: 'ID' });
  return id;
}

function reasonOf(text: string | undefined, field: string): string {
  if (text === undefined || text.trim() === '') throw new InputError('a reason is required', { field }, 'say why: it is kept in the timeline and the audit log');
  return text;
}

export function registerIncidentCommand(program: Command): void {
  const incident = program.command('incident').description('Incidents: the emergency path for an advisory that meets the policy\'s emergency triggers (or one declared by hand).');
  incident
    .command('list')
    .description('Incidents, newest first, with their live scope counted.')
    .option('--state <state>', `only this state: ${STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many incidents', parsePositiveInteger, 100)
    .option(...staleOption)
    .option('--json', 'print a JSON array')
    .action(async (options: { state?: string; limit: number; staleAfter: number; json?: boolean }) => {
      if (options.state !== undefined && !STATES.includes(options.state as IncidentState)) throw new InputError(`unknown state: ${options.state}`, { field: '--state' }, `use one of ${STATES.join(', ')}`);
      const rows = await withDatabase(createProgress(!options.json), async (database) => {
        const incidents = await listIncidents(database.pool, { ...(options.state ? { state: options.state as IncidentState } : {}), limit: options.limit });
        const scoped: Array<StoredIncident & { label: string; scope: { total: ScopeCounts; closable: boolean } }> = [];
        for (const stored of incidents) {
          const { scope } = await incidentScope(database.pool, stored, { now: new Date(), staleAfterMs: options.staleAfter * 1000 });
          scoped.push({ ...stored, label: incidentLabel(stored.id), scope: { total: scope.total, closable: scope.closable } });
        }
        return scoped;
      });
      if (options.json) return print(rows);
      process.stdout.write(rows.length === 0 ? 'no incidents\n' : renderTable(rows, [
        { header: 'ID', value: (row) => row.label },
        { header: 'STATE', value: (row) => row.state },
        { header: 'TITLE', value: (row) => row.title, maxWidth: 48 },
        { header: 'SCOPE', value: (row) => countsText(row.scope.total), maxWidth: 80 },
        { header: 'OPENED (UTC)', value: (row) => utc(row.openedAt) },
        { header: 'BY', value: (row) => row.openedBy, maxWidth: 32 },
      ]));
    });
  incident
    .command('show')
    .description('One incident: its live scope per bucket and team, what blocks closing, the durations, the timeline and the updates.')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option(...staleOption)
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { staleAfter: number; json?: boolean }) => {
      const id = incidentId(idText);
      const detail = await withDatabase(createProgress(!options.json), async (database) => incidentDetail(database.pool, id, { now: new Date(), staleAfterMs: options.staleAfter * 1000, emergency: await emergencyOf(database) }));
      if (options.json) {
        const timeline = timelineToJson({ incident: { id: detail.label, title: detail.incident.title }, events: detail.events, durations: detail.durations });
        return print({ ...detail, events: timeline.events, durations: timeline.durations });
      }
      process.stdout.write(formatDetail(detail));
    });
  incident
    .command('open')
    .description('Declare an incident for a stored advisory (id or CVE), whatever the emergency triggers say (audited).')
    .requiredOption('--advisory <id>', 'the advisory or CVE')
    .option('--reason <text>', 'why (kept in the timeline and the audit log; required)')
    .option('--commander <name>', 'the incident commander')
    .option('--json', 'print JSON')
    .action(async (options: { advisory: string; reason?: string; commander?: string; json?: boolean }) => {
      const reason = reasonOf(options.reason, '--reason');
      const id = await withDatabase(createProgress(!options.json), async (database) =>
        openIncident(database.pool, { advisory: options.advisory, reason, actor: ACTOR, now: new Date(), emergency: await emergencyOf(database), ...(options.commander ? { commander: options.commander } : {}) }));
      if (options.json) return print({ id, label: incidentLabel(id) });
      process.stdout.write(`opened ${incidentLabel(id)} for ${options.advisory}\n`);
    });
  incident
    .command('close')
    .description('Close an incident: only when every host in scope is patched and live, or excluded with a reason (audited).')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option('--reason <text>', 'why (kept in the timeline and the audit log; required)')
    .option(...staleOption)
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { reason?: string; staleAfter: number; json?: boolean }) => {
      const id = incidentId(idText);
      const reason = reasonOf(options.reason, '--reason');
      const closed = await withDatabase(createProgress(!options.json), async (database) => {
        const notifications = (await policyOf(database))?.notifications;
        return closeIncident(database.pool, { id, actor: ACTOR, reason, now: new Date(), staleAfterMs: options.staleAfter * 1000, ...(notifications ? { notifications } : {}) });
      });
      if (options.json) return print(closed);
      process.stdout.write(`closed ${incidentLabel(id)}\n`);
    });
  incident
    .command('update')
    .description('Post a status update through the notification routes: the draft fleetpatch proposes, or your edited Markdown (--file); --draft only prints the draft.')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option('--draft', 'print the proposed update, post nothing')
    .option('--file <path>', 'post this Markdown instead of the draft (- reads standard input)')
    .option(...staleOption)
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { draft?: boolean; file?: string; staleAfter: number; json?: boolean }) => {
      const id = incidentId(idText);
      if (options.draft && options.file !== undefined) throw new InputError('give --draft or --file, not both', { field: '--file' });
      const markdown = options.file === undefined ? undefined : readFileSync(options.file === '-' ? 0 : options.file, 'utf8');
      const request = { id, now: new Date(), staleAfterMs: options.staleAfter * 1000 };
      if (options.draft) {
        const draft = await withDatabase(createProgress(!options.json), async (database) => draftIncidentUpdate(database.pool, { ...request, ...optional('policy', await policyOf(database)) }));
        if (options.json) return print(draft);
        return void process.stdout.write(draft.markdown);
      }
      const posted = await withDatabase(createProgress(!options.json), async (database) =>
        postIncidentUpdate(database.pool, { ...request, actor: ACTOR, ...optional('policy', await policyOf(database)), ...optional('markdown', markdown) }));
      if (options.json) return print(posted);
      process.stdout.write(`posted status update ${posted.update} of ${incidentLabel(id)}\n`);
    });
  incident
    .command('relax')
    .description('Approve what a bucket\'s emergency rollout may skip (windows, freezes, cooldowns, as the policy\'s emergency.relaxes allows; never gates or budgets); schedules a post-change review (audited).')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .requiredOption('--bucket <name>', 'the bucket')
    .requiredOption('--relax <list>', `comma-separated: ${RELAXATIONS.join(', ')}`)
    .option('--reason <text>', 'why (kept in the timeline and the audit log; required)')
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { bucket: string; relax: string; reason?: string; json?: boolean }) => {
      const id = incidentId(idText);
      const why = reasonOf(options.reason, '--reason');
      const relaxes = options.relax.split(',').map((item) => item.trim());
      const unknown = relaxes.filter((item) => !(RELAXATIONS as readonly string[]).includes(item));
      if (unknown.length > 0) throw new InputError(`cannot relax ${unknown.join(', ')}`, { field: '--relax' }, `give a comma-separated list of ${RELAXATIONS.join(', ')}; gates and error budgets are never relaxed`);
      const approved = await withDatabase(createProgress(!options.json), async (database) =>
        approveRelaxation(database.pool, { id, actor: ACTOR, now: new Date(), staleAfterMs: 0, ...optional('policy', await policyOf(database)), bucket: options.bucket, relaxes: relaxes as Relaxation[], why }));
      if (options.json) return print(approved);
      process.stdout.write(`${incidentLabel(id)}: ${options.bucket} may skip ${approved.relaxes.join(', ')}; post-change review due ${utc(approved.reviewDueAt)} UTC\n`);
    });
  incident
    .command('review')
    .description('Record the post-change review a bucket\'s relaxation owes (audited).')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .requiredOption('--bucket <name>', 'the bucket')
    .option('--notes <text>', 'what the review found (required)')
    .action(async (idText: string, options: { bucket: string; notes?: string }) => {
      const id = incidentId(idText);
      const notes = reasonOf(options.notes, '--notes');
      await withDatabase(createProgress(true), (database) => completeRelaxationReview(database.pool, { id, actor: ACTOR, now: new Date(), bucket: options.bucket, notes }));
      process.stdout.write(`${incidentLabel(id)}: post-change review of ${options.bucket} recorded\n`);
    });
  incident
    .command('timeline')
    .description('The incident\'s timeline for the postmortem, with time to detect, to patched and to live.')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option('--markdown', 'print Markdown (the default)')
    .option('--json', 'print JSON (ISO timestamps)')
    .option(...staleOption)
    .action(async (idText: string, options: { markdown?: boolean; json?: boolean; staleAfter: number }) => {
      if (options.markdown && options.json) throw new InputError('give --markdown or --json, not both', { field: '--json' });
      const id = incidentId(idText);
      const timeline = await withDatabase(createProgress(false), async (database) => incidentTimeline(database.pool, id, { now: new Date(), staleAfterMs: options.staleAfter * 1000, emergency: await emergencyOf(database) }));
      if (options.json) return print(timelineToJson(timeline));
      process.stdout.write(timelineToMarkdown(timeline));
    });
}

function formatDetail(detail: IncidentDetail): string {
  const { incident, scope, durations } = detail;
  const lines = [`${detail.label}: ${incident.title}`, `state: ${incident.state}; opened ${utc(incident.openedAt)} by ${incident.openedBy}: ${incident.triggerReason}`];
  if (incident.closedAt) lines.push(`closed ${utc(incident.closedAt)} by ${incident.closedBy ?? ''}: ${incident.closeReason ?? ''}`);
  if (incident.commander) lines.push(`commander: ${incident.commander}`);
  lines.push(`advisories: ${incident.advisories.join(', ')}; status every ${formatPolicyDuration(incident.statusEveryMs)}`, '', `scope: ${countsText(scope.total)}`, '');
  const counts = (key: keyof ScopeCounts) => (row: { counts: ScopeCounts }) => String(row.counts[key]);
  const countColumns = [
    { header: 'HOSTS', value: counts('hosts'), align: 'right' as const },
    { header: 'VULNERABLE', value: counts('vulnerable'), align: 'right' as const },
    { header: 'PENDING REBOOT', value: counts('pendingReboot'), align: 'right' as const },
    { header: 'LIVE', value: counts('live'), align: 'right' as const },
    { header: 'EXCLUDED', value: counts('excluded'), align: 'right' as const },
    { header: 'UNKNOWN', value: counts('unknown'), align: 'right' as const },
  ];
  if (scope.byBucket.length > 0) {
    lines.push(renderTable(scope.byBucket, [{ header: 'BUCKET', value: (row) => row.bucket, maxWidth: 32 }, ...countColumns]).trimEnd(), '');
    lines.push(renderTable(scope.byTeam, [{ header: 'TEAM', value: (row) => row.team, maxWidth: 32 }, ...countColumns]).trimEnd(), '');
  }
  if (detail.rollouts.length > 0 || Object.keys(incident.planNotes).length > 0) {
    lines.push('emergency plan:');
    for (const rollout of detail.rollouts) lines.push(`  ${rollout.bucket}: rollout ${rollout.id} (${rollout.strategy}) ${rollout.state}, ${rollout.hosts.length} host${rollout.hosts.length === 1 ? '' : 's'}${rollout.relaxations.length > 0 ? `, skipping ${rollout.relaxations.join(', ')}` : ''}`);
    for (const [bucket, why] of Object.entries(incident.planNotes)) lines.push(`  ${bucket}: no rollout yet: ${why}`);
    for (const relaxation of detail.relaxations) lines.push(`  ${relaxation.bucket}: relaxing ${relaxation.relaxes.join(', ')} approved by ${relaxation.approvedBy}; review ${relaxation.review ? `done ${utc(relaxation.review.at)}` : `due ${utc(relaxation.reviewDueAt)}`}`);
    lines.push('');
  }
  lines.push(scope.closable ? 'may close: every host in scope is live or excluded' : `cannot close yet: ${scope.closeBlockers.map((blocker) => blocker.text).join('; ')}`);
  const duration = (milliseconds: number | undefined, missing: string) => (milliseconds === undefined ? missing : formatPolicyDuration(milliseconds));
  lines.push(`time to detect ${duration(durations.timeToDetectMs, 'unknown')}, to patched ${duration(durations.timeToPatchedMs, 'not yet')}, to live ${duration(durations.timeToLiveMs, 'not yet')}`, '');
  const events = detail.events.slice(-TIMELINE_TAIL);
  lines.push(`timeline (${detail.events.length === events.length ? 'all' : `last ${events.length} of ${detail.events.length}`}; fleetpatch incident timeline ${incident.id} has every event):`);
  for (const event of events) lines.push(`  ${utc(event.at)}  ${event.kind}`);
  lines.push('', detail.updates.length === 0 ? 'no status updates yet' : `status updates: ${detail.updates.length}, the last ${utc(detail.updates.at(-1)!.postedAt)} by ${detail.updates.at(-1)!.author}`);
  return `${lines.join('\n')}\n`;
}

function countsText(counts: ScopeCounts): string {
  return `${counts.hosts} hosts: ${counts.vulnerable} vulnerable, ${counts.pendingReboot} pending reboot, ${counts.live} live, ${counts.excluded} excluded, ${counts.unknown} unknown`;
}

function utc(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/** `{ [key]: value }`, or nothing for an undefined value (the options are exact). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
