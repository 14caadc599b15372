import { describe, expect, it } from 'vitest';
import { bucketRulesAsPolicy, bucketRulesOwnership, parseBucketRules } from './bucket-rules.js';
import { compileSelector, type HostSelector } from './host-selector.js';
import { LABEL_OWNERSHIP, ownershipFromBuckets, selectableHost } from './ownership.js';

describe('ownership from policy buckets', () => {
  const buckets = [
    { name: 'canaries', owner: 'sre', match: { hostnames: ['canary-*'] } },
    { name: 'databases', owner: 'dba', match: { labels: { role: 'postgres' }, expressions: [{ key: 'env', operator: '!=' as const, value: 'dev' }] } },
    { name: 'k8s', owner: 'platform', match: { expressions: [{ key: 'role', operator: 'in' as const, values: ['k8s-node', 'k8s-master'] }] } },
    { name: 'ubuntu', owner: 'ops', match: { os: { family: 'debian', release: '24' } } },
  ];
  const ownership = ownershipFromBuckets(buckets, { bucket: 'leftovers', owner: 'nobody' });

  it('takes the first bucket that matches, in policy order, whichever label files it', () => {
    expect(ownership.ownerOf(selectableHost('canary-1', { role: 'postgres' }, undefined))).toEqual({ bucket: 'canaries', team: 'sre' });
    expect(ownership.ownerOf(selectableHost('pg-1', { role: 'postgres', env: 'prod' }, undefined))).toEqual({ bucket: 'databases', team: 'dba' });
    expect(ownership.ownerOf(selectableHost('pg-2', { role: 'postgres', env: 'dev' }, { id: 'ubuntu', idLike: ['debian'], versionId: '24.04' }))).toEqual({ bucket: 'ubuntu', team: 'ops' });
    expect(ownership.ownerOf(selectableHost('node-1', { role: 'k8s-master' }, undefined))).toEqual({ bucket: 'k8s', team: 'platform' });
  });

  it('falls back to the policy fallback, not the host labels', () => {
    expect(ownership.ownerOf(selectableHost('x', { bucket: 'mine', team: 'me' }, undefined))).toEqual({ bucket: 'leftovers', team: 'nobody' });
    expect(LABEL_OWNERSHIP.ownerOf(selectableHost('x', { bucket: 'mine', team: 'me' }, undefined))).toEqual({ bucket: 'mine', team: 'me' });
  });

  it('agrees with testing every bucket in order on random hosts and selectors', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648), seed % n);
    const value = () => `v${random(4)}`;
    const selector = (): HostSelector => {
      const kind = random(4);
      if (kind === 0) return { labels: { [`k${random(3)}`]: value() } };
      if (kind === 1) return { expressions: [{ key: `k${random(3)}`, operator: 'in', values: [value(), value()] }, { key: `k${random(3)}`, operator: 'notin', values: [value()] }] };
      if (kind === 2) return { expressions: [{ key: `k${random(3)}`, operator: 'exists' }] };
      return { hostnames: [`h${random(3)}*`] };
    };
    const randomBuckets = Array.from({ length: 40 }, (_, index) => ({ name: `b${index}`, owner: `t${index}`, match: selector() }));
    const indexed = ownershipFromBuckets(randomBuckets, { bucket: 'none', owner: 'none' });
    const predicates = randomBuckets.map((bucket) => compileSelector(bucket.match));
    for (let trial = 0; trial < 2_000; trial++) {
      const labels: Record<string, string> = {};
      for (let key = 0; key < 3; key++) if (random(3) > 0) labels[`k${key}`] = value();
      const host = selectableHost(`h${random(4)}-${trial}`, labels, undefined);
      const first = predicates.findIndex((matches) => matches(host));
      expect(indexed.ownerOf(host).bucket).toBe(first === -1 ? 'none' : `b${first}`);
    }
  });

  it('converts buckets.yaml into the policy form: one value is a label, a list an `in` expression', () => {
    const rules = parseBucketRules('buckets:\n  - name: databases\n    owner: dba\n    selector: { role: [postgres, mysql], env: production }\ndefault: { name: unassigned, owner: sre }\n', 'buckets.yaml');
    expect(bucketRulesAsPolicy(rules)).toEqual({
      buckets: [{ name: 'databases', owner: 'dba', match: { labels: { env: 'production' }, expressions: [{ key: 'role', operator: 'in', values: ['postgres', 'mysql'] }] } }],
      fallback: { bucket: 'unassigned', owner: 'sre' },
    });
    expect(bucketRulesOwnership(rules).ownerOf(selectableHost('m', { role: 'mysql', env: 'production' }, undefined))).toEqual({ bucket: 'databases', team: 'dba' });
    expect(bucketRulesOwnership(rules).ownerOf(selectableHost('m', { role: 'mysql', team: 'web' }, undefined))).toEqual({ bucket: 'unassigned', team: 'web' });
  });
});
