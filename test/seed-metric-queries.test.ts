// The seed metrics' store queries (src/store/seed-metric-queries.ts) on rows as detection leaves
// them: the compliance pass rate's due times are slaDueTime's rule written in SQL (for every
// severity, a known-exploited finding, the KEV days or CISA's due date, whichever is earlier, and
// both clock starts, the earliest due time found for a host is the one src/domain/planning/sla.ts
// gives its finding); a kernel fix goes live when the host boots into it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slaDueTime } from '../src/domain/planning/sla.js';
import type { Policy } from '../src/domain/policy/policy-schema.js';
import type { Severity } from '../src/domain/types.js';
import { seedMetricFacts } from '../src/store/seed-metric-queries.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const NOW = new Date('2026-12-10T00:00:00Z');
const FIRST_SEEN = new Date('2026-12-01T06:00:00Z');
const PUBLISHED = new Date('2026-11-20T00:00:00Z');
const KEV_DUE = new Date('2026-12-05T00:00:00Z');

/** One host per case, each alone in its team, with one open finding. */
const CASES: Array<{ team: string; severity: Severity; kev: boolean }> = [
  { team: 'critical', severity: 'critical', kev: false },
  { team: 'high', severity: 'high', kev: false },
  { team: 'low', severity: 'low', kev: false },
  { team: 'unknown', severity: 'unknown', kev: false },
  { team: 'kev-medium', severity: 'medium', kev: true },
];

describe('the seed metrics\' store queries', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    for (const [index, { team, severity, kev }] of CASES.entries()) {
      const advisory = await database.pool.query<{ key: number }>(
        "INSERT INTO advisories (id, modified, published, aliases, severity, source, document) VALUES ($1, $2, $3, $4, $5, 'test', '{}') RETURNING key",
        [`DUE-${index}`, PUBLISHED, PUBLISHED, [`CVE-2026-90${index}`], severity],
      );
      if (kev) await database.pool.query("INSERT INTO kev_entries (cve_id, date_added, due_date) VALUES ($1, '2026-11-21', $2)", [`CVE-2026-90${index}`, KEV_DUE.toISOString().slice(0, 10)]);
      const host = await database.pool.query<{ key: number }>(
        "INSERT INTO hosts (name, bucket, team, last_seen_at, findings_digest) VALUES ($1, 'due', $2, $3, 'digest') RETURNING key",
        [`due-${index}`, team, NOW],
      );
      await database.pool.query(
        "INSERT INTO findings (host_key, advisory_key, package_name, package_key, state, first_seen_at) VALUES ($1, $2, 'pkg', 1, 'vulnerable', $3)",
        [host.rows[0]!.key, advisory.rows[0]!.key, FIRST_SEEN],
      );
    }
    // A fixed kernel installed a day after the old one's finding was seen, booted 18 hours later:
    // the old kernel, left idle, is not-applicable.
    const kernelHost = await database.pool.query<{ key: number }>(
      "INSERT INTO hosts (name, bucket, team, last_seen_at, boot_time, findings_digest) VALUES ('kernel-1', 'due', 'kernel', $1, '2026-12-03T00:00:00Z', 'digest') RETURNING key",
      [NOW],
    );
    await database.pool.query(
      "INSERT INTO findings (host_key, advisory_key, package_name, package_key, state, first_seen_at, installed_at) VALUES ($1, 1, 'linux-image-6.1.0-17-amd64', 2, 'not-applicable', $2, '2026-12-02T06:00:00Z')",
      [kernelHost.rows[0]!.key, FIRST_SEEN],
    );
  });
  afterAll(async () => database?.drop());

  it('counts a kernel fix live from the boot into it', async () => {
    const facts = await seedMetricFacts(database.pool, { now: NOW, days: 30, staleAfterSeconds: 3600, team: 'kernel' });
    const day = (name: string) => facts.find((fact) => fact.day === name)!;
    expect(day('2026-12-02').timeToInstalledHours.sum).toBe(24);
    expect(day('2026-12-03').timeToLiveHours.sum).toBe(42);
    expect(facts.filter((fact) => fact.day !== undefined).map((fact) => fact.day).sort()).toEqual(['2026-12-02', '2026-12-03']);
  });

  const policies: Array<[string, Policy['slas']]> = [
    ['from first sight, KEV days earlier than CISA', { days: { critical: 1, high: 7, medium: 30, low: 90 }, kevDays: 2, clockStart: 'first-seen' }],
    ['from publication, CISA earlier than the KEV days', { days: { critical: 2, high: 14, medium: 60 }, kevDays: 30, clockStart: 'published' }],
    ['no KEV days', { days: { high: 7, medium: 30 }, clockStart: 'first-seen' }],
  ];

  it.each(policies)('%s', async (_name, slas) => {
    const facts = await seedMetricFacts(database.pool, { now: NOW, days: 30, staleAfterSeconds: 3600, slas });
    for (const { team, severity, kev } of CASES) {
      const groups = facts.find((fact) => fact.team === team)!.compliance;
      expect(groups, team).toHaveLength(1);
      const expected = slaDueTime({ slas }, { severity, firstSeenAt: FIRST_SEEN, published: PUBLISHED, knownExploited: kev, ...(kev ? { kevDueDate: KEV_DUE } : {}) });
      expect(groups[0]!.earliestDueAt?.getTime(), team).toBe(expected);
    }
  });
});
