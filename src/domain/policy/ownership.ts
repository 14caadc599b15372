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
 * @example ownershipFromBuckets([{ name: 'db', owner: 'dba', match: { labels: { role: 'postgres' } } }], { bucket: 'unassigned', owner: 'unowned' }).ownerOf(host)
 */
export function ownershipFromBuckets(buckets: readonly OwnershipBucket[], fallback: { bucket: string; owner: string }, options: OwnershipOptions = {}): OwnershipRules {
  const compiled = buckets.map((bucket) => ({ matches: compileSelector(bucket.match), ownership: { bucket: bucket.name, team: bucket.owner } }));
  return {
    ownerOf(host) {
      for (const candidate of compiled) if (candidate.matches(host)) return { ...candidate.ownership };
      if (options.labelFallback) return { bucket: host.labels.bucket ?? fallback.bucket, team: host.labels.team ?? fallback.owner };
      return { bucket: fallback.bucket, team: fallback.owner };
    },
  };
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
