/**
 * The legacy buckets.yaml (label selectors → bucket and owner team), kept for one release: it is
 * read here and converted into the policy's `buckets` form (`bucketRulesAsPolicy`), so the policy's
 * matching decides ownership either way. New fleets write the `buckets` section of fleetpatch.yaml.
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
import type { HostSelector, LabelExpression } from './host-selector.js';
import { ownershipFromBuckets, selectableHost, type Ownership, type OwnershipBucket, type OwnershipRules } from './ownership.js';

export type { Ownership } from './ownership.js';

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
 * The rules in the policy's form: a one-value selector is a label equality, a list is an `in`
 * expression (`selector: { role: [a, b] }` → `match: { expressions: [{ key: role, operator: in, values: [a, b] }] }`),
 * and `default` is the fallback.
 *
 * @example bucketRulesAsPolicy(parseBucketRules(text, 'buckets.yaml')).buckets[0].match // { labels: { role: 'k8s-node' } }
 */
export function bucketRulesAsPolicy(rules: BucketRules): { buckets: OwnershipBucket[]; fallback: { bucket: string; owner: string } } {
  return {
    buckets: rules.rules.map((rule) => {
      const labels: Record<string, string> = {};
      const expressions: LabelExpression[] = [];
      for (const [key, values] of Object.entries(rule.selector)) {
        if (values.length === 1) labels[key] = values[0]!;
        else expressions.push({ key, operator: 'in', values });
      }
      const match: HostSelector = { ...(Object.keys(labels).length > 0 ? { labels } : {}), ...(expressions.length > 0 ? { expressions } : {}) };
      return { name: rule.name, owner: rule.owner, match };
    }),
    fallback: { bucket: rules.fallback.name, owner: rules.fallback.owner },
  };
}

/**
 * Ownership by the converted rules; as buckets.yaml always did, a host no rule matches keeps its
 * own `bucket` and `team` labels before the default.
 *
 * @example bucketRulesOwnership(rules).ownerOf(host) // { bucket: 'k8s-nodes', team: 'platform' }
 */
export function bucketRulesOwnership(rules: BucketRules): OwnershipRules {
  const { buckets, fallback } = bucketRulesAsPolicy(rules);
  return ownershipFromBuckets(buckets, fallback, { labelFallback: true });
}

/**
 * The first rule whose selector matches wins; without a match, the host's own `bucket` and `team`
 * labels, then the default.
 *
 * @example assignBucket(rules, { role: 'k8s-node' }) // { bucket: 'k8s-nodes', team: 'platform' }
 */
export function assignBucket(rules: BucketRules, labels: Record<string, string>): Ownership {
  return bucketRulesOwnership(rules).ownerOf(selectableHost('', labels, undefined));
}
