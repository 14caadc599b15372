// Property-based fuzzing of the OSV reader (decoding JSON or YAML, validating, converting), seeded
// from real AlmaLinux, Go and PyPI records of the shared data: structural mutations of decoded
// records and character mutations of their text. Bad records may only come back as InputErrors
// naming the file; accepted advisories hold only well-formed text and storable dates.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/data-path.js';
import { fuzzParameters, mutatedJson, mutatedText } from '../../test/fuzz/mutations.js';
import type { Advisory } from '../domain/advisories/advisory.js';
import { readOsvRecord } from '../domain/advisories/osv-record.js';
import { InputError } from '../domain/errors.js';
import { instantProblem, textProblem } from '../domain/well-formed-text.js';
import { parseOsvFiles, type OsvFile } from './osv-files.js';

/** Every `step`-th entry of a real archive, as files. */
function sampleOf(path: string, step: number, limit: number): OsvFile[] {
  const entries = Object.entries(unzipSync(readFileSync(sharedData(path)))).filter(([name]) => /\.(json|ya?ml)$/.test(name));
  return entries
    .filter((_, index) => index % step === 0)
    .slice(0, limit)
    .map(([name, bytes]) => ({ name, text: Buffer.from(bytes).toString('utf8') }));
}

const jsonFiles = [...sampleOf('osv/almalinux/almalinux9.zip', 60, 30), ...sampleOf('osv/go/go-vulndb.zip', 150, 25)];
const yamlFiles = sampleOf('osv/pypi/pypa-advisory-database-yaml.zip', 120, 20);
const records = jsonFiles.map((file) => JSON.parse(file.text) as unknown);

function expectWellFormed(advisory: Advisory): void {
  const texts = [advisory.id, advisory.summary, ...advisory.aliases, ...advisory.related, ...advisory.references, ...advisory.cvss.map((score) => score.vector)];
  for (const entry of advisory.affected) {
    texts.push(entry.ecosystem, entry.name, ...entry.versions);
    for (const range of entry.ranges) for (const event of range.events) texts.push(...Object.values(event));
  }
  for (const text of texts) if (text !== undefined) expect(textProblem(text, true), JSON.stringify(text)).toBeUndefined();
  for (const date of [advisory.modified, advisory.published, advisory.withdrawn]) if (date !== undefined) expect(instantProblem(date)).toBeUndefined();
}

describe('OSV reader under fuzzing', () => {
  it('reads every seed record', async () => {
    const batch = await parseOsvFiles([...jsonFiles, ...yamlFiles], {});
    expect(batch.errors).toEqual([]);
    expect(batch.advisories).toHaveLength(jsonFiles.length + yamlFiles.length);
  });

  it('structural mutations of real records: an advisory or InputErrors naming the file, never a throw', () => {
    fc.assert(
      fc.property(mutatedJson(records, 4), (record) => {
        const reading = readOsvRecord(record, { file: 'fuzz.json' });
        if ('errors' in reading) {
          expect(reading.errors.length).toBeGreaterThan(0);
          for (const error of reading.errors) {
            expect(error).toBeInstanceOf(InputError);
            expect(error.location.file).toBe('fuzz.json');
            expect(textProblem(error.message, true)).toBeUndefined();
          }
        } else expectWellFormed(reading.advisory);
      }),
      fuzzParameters(150),
    );
  });

  it.each([
    ['JSON', jsonFiles],
    ['YAML', yamlFiles],
  ] as const)('character, line and truncation mutations of real %s text', async (_kind, files) => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), mutatedText(files.map((file) => file.text)), async (file, text) => {
        const batch = await parseOsvFiles([{ name: file.name, text }], {});
        for (const error of batch.errors) {
          expect(error).toBeInstanceOf(InputError);
          expect(error.location.file).toBe(file.name);
        }
        for (const advisory of batch.advisories) expectWellFormed(advisory);
      }),
      fuzzParameters(100),
    );
  });
});
