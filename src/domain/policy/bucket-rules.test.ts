import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { assignBucket, parseBucketRules } from './bucket-rules.js';

const RULES = `buckets:
  - name: k8s-nodes
    owner: platform
    selector: { role: k8s-node }
  - name: databases
    owner: dba
    selector:
      role: [postgres, mysql]
      env: production
default: { name: unassigned, owner: sre }
`;

describe('bucket rules', () => {
  const rules = parseBucketRules(RULES, 'buckets.yaml');

  it('assigns the first matching bucket and its owner', () => {
    expect(assignBucket(rules, { role: 'k8s-node', env: 'staging' })).toEqual({ bucket: 'k8s-nodes', team: 'platform' });
    expect(assignBucket(rules, { role: 'mysql', env: 'production' })).toEqual({ bucket: 'databases', team: 'dba' });
  });

  it('falls back to the host labels, then the default', () => {
    expect(assignBucket(rules, { role: 'mysql', env: 'staging' })).toEqual({ bucket: 'unassigned', team: 'sre' });
    expect(assignBucket(rules, { bucket: 'physical', team: 'infra' })).toEqual({ bucket: 'physical', team: 'infra' });
  });

  it('names the line and field of a bad rule', () => {
    const bad = RULES.replace('name: databases', 'name: Data Bases');
    let error: unknown;
    try {
      parseBucketRules(bad, 'buckets.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ file: 'buckets.yaml', line: 5, field: 'buckets[1].name' });
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseBucketRules('buckets:\n  - name: a\n   owner: b\n', 'b.yaml')).toThrow(/b\.yaml, line 3/);
  });
});
