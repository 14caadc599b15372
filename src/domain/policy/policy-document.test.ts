// The policy file: the seed's example checks clean, the committed JSON Schema is the generated
// one, and every kind of mistake is reported at its line and column with the field's path.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPolicy } from './policy-check.js';
import { parsePolicy, readPolicy, type PolicyProblem } from './policy-document.js';
import { policyJsonSchemaText } from './policy-json-schema.js';
import { compileSelector } from './host-selector.js';
import { resolveQuantity, waveSizes } from './quantity.js';
import { freezeIntervals } from './freeze.js';

const example = readFileSync(new URL('../../../examples/fleetpatch.yaml', import.meta.url), 'utf8');
const NOW = new Date('2026-12-01T00:00:00Z');

const MINIMAL = `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "03:00", duration: 1h }
buckets:
  - name: nodes
    owner: platform
    strategy: { kind: in-place }
    windows: [nightly]
`;

function problems(text: string): PolicyProblem[] {
  const reading = readPolicy(text);
  if (reading.ok) throw new Error('expected problems');
  return reading.problems;
}

describe('policy file', () => {
  it('reads the seed\'s example and finds nothing to warn about', () => {
    const policy = parsePolicy(example, 'examples/fleetpatch.yaml');
    expect(policy.buckets.map((bucket) => [bucket.name, bucket.strategy.kind])).toEqual([
      ['kubernetes-nodes', 'rolling-reboot'], ['databases', 'in-place'], ['stateless', 'replace'], ['physical', 'manual'],
    ]);
    expect(policy.buckets[0]!.maxInFlight).toEqual({ percent: 10 });
    expect(policy.buckets[1]!.reboot).toMatchObject({ timeout: 300_000, onTimeout: 'page' });
    expect(policy.emergency.statusEvery).toBe(2 * 3_600_000);
    expect(checkPolicy(policy, { now: NOW })).toEqual([]);
  });

  it('commits the JSON Schema generated from the zod schema (npm run policy:schema rewrites it)', () => {
    const committed = readFileSync(new URL('../../../schemas/fleetpatch-policy.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(policyJsonSchemaText());
  });

  it.each([
    ['an unknown key, with a did-you-mean', MINIMAL.replace('    owner: platform', '    owner: platform\n    maxInflight: 3'), { field: 'buckets[0].maxInflight', line: 7, column: 5, message: /unknown key "maxInflight"; did you mean "maxInFlight"\?/ }],
    ['a misspelt top-level key', `${MINIMAL}freezez: []\n`, { field: 'freezez', line: 9, column: 1, message: /did you mean "freezes"/ }],
    ['a wrong type', MINIMAL.replace('strategy: { kind: in-place }', 'strategy: in-place'), { field: 'buckets[0].strategy', line: 7, message: /object/ }],
    ['a missing field', MINIMAL.replace('    owner: platform\n', ''), { field: 'buckets[0].owner', line: 5, message: /missing "owner"/ }],
    ['a bad duration', MINIMAL.replace('duration: 1h', 'duration: 1 hour'), { field: 'windows.nightly.duration', line: 3, message: /duration like 90s/ }],
    ['a bad share', MINIMAL.replace('    windows: [nightly]', '    windows: [nightly]\n    maxInFlight: "150%"'), { field: 'buckets[0].maxInFlight', line: 9, column: 18, message: /share of the bucket/ }],
    ['an unknown time zone', MINIMAL.replace('timeZone: UTC', 'timeZone: Mars/Olympus'), { field: 'windows.nightly.timeZone', line: 3, message: /not a time zone/ }],
    ['a window nobody defined', MINIMAL.replace('windows: [nightly]', 'windows: [nitely]'), { field: 'buckets[0].windows[0]', line: 8, column: 15, message: /no window named "nitely"; did you mean "nightly"\?/ }],
    ['a bucket name used twice', `${MINIMAL}  - name: nodes\n    owner: other\n    strategy: { kind: in-place }\n    windows: [nightly]\n`, { field: 'buckets[1].name', line: 9, message: /used twice/ }],
    ['a YAML syntax error', MINIMAL.replace('buckets:', 'buckets: [\n'), { line: 6, message: /./ }],
    ['a duplicate key', MINIMAL.replace('    owner: platform', '    owner: platform\n    owner: dba'), { line: 7, message: /unique/i }],
    ['a freeze ending before it starts', `${MINIMAL}freezes:\n  - { name: f, from: 2026-12-24, until: 2026-12-20 }\n`, { field: 'freezes[0].until', line: 10, message: /ends before it starts/ }],
    ['a control character', `${MINIMAL}# \u001b[31m\n`, { message: /control character/ }],
  ])('refuses %s at its line and column', (_what, text, expected) => {
    const [problem] = problems(text);
    const { message, ...location } = expected as { message: RegExp; field?: string; line?: number; column?: number };
    expect(problem!.message).toMatch(message);
    expect(problem).toMatchObject(location);
  });

  it('names the file, line, column and field in the error parsePolicy throws, and how many problems there are', () => {
    const text = MINIMAL.replace('owner: platform', 'owner: platform\n    maxInflight: 3\n    wavez: [1]');
    expect(() => parsePolicy(text, 'fleetpatch.yaml')).toThrow(/^fleetpatch\.yaml, line 7, column 5, field buckets\[0\]\.maxInflight: unknown key "maxInflight"; did you mean "maxInFlight"\? \(and 1 more problem; fleetpatch policy check lists them all\)$/);
  });
});

describe('policy check', () => {
  const policyWith = (extra: string) => parsePolicy(MINIMAL + extra, 'p.yaml');

  it('refuses an emergency cadence of nothing and a target that can never be met, naming the field and its line', () => {
    const found = problems(`${MINIMAL}emergency:\n  statusEvery: 0s\n  target: 0s\n`);
    expect(found.map(({ field, line, message }) => ({ field, line, message }))).toEqual([
      { field: 'emergency.statusEvery', line: 10, message: 'an incident posts its status at most every minute: give 1m or more' },
      { field: 'emergency.target', line: 11, message: 'a target of 0 can never be met: give a duration' },
    ]);
    expect(readPolicy(`${MINIMAL}emergency: { statusEvery: 1m }\n`).ok).toBe(true);
  });

  it('refuses a window no host of the bucket can fit into', () => {
    const policy = parsePolicy(MINIMAL.replace('duration: 1h }', 'duration: 20m, admissionCutoff: 5m }').replace('    windows: [nightly]', '    windows: [nightly]\n    expectedHostDuration: 12m'), 'p.yaml');
    expect(checkPolicy(policy, { now: NOW })).toEqual([
      { level: 'error', field: 'buckets[0].windows[0]', message: 'no host of nodes can ever fit into nightly: it admits hosts for 15m, a host needs at least 17m (expectedHostDuration 12m + reboot notice and timeout 5m)' },
    ]);
  });

  it('warns about a bucket that an earlier one shadows, and not about one it does not', () => {
    const policy = policyWith(`  - name: databases
    owner: dba
    match: { labels: { role: db, env: prod } }
    strategy: { kind: in-place }
    windows: [nightly]
  - name: prod-databases
    owner: dba
    match: { labels: { env: prod, role: db, tier: primary } }
    strategy: { kind: in-place }
    windows: [nightly]
`);
    const findings = checkPolicy(policy, { now: NOW });
    // "nodes" matches every host (no selector), so both later buckets are shadowed by it.
    expect(findings.map((finding) => finding.field)).toEqual(['buckets[1].match', 'buckets[2].match']);
    expect(findings[0]!.message).toMatch(/nodes comes first/);
    const reordered = parsePolicy(MINIMAL.replace('    owner: platform', '    owner: platform\n    match: { labels: { role: k8s } }') + `  - name: databases
    owner: dba
    match: { labels: { role: db } }
    strategy: { kind: in-place }
    windows: [nightly]
  - name: primaries
    owner: dba
    match: { labels: { role: db, tier: primary } }
    strategy: { kind: in-place }
    windows: [nightly]
`, 'p.yaml');
    expect(checkPolicy(reordered, { now: NOW }).map((finding) => finding.message)).toEqual(['bucket primaries can never match a host: databases comes first and takes every host it would (first match wins)']);
  });

  it('warns about hosts no bucket matches', () => {
    const policy = parsePolicy(MINIMAL.replace('    owner: platform', '    owner: platform\n    match: { labels: { role: k8s } }'), 'p.yaml');
    const hosts = [{ name: 'k1', labels: { role: 'k8s' }, osFamilies: ['debian'] }, { name: 'db-1', labels: { role: 'db' }, osFamilies: ['debian'] }];
    expect(checkPolicy(policy, { now: NOW, hosts })).toEqual([{ level: 'warning', field: 'buckets', message: '1 of 2 hosts match no bucket and fall to unassigned (db-1)' }]);
  });

  it('warns about a freeze longer than an SLA it would break, unless the emergency path passes it', () => {
    const long = policyWith('freezes:\n  - { name: year-end, from: "12-20", until: "01-03" }\n');
    expect(checkPolicy(long, { now: NOW }).map((finding) => finding.message)).toEqual([
      expect.stringMatching(/^freeze year-end lasts 15\.0 days: a critical finding \(SLA 1 day\).*does not let the emergency path pass/),
      expect.stringMatching(/a high finding \(SLA 7 days\)/),
    ]);
    const passable = policyWith('freezes:\n  - { name: year-end, from: "12-20", until: "01-03", allowEmergency: true }\nemergency: { relaxes: [windows, freezes] }\n');
    expect(checkPolicy(passable, { now: NOW }).map((finding) => finding.message)).toEqual([expect.stringMatching(/a high finding/)]);
  });

  it('names the first five buckets a freeze breaks an SLA in and counts the rest', () => {
    const more = Array.from({ length: 6 }, (_, index) => `  - name: pool-${index}\n    owner: web\n    match: { labels: { pool: "${index}" } }\n    strategy: { kind: in-place }\n    windows: [nightly]\n`).join('');
    const policy = parsePolicy(MINIMAL.replace('    owner: platform', '    owner: platform\n    match: { labels: { role: k8s } }') + more + 'freezes:\n  - { name: year-end, from: "12-20", until: "01-03" }\n', 'p.yaml');
    const [critical] = checkPolicy(policy, { now: NOW });
    expect(critical!.message).toContain('breaches its SLA in nodes, pool-0, pool-1, pool-2, pool-3 and 2 more (and the freeze');
  });

  it('warns about a window that never opens', () => {
    const policy = parsePolicy(MINIMAL.replace('nightly: { timeZone: UTC, every: day, start: "03:00", duration: 1h }', 'nightly: { timeZone: UTC, every: month, day: 31, start: "03:00", duration: 1h, validFrom: 2027-04-01, validUntil: 2027-04-30 }'), 'p.yaml');
    expect(checkPolicy(policy, { now: NOW })).toEqual([{ level: 'warning', field: 'windows.nightly', message: expect.stringMatching(/never opens in the coming year/) }]);
  });
});

describe('policy building blocks', () => {
  it('sizes waves as Ansible serial does: shares of the bucket rounded up, the last size repeated', () => {
    expect(waveSizes([{ count: 1 }, { count: 5 }, { percent: 20 }, { percent: 100 }], 50)).toEqual([1, 5, 10, 34]);
    expect(waveSizes([{ percent: 30 }], 20)).toEqual([6, 6, 6, 2]);
    expect(waveSizes([{ count: 1 }], 3)).toEqual([1, 1, 1]);
    expect(waveSizes([{ percent: 10 }], 0)).toEqual([]);
    expect(resolveQuantity({ percent: 10 }, 42)).toBe(5);
    expect(resolveQuantity({ percent: 1 }, 5)).toBe(1);
    expect(resolveQuantity({ count: 9 }, 5)).toBe(5);
  });

  it('matches hosts by label operators, OS family and release, and host-name globs', () => {
    const host = { name: 'PG-07.example.com', labels: { role: 'postgres', env: 'prod' }, osFamilies: ['ubuntu', 'debian'], osRelease: '22.04' };
    const matches = (selector: Parameters<typeof compileSelector>[0]) => compileSelector(selector)(host);
    expect(matches({})).toBe(true);
    expect(matches({ labels: { role: 'postgres' } })).toBe(true);
    expect(matches({ expressions: [{ key: 'env', operator: '!=', value: 'dev' }, { key: 'role', operator: 'in', values: ['postgres', 'mysql'] }] })).toBe(true);
    expect(matches({ expressions: [{ key: 'env', operator: 'notin', values: ['prod'] }] })).toBe(false);
    expect(matches({ expressions: [{ key: 'gpu', operator: '!exists' }, { key: 'role', operator: 'exists' }] })).toBe(true);
    expect(matches({ os: { family: 'Debian', release: '22.04' } })).toBe(true);
    expect(matches({ os: { release: '22' } })).toBe(true);
    expect(matches({ os: { release: '2' } })).toBe(false);
    expect(matches({ hostnames: ['pg-??.example.com'] })).toBe(true);
    expect(matches({ hostnames: ['pg-?.example.com', 'db-*'] })).toBe(false);
  });

  it('reads yearly freezes across the new year and one-off freezes as whole local days', () => {
    const yearly = freezeIntervals({ name: 'y', from: '12-20', until: '01-03', timeZone: 'Europe/Berlin' }, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    expect(yearly.map(({ start, end }) => [start.toISOString(), end.toISOString()])).toEqual([
      ['2025-12-19T23:00:00.000Z', '2026-01-03T23:00:00.000Z'],
      ['2026-12-19T23:00:00.000Z', '2027-01-03T23:00:00.000Z'],
    ]);
    const once = freezeIntervals({ name: 'o', from: '2026-03-28', until: '2026-03-29', timeZone: 'Europe/Berlin' }, NOW, new Date('2027-12-31T00:00:00Z'));
    expect(once).toEqual([]);
    const dst = freezeIntervals({ name: 'o', from: '2027-03-28', until: '2027-03-28', timeZone: 'Europe/Berlin' }, NOW, new Date('2027-12-31T00:00:00Z'));
    // The day clocks spring forward is 23 hours long.
    expect(dst.map(({ start, end }) => (end.getTime() - start.getTime()) / 3_600_000)).toEqual([23]);
  });
});
