/**
 * Policy revisions as a use case: applying a policy text (judged first; a text with an error is
 * refused whole and stores nothing), re-assigning stored hosts to the buckets it names, and the
 * policy in force in a server process, which follows the latest revision in the database so every
 * replica agrees. The in-force policy is what check-ins ask who owns a host.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import type { SelectableHost } from '../domain/policy/host-selector.js';
import { LABEL_OWNERSHIP, policyOwnership, selectableHost, type Ownership, type OwnershipRules } from '../domain/policy/ownership.js';
import { formatPolicyIssue, hasErrors, type PolicyIssue, type PolicyJudgement } from '../domain/policy/policy-report.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { appendAudit } from '../store/audit-log.js';
import { notifyChange, type ChangeListener } from '../store/change-notifications.js';
import { insertPolicyRevision, latestPolicyRevision, lockPolicyRevisions, storedHostOwnership, type PolicyRevisionSummary } from '../store/policy-store.js';
import { withTransaction } from '../store/transaction.js';
import { inlinePolicyReader, type PolicyReader } from './policy-reader.js';

/** A policy text with at least one error: nothing was stored. `issues` lists every problem. */
export class PolicyRefused extends InputError {
  constructor(
    readonly source: string,
    readonly issues: PolicyIssue[],
  ) {
    const errors = issues.filter((issue) => issue.level === 'error');
    const first = errors[0]!;
    super(
      `${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : ''}`,
      { file: source, ...(first.line !== undefined ? { line: first.line } : {}), ...(first.column !== undefined ? { column: first.column } : {}), ...(first.field ? { field: first.field } : {}) },
      'nothing was stored; fleetpatch policy check FILE lists every problem',
    );
  }
}

export interface PolicyApplyRequest {
  text: string;
  /** The judgement of `text` (the server's comes from its worker thread). */
  judgement: PolicyJudgement;
  /** Audit actor: `cli:alice`, `token:ci`, `server:file`. */
  author: string;
  message: string;
  /** Where the text came from: a file name, or `api`. */
  source: string;
  /** Computes the diff against the previous revision (the server's worker; default in line). */
  reader?: PolicyReader;
}

export interface PolicyApplyResult {
  /** `unchanged`: the latest revision has this exact content, and nothing was stored. */
  status: 'applied' | 'unchanged';
  revision: PolicyRevisionSummary;
  policy: Policy;
  warnings: PolicyIssue[];
}

/** SHA-256 of the text, hex: a revision's identity. */
export function policyContentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Stores `text` as the next revision with its unified diff against the previous one, an audit entry
 * and a `fleetpatch_policy` notification, all in one transaction; refuses a text with errors
 * (PolicyRefused) before touching the database. Hosts are re-assigned separately (`reassignHosts`, host-reassignment.ts),
 * in short batches after the commit.
 *
 * @example await applyPolicy(pool, { text, judgement: judgePolicy(text, { now }), author: 'cli:alice', message: 'databases on Tuesdays', source: 'fleetpatch.yaml' })
 */
export async function applyPolicy(pool: pg.Pool, request: PolicyApplyRequest): Promise<PolicyApplyResult> {
  const { judgement } = request;
  if (hasErrors(judgement) || !judgement.policy) throw new PolicyRefused(request.source, judgement.issues);
  const policy = judgement.policy;
  const warnings = judgement.issues.filter((issue) => issue.level === 'warning');
  const contentHash = policyContentHash(request.text);
  return withTransaction(pool, async (client) => {
    await lockPolicyRevisions(client);
    const latest = await latestPolicyRevision(client);
    if (latest && latest.contentHash === contentHash) return { status: 'unchanged' as const, revision: latest, policy, warnings };
    const diff = await (request.reader ?? inlinePolicyReader).diff(latest ? `revision ${latest.revision}` : '/dev/null', `revision ${(latest?.revision ?? 0) + 1}`, latest?.text ?? '', request.text);
    const revision = await insertPolicyRevision(client, { contentHash, author: request.author, message: request.message, source: request.source, text: request.text, diff });
    await notifyChange(client, 'fleetpatch_policy', String(revision.revision));
    await appendAudit(client, {
      action: 'policy.applied',
      actor: request.author,
      subject: `policy-revision:${revision.revision}`,
      ...(request.message ? { reason: request.message } : {}),
      details: { contentHash, source: request.source, previous: latest?.revision ?? null, buckets: policy.buckets.length },
    });
    return { status: 'applied' as const, revision, policy, warnings };
  });
}

/** Stored hosts as selectors see them (`policy check --against-fleet`). */
export async function storedSelectableHosts(pool: pg.Pool): Promise<SelectableHost[]> {
  return (await storedHostOwnership(pool)).map((host) => selectableHost(host.name, host.labels, { id: host.osId, idLike: host.osIdLike, versionId: host.osVersion }));
}

/** Where the ownership in force comes from. */
export type PolicyOrigin = 'revision' | 'buckets-file' | 'labels';

export interface PolicyState {
  origin: PolicyOrigin;
  revision?: PolicyRevisionSummary;
  text?: string;
  policy?: Policy;
}

/**
 * The policy a server process enforces: the latest revision in the database once there is one,
 * before that the legacy buckets.yaml (converted) or the hosts' labels. It only moves forward (a
 * late notification of an older revision changes nothing), and a stored text that no longer reads
 * is logged and leaves the policy in force as it was.
 */
export class PolicyInForce implements OwnershipRules {
  private state: PolicyState;
  private ownership: OwnershipRules;
  private refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly reader: PolicyReader,
    private readonly log: (message: string) => void,
    initial: { origin: 'buckets-file'; ownership: OwnershipRules } | { origin: 'labels' } = { origin: 'labels' },
  ) {
    this.state = { origin: initial.origin };
    this.ownership = initial.origin === 'buckets-file' ? initial.ownership : LABEL_OWNERSHIP;
  }

  ownerOf(host: SelectableHost): Ownership {
    return this.ownership.ownerOf(host);
  }

  get current(): PolicyState {
    return this.state;
  }

  /** Takes `policy` as revision `revision` unless a newer one is already in force. */
  adopt(revision: PolicyRevisionSummary, text: string, policy: Policy): void {
    if (this.state.revision && this.state.revision.revision >= revision.revision) return;
    this.ownership = policyOwnership(policy);
    this.state = { origin: 'revision', revision, text, policy };
  }

  /** Reads the latest revision and adopts it when it is newer; refreshes run one at a time. */
  refresh(now = new Date()): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      const latest = await latestPolicyRevision(this.pool);
      if (!latest || (this.state.revision && this.state.revision.revision >= latest.revision)) return;
      const judgement = await this.reader.judge(latest.text, now);
      if (!judgement.policy || hasErrors(judgement)) {
        for (const issue of judgement.issues.filter((candidate) => candidate.level === 'error')) this.log(formatPolicyIssue(`policy revision ${latest.revision}`, issue));
        this.log(`policy revision ${latest.revision} does not read; ${this.describe()} stays in force`);
        return;
      }
      this.adopt(latest, latest.text, judgement.policy);
      this.log(`policy revision ${latest.revision} in force (${latest.author}${latest.message ? `: ${latest.message}` : ''})`);
    }).catch((error: unknown) => this.log(`reading the latest policy revision failed (${error instanceof Error ? error.message : String(error)}); ${this.describe()} stays in force`));
    return this.refreshing;
  }

  /** Follows revisions applied by any process: on each notification, and after missed ones. */
  follow(changes: ChangeListener): void {
    changes.subscribe('fleetpatch_policy', () => void this.refresh());
    changes.onReset((listening) => {
      if (listening) void this.refresh();
    });
  }

  describe(): string {
    if (this.state.revision) return `policy revision ${this.state.revision.revision}`;
    return this.state.origin === 'buckets-file' ? 'the buckets file' : 'the hosts\' bucket and team labels';
  }
}
