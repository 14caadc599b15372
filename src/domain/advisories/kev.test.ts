// CISA's KEV catalogue: the real 2025-08-25 catalogue parses; malformed or truncated ones are named precisely.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parseKevCatalogue } from './kev.js';

const entry = (cveID: string, dateAdded = '2025-01-02') => ({
  cveID,
  vendorProject: 'Example',
  product: 'Widget',
  vulnerabilityName: 'Example Widget Vulnerability',
  dateAdded,
  shortDescription: 'A vulnerability.',
  requiredAction: 'Apply updates.',
  dueDate: '2025-01-23',
  knownRansomwareCampaignUse: 'Known',
});
const catalogue = (vulnerabilities: unknown[], count = vulnerabilities.length) =>
  JSON.stringify({ title: 'KEV', catalogVersion: '2025.01.02', dateReleased: '2025-01-02T12:00:00.000Z', count, vulnerabilities });

describe('parseKevCatalogue', () => {
  it('parses the real catalogue into a lookup by CVE id', () => {
    const kev = parseKevCatalogue(readFileSync(sharedData('kev/known_exploited_vulnerabilities.json'), 'utf8'), 'kev.json');
    expect(kev.catalogVersion).toBe('2025.08.25');
    expect(kev.entries).toHaveLength(1404);
    expect(kev.byCve.size).toBe(1404);
    expect(kev.entries.filter((kevEntry) => kevEntry.knownRansomwareCampaignUse)).toHaveLength(293);
    const log4shell = kev.byCve.get('CVE-2021-44228');
    expect(log4shell).toMatchObject({ vendorProject: 'Apache', product: 'Log4j2', dateAdded: '2021-12-10', knownRansomwareCampaignUse: true });
    expect(log4shell?.dueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('names the JSON path of a malformed entry', () => {
    expect(() => parseKevCatalogue(catalogue([entry('CVE-2025-0001'), entry('CVE-2025-0002', '02/01/2025')]), 'kev.json')).toThrow(
      'kev.json, field vulnerabilities[1].dateAdded: invalid KEV catalogue: expected a YYYY-MM-DD date',
    );
    expect(() => parseKevCatalogue(catalogue([entry('CVE-25-1')]), 'kev.json')).toThrow(/field vulnerabilities\[0\]\.cveID: .*expected a CVE-YYYY-NNNN id/);
    expect(() => parseKevCatalogue('{"vulnerabilities": [', 'kev.json')).toThrow(/^kev\.json: not valid JSON/);
  });

  it('refuses a truncated catalogue and a CVE listed twice', () => {
    expect(() => parseKevCatalogue(catalogue([entry('CVE-2025-0001')], 2), 'kev.json')).toThrow('kev.json, field count: the catalogue says it lists 2 vulnerabilities but holds 1');
    expect(() => parseKevCatalogue(catalogue([entry('CVE-2025-0001'), entry('CVE-2025-0001')]), 'kev.json')).toThrow('kev.json, field vulnerabilities[1].cveID: CVE-2025-0001 is listed twice');
  });
});
