/**
 * Buckets and owners: a small YAML file maps label selectors to a bucket (a class of host) and the
 * team that owns it. The policy file of a later stage replaces this module; until then it is the
 * one place that decides who owns a host.
 *
 * ```yaml
 * buckets:
 *   - name: k8s-nodes
 *     owner: platform
 *     selector: { role: k8s-node }
 *   - name: databases
 *     owner: dba
 *     selector: { role: [postgres, mysql] }
 * default: { name: unassigned, owner: unowned }
 * ```
 */
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';

export interface BucketRule {
  name: string;
  owner: string;
  /** Every label must match; a list means any of its values. */
  selector: Record<string, string[]>;
}

export interface BucketRules {
  rules: BucketRule[];
  fallback: { name: string; owner: string };
}

export interface Ownership {
  bucket: string;
  team: string;
}

const labelValue = z.union([z.string(), z.array(z.string()).min(1)]);
const bucketFile = z.object({
  buckets: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'bucket names are lowercase letters, digits, - and _'),
        owner: z.string().min(1),
        selector: z.record(z.string(), labelValue),
      }),
    )
    .default([]),
  default: z.object({ name: z.string().min(1), owner: z.string().min(1) }).default({ name: 'unassigned', owner: 'unowned' }),
});

/** Buckets from host labels alone (`bucket`, `team` labels), when no rules file is given. */
export const LABEL_BUCKETS: BucketRules = { rules: [], fallback: { name: 'unassigned', owner: 'unowned' } };

/**
 * @example parseBucketRules(text, 'buckets.yaml').rules[0] // { name: 'k8s-nodes', owner: 'platform', selector: { role: ['k8s-node'] } }
 */
export function parseBucketRules(text: string, fileName: string): BucketRules {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    throw new InputError(error.message.split('\n')[0]!, { file: fileName, line: lineCounter.linePos(error.pos[0]).line });
  }
  const result = bucketFile.safeParse(document.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const node = document.getIn(issue.path as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    const parentNode = document.getIn(issue.path.slice(0, -1) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    const offset = (node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined) ?? (isMap(parentNode) || isSeq(parentNode) ? parentNode.range?.[0] : undefined);
    const field = issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '');
    throw new InputError(issue.message, { file: fileName, ...(offset !== undefined ? { line: lineCounter.linePos(offset).line } : {}), ...(field ? { field } : {}) });
  }
  return {
    rules: result.data.buckets.map((bucket) => ({
      name: bucket.name,
      owner: bucket.owner,
      selector: Object.fromEntries(Object.entries(bucket.selector).map(([label, value]) => [label, Array.isArray(value) ? value : [value]])),
    })),
    fallback: result.data.default,
  };
}

/**
 * The first rule whose selector matches wins; without a match, the host's own `bucket` and `team`
 * labels, then the default.
 *
 * @example assignBucket(rules, { role: 'k8s-node' }) // { bucket: 'k8s-nodes', team: 'platform' }
 */
export function assignBucket(rules: BucketRules, labels: Record<string, string>): Ownership {
  const rule = rules.rules.find((candidate) => Object.entries(candidate.selector).every(([label, values]) => labels[label] !== undefined && values.includes(labels[label]!)));
  if (rule) return { bucket: rule.name, team: rule.owner };
  return { bucket: labels.bucket ?? rules.fallback.name, team: labels.team ?? rules.fallback.owner };
}
