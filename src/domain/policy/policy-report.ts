/**
 * One judgement of a policy text, as `policy check`, `policy apply`, the API and the server's
 * reload all give it: the reading's problems (errors) and, once it parses, the cross-checks
 * (errors and warnings), each located at a line and column of the file so an editor can jump to
 * it. A policy with an error is never applied; warnings are reported and do not block.
 */
import type { SelectableHost } from './host-selector.js';
import { checkPolicy } from './policy-check.js';
import { readLocatedPolicy } from './policy-document.js';
import type { Policy } from './policy-schema.js';

export interface PolicyIssue {
  level: 'error' | 'warning';
  message: string;
  /** The policy path it is about, e.g. `buckets[1].windows[0]`. */
  field?: string;
  line?: number;
  column?: number;
}

export interface PolicyJudgement {
  /** The parsed policy, when it reads (it may still have cross-check errors). */
  policy?: Policy;
  issues: PolicyIssue[];
}

/**
 * @example judgePolicy(text, { now: new Date() }).issues.filter((issue) => issue.level === 'error') // [] for a policy that may be applied
 */
export function judgePolicy(text: string, options: { now: Date; hosts?: SelectableHost[] }): PolicyJudgement {
  const { reading, locate } = readLocatedPolicy(text);
  if (!reading.ok) return { issues: reading.problems.map((problem) => ({ level: 'error' as const, ...problem })) };
  const issues = checkPolicy(reading.policy, options).map((finding): PolicyIssue => ({ ...finding, ...locate(finding.field) }));
  // Errors first, each group in file order, as a compiler lists them.
  issues.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { policy: reading.policy, issues };
}

/** True when the judgement lets the policy be applied. */
export function hasErrors(judgement: PolicyJudgement): boolean {
  return judgement.issues.some((issue) => issue.level === 'error');
}

/**
 * `fleetpatch.yaml:12:7: error: buckets[1].windows[0]: message`, the compiler form editors parse;
 * an issue without a position is put on the first line.
 *
 * @example formatPolicyIssue('fleetpatch.yaml', { level: 'warning', field: 'buckets', message: '2 hosts match no bucket', line: 40, column: 1 })
 */
export function formatPolicyIssue(file: string, issue: PolicyIssue): string {
  return `${file}:${issue.line ?? 1}:${issue.column ?? 1}: ${issue.level}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`;
}
