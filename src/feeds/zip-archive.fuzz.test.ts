// Property-based fuzzing of the zip reader, seeded with archives of real AlmaLinux records (stored,
// deflated, and with data descriptors): byte flips, insertions, deletions, zeroed runs and
// truncations, fed in chunks of random sizes, streamed and as a local file. The only allowed
// failure is an InputError naming the archive; an archive that passes yields entries whose data
// matched their CRC-32.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { unzipSync, Zip, ZipDeflate, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/data-path.js';
import { fuzzParameters, mutatedBytes } from '../../test/fuzz/mutations.js';
import { InputError } from '../domain/errors.js';
import { readCentralDirectory, zipEntries, type DirectoryEntry, type ZipLimits } from './zip-archive.js';

const LABEL = 'fuzz.zip';
const LIMITS: ZipLimits = { maxEntryBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024 };

const real = Object.entries(unzipSync(readFileSync(sharedData('osv/almalinux/almalinux9.zip'))))
  .filter((_, index) => index % 90 === 0)
  .slice(0, 12);

function withDataDescriptors(files: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    parts.push(chunk);
  });
  for (const [name, bytes] of files) {
    const entry = new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    entry.push(bytes, true);
  }
  zip.end();
  return Buffer.concat(parts);
}

const SEEDS: Uint8Array[] = [
  zipSync(Object.fromEntries(real.map(([name, bytes]) => [name, [bytes, { level: 6 }]]))),
  zipSync(Object.fromEntries(real.slice(0, 6).map(([name, bytes]) => [name, [bytes, { level: 0 }]]))),
  withDataDescriptors(real.slice(0, 4)),
];

async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let index = 0; offset < bytes.length; index++) {
    const size = sizes[index % sizes.length]!;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

/** Reads the archive; returns the names read, or the InputError it was refused with. */
async function readOrRefuse(bytes: Uint8Array, sizes: number[], asFile: boolean): Promise<string[] | InputError> {
  try {
    let directory: DirectoryEntry[] | undefined;
    if (asFile) {
      const buffer = Buffer.from(bytes);
      // Like a file handle: a read past the end leaves the rest of the buffer zeroed.
      const read = await readCentralDirectory(buffer.length, async (offset, length) => {
        const out = Buffer.alloc(length);
        buffer.copy(out, 0, offset, offset + length);
        return out;
      });
      if ('problem' in read) return new InputError(read.problem, { file: LABEL });
      directory = read;
    }
    const names: string[] = [];
    for await (const entry of zipEntries(chunked(bytes, sizes), LABEL, { wanted: () => true, limits: LIMITS, ...(directory ? { directory } : {}) })) names.push(entry.name);
    return names;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.location.file).toBe(LABEL);
    return error;
  }
}

describe('zip reader under fuzzing', () => {
  it('reads every seed archive whole, in any chunking', async () => {
    for (const seed of SEEDS) for (const sizes of [[1], [7, 100], [65_536]]) expect(await readOrRefuse(seed, sizes, true)).not.toBeInstanceOf(InputError);
  });

  it.each([
    ['streamed', false],
    ['as a local file', true],
  ] as const)('byte mutations and truncations, %s: entries or a clean InputError', async (_mode, asFile) => {
    await fc.assert(
      fc.asyncProperty(mutatedBytes(SEEDS), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 }), async (bytes, sizes) => {
        const outcome = await readOrRefuse(bytes, sizes, asFile);
        if (!(outcome instanceof InputError)) for (const name of outcome) expect(typeof name).toBe('string');
      }),
      fuzzParameters(80),
    );
  });
});
