/**
 * One judgement of a policy text, as `policy check`, `policy apply`, the API and the server's
 * reload all give it: the reading's problems (errors) and, once it parses, the cross-checks
 * (errors and warnings), each located at a line and column of the file so an editor can jump to
 * it. A policy with an error is never applied; warnings are reported and do not block.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { SelectableHost } from './host-selector.js';
import { checkPolicy } from './policy-check.js';
import { readPolicy } from './policy-document.js';
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
  const reading = readPolicy(text);
  if (!reading.ok) return { issues: reading.problems.map((problem) => ({ level: 'error' as const, ...problem })) };
  const findings = checkPolicy(reading.policy, options);
  const locate = findings.length > 0 ? fieldLocator(text) : undefined;
  const issues = findings.map((finding): PolicyIssue => ({ ...finding, ...locate?.(finding.field) }));
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

/** Finds where a field path (`windows.nightly`, `buckets[2].match`) starts in the text, or its nearest ancestor. */
function fieldLocator(text: string): (field: string) => { line?: number; column?: number } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (field) => {
    const path = fieldPath(field);
    for (let length = path.length; length >= 0; length--) {
      const node = (length === 0 ? document.contents : document.getIn(path.slice(0, length), true)) as { range?: [number, number, number] } | null | undefined;
      if (node && typeof node === 'object' && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return {};
  };
}

/** `buckets[2].windows[0]` → ['buckets', 2, 'windows', 0]. Names in the policy never hold "." or "[". */
function fieldPath(field: string): Array<string | number> {
  const path: Array<string | number> = [];
  for (const part of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(part[2] !== undefined ? Number(part[2]) : part[1]!);
  return path;
}
