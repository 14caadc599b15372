// Who an advisory affects, by the bucket and owner the bucket rules assigned (not raw labels).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import { bucketRulesOwnership, parseBucketRules } from '../src/domain/policy/bucket-rules.js';
import type { HostInventory } from '../src/domain/types.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { advisoryImpact } from '../src/store/finding-queries.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const RULES = bucketRulesOwnership(parseBucketRules('buckets:\n  - name: databases\n    owner: dba\n    selector: { role: postgres }\ndefault: { name: unassigned, owner: sre }\n', 'buckets.yaml'));

function host(hostname: string, labels: Record<string, string>): HostInventory {
  const text = readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8');
  const { packages } = parseInventory({ text, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' });
  return { hostname, osEcosystem: 'Debian:12', packages, kernel: { installed: [] }, rebootRequired: false, labels };
}

describe('advisory impact', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const detection = await DetectionService.load(database.pool);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-osv-'));
    for (const record of DEBIAN_ADVISORIES) writeFileSync(join(directory, `${record.id}.json`), JSON.stringify(record));
    await importAdvisories(database.pool, detection, openAdvisoryFeed(directory));
    await importInventories(database.pool, detection, [host('pg-1', { role: 'postgres' }), host('pg-2', { role: 'postgres' }), host('misc-1', { role: 'batch' })], { source: 'test', ownership: RULES });
  });
  afterAll(async () => database?.drop());

  it('groups affected hosts by the assigned bucket and owner', async () => {
    expect(await advisoryImpact(database.pool, 'CVE-2026-1001')).toEqual([
      { bucket: 'databases', team: 'dba', state: 'vulnerable', hosts: 2 },
      { bucket: 'unassigned', team: 'sre', state: 'vulnerable', hosts: 1 },
    ]);
  });
});
