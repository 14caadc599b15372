/**
 * Who owns a host: the one question every import and check-in asks of the policy. An
 * `OwnershipRules` answers it from the host's name, labels and OS; the policy's buckets (first
 * match wins, then the policy's fallback), a legacy buckets.yaml converted into the same form, or,
 * with neither, the host's own `bucket` and `team` labels.
 */
import { compileSelector, type HostSelector, type SelectableHost } from './host-selector.js';
import type { Policy } from './policy-schema.js';

export interface Ownership {
  bucket: string;
  team: string;
}

/** What inventory imports and the control plane ask; built once per policy, asked per host. */
export interface OwnershipRules {
  ownerOf(host: SelectableHost): Ownership;
}

/** The part of a policy bucket that decides ownership. */
export interface OwnershipBucket {
  name: string;
  owner: string;
  match: HostSelector;
}

export interface OwnershipOptions {
  /**
   * Before the fallback, take the host's own `bucket` and `team` labels (what buckets.yaml did);
   * a policy does not, so its fallback is the only answer for hosts no bucket matches.
   */
  labelFallback?: boolean;
}

/** Without a policy or rules file: the host's `bucket` and `team` labels, else unassigned/unowned. */
export const LABEL_OWNERSHIP: OwnershipRules = ownershipFromBuckets([], { bucket: 'unassigned', owner: 'unowned' }, { labelFallback: true });

/**
 * First match wins, without testing every bucket: a bucket that requires a label value (`labels`,
 * `=` or `in`) is filed under that label and value, so a host is tested only against the buckets
 * filed under its own label values and those that require none, in policy order. A 500-bucket
 * policy then costs a host a few tests instead of up to 500, at check-ins and when 100,000 stored
 * hosts are re-assigned.
 *
 * @example ownershipFromBuckets([{ name: 'db', owner: 'dba', match: { labels: { role: 'postgres' } } }], { bucket: 'unassigned', owner: 'unowned' }).ownerOf(host)
 */
export function ownershipFromBuckets(buckets: readonly OwnershipBucket[], fallback: { bucket: string; owner: string }, options: OwnershipOptions = {}): OwnershipRules {
  const compiled = buckets.map((bucket) => ({ matches: compileSelector(bucket.match), ownership: { bucket: bucket.name, team: bucket.owner } }));
  // label key → label value → indexes of the buckets that require it (ascending); the rest apart.
  const byLabel = new Map<string, Map<string, number[]>>();
  const unfiled: number[] = [];
  buckets.forEach((bucket, index) => {
    const required = requiredLabelValues(bucket.match);
    if (!required) return void unfiled.push(index);
    const values = byLabel.get(required.key) ?? new Map<string, number[]>();
    byLabel.set(required.key, values);
    for (const value of required.values) {
      const list = values.get(value) ?? [];
      if (list.at(-1) !== index) list.push(index);
      values.set(value, list);
    }
  });
  return {
    ownerOf(host) {
      let candidates = unfiled;
      for (const [key, values] of byLabel) {
        const value = host.labels[key];
        const filed = value === undefined ? undefined : values.get(value);
        if (filed) candidates = candidates === unfiled ? [...unfiled, ...filed] : [...candidates, ...filed];
      }
      if (candidates !== unfiled) candidates.sort((a, b) => a - b);
      for (const index of candidates) if (compiled[index]!.matches(host)) return { ...compiled[index]!.ownership };
      if (options.labelFallback) return { bucket: host.labels.bucket ?? fallback.bucket, team: host.labels.team ?? fallback.owner };
      return { bucket: fallback.bucket, team: fallback.owner };
    },
  };
}

/** One label the selector requires to have one of some values, if it has such a condition. */
function requiredLabelValues(selector: HostSelector): { key: string; values: string[] } | undefined {
  const [equality] = Object.entries(selector.labels ?? {});
  if (equality) return { key: equality[0], values: [equality[1]] };
  for (const expression of selector.expressions ?? []) {
    if (expression.operator === '=') return { key: expression.key, values: [expression.value] };
    if (expression.operator === 'in') return { key: expression.key, values: expression.values };
  }
  return undefined;
}

/**
 * @example policyOwnership(parsePolicy(text, 'fleetpatch.yaml')).ownerOf(selectableHost('pg-1', { role: 'postgres' }, { id: 'debian', idLike: [], versionId: '12' }))
 */
export function policyOwnership(policy: Pick<Policy, 'buckets' | 'fallback'>): OwnershipRules {
  return ownershipFromBuckets(policy.buckets, policy.fallback);
}

/**
 * The host as selectors see it: `ID` and `ID_LIKE` of os-release are its OS families, `VERSION_ID` its release.
 *
 * @example selectableHost('web-1', { role: 'web' }, { id: 'ubuntu', idLike: ['debian'], versionId: '24.04' }).osFamilies // ['ubuntu', 'debian']
 */
export function selectableHost(name: string, labels: Record<string, string>, os: { id?: string | null; idLike?: readonly string[] | null; versionId?: string | null } | undefined): SelectableHost {
  const families = [...(os?.id ? [os.id] : []), ...(os?.idLike ?? [])];
  return { name, labels, osFamilies: families, ...(os?.versionId ? { osRelease: os.versionId } : {}) };
}
