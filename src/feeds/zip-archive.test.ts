// The zip reader against the damage real downloads suffer (cut at an entry boundary, without its
// end record, with bytes before or after), against archives whose parts disagree (counts, names,
// sizes, CRC-32), against zip bombs, and against archives of many tiny entries.
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { strToU8, Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/data-path.js';
import { InputError } from '../domain/errors.js';
import { DEFAULT_ZIP_LIMITS, readCentralDirectory, zipEntries, zipLimitsFromEnvironment, type DirectoryEntry, type ZipLimits } from './zip-archive.js';

const LABEL = 'test.zip';

async function* chunksOf(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function directoryOf(bytes: Uint8Array): Promise<DirectoryEntry[] | { problem: string }> {
  const buffer = Buffer.from(bytes);
  return readCentralDirectory(buffer.length, async (offset, length) => buffer.subarray(offset, offset + length));
}

/** Reads every entry: streamed only, or with the central directory read first, as a local file is. */
async function readAll(bytes: Uint8Array, mode: 'stream' | 'file', limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<Array<{ name: string; text: string }>> {
  let directory: DirectoryEntry[] | undefined;
  if (mode === 'file') {
    const read = await directoryOf(bytes);
    if ('problem' in read) throw new InputError(read.problem, { file: LABEL });
    directory = read;
  }
  const entries: Array<{ name: string; text: string }> = [];
  for await (const entry of zipEntries(chunksOf(bytes), LABEL, { wanted: () => true, limits, ...(directory ? { directory } : {}) })) {
    entries.push({ name: entry.name, text: Buffer.from(entry.bytes).toString('utf8') });
  }
  return entries;
}

async function failure(bytes: Uint8Array, mode: 'stream' | 'file', limits?: ZipLimits): Promise<InputError> {
  const error = await readAll(bytes, mode, limits).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).location.file).toBe(LABEL);
  return error as InputError;
}

const small = () => zipSync({ 'A-1.json': strToU8('{"id":"A-1"}'), 'B-2.json': strToU8('{"id":"B-2"}'.repeat(20)), 'C-3.json': strToU8('{"id":"C-3"}') });

/** A copy of `bytes` with `patch` applied to it. */
function patched(bytes: Uint8Array, patch: (view: Buffer) => void): Uint8Array {
  const copy = Buffer.from(bytes);
  patch(copy);
  return copy;
}

function endRecordOffset(bytes: Uint8Array): number {
  return Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
}

function centralOffset(bytes: Uint8Array): number {
  return Buffer.from(bytes).readUInt32LE(endRecordOffset(bytes) + 16);
}

describe('zipEntries: whole archives', () => {
  it.each(['stream', 'file'] as const)('reads every entry of a real archive (%s)', async (mode) => {
    const bytes = readFileSync(sharedData('osv/almalinux/almalinux9.zip'));
    const entries = await readAll(bytes, mode);
    expect(entries).toHaveLength(1783);
    expect(JSON.parse(entries[0]!.text)).toHaveProperty('id');
  });

  it.each([
    ['3000 stored entries of about 150 bytes', 3000, (index: number) => `{"id":"T-${index}","modified":"2026-01-01T00:00:00Z","summary":"${'x'.repeat(90)}"}`, 0],
    ['20,000 deflated {} entries', 20_000, () => '{}', 6],
    ['20,000 stored {} entries', 20_000, () => '{}', 0],
  ] as const)('reads %s without exhausting the stack', async (_name, count, text, level) => {
    const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
    for (let index = 0; index < count; index++) files[`T-${index}.json`] = [strToU8(text(index)), { level }];
    const bytes = zipSync(files);
    for (const mode of ['stream', 'file'] as const) expect(await readAll(bytes, mode)).toHaveLength(count);
  });

  it('reads entries written with data descriptors when the central directory is at hand, and says why it cannot from a stream', async () => {
    const parts: Uint8Array[] = [];
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      parts.push(chunk);
    });
    const deflated = new ZipDeflate('D-1.json', { level: 6 });
    const stored = new ZipPassThrough('S-1.json');
    zip.add(deflated);
    deflated.push(strToU8('{"id":"D-1"}'.repeat(100)), true);
    zip.add(stored);
    stored.push(strToU8('{"id":"S-1"}'), true);
    zip.end();
    const bytes = Buffer.concat(parts);
    expect((await readAll(bytes, 'file')).map((entry) => entry.name)).toEqual(['D-1.json', 'S-1.json']);
    const error = await failure(bytes, 'stream');
    expect(error.message).toMatch(/written with a data descriptor/);
    expect(error.hint).toMatch(/download it to a file/);
  });

  it('accepts an archive comment and an empty archive', async () => {
    expect(await readAll(zipSync({}), 'stream')).toEqual([]);
    const commented = Buffer.concat([Buffer.from(small()).subarray(0, -2), Buffer.from([5, 0]), Buffer.from('hello')]);
    for (const mode of ['stream', 'file'] as const) expect(await readAll(commented, mode)).toHaveLength(3);
  });
});

describe('zipEntries: cut and padded archives', () => {
  const real = readFileSync(sharedData('osv/almalinux/almalinux9.zip'));

  it('refuses the archive cut at the local header of entry 900 (an interrupted download)', async () => {
    const directory = (await directoryOf(real)) as DirectoryEntry[];
    const cut = real.subarray(0, directory[900]!.localHeaderOffset);
    expect((await failure(cut, 'stream')).message).toMatch(/ends after 900 entries, at byte \d+, without a central directory/);
    expect(await directoryOf(cut)).toEqual({ problem: expect.stringMatching(/end-of-central-directory record is missing/) });
  });

  it.each([
    ['the end record removed', (bytes: Buffer) => bytes.subarray(0, endRecordOffset(bytes)), /end-of-central-directory record is missing/],
    ['the last byte removed', (bytes: Buffer) => bytes.subarray(0, -1), /end-of-central-directory record is missing/],
    ['cut inside the central directory', (bytes: Buffer) => bytes.subarray(0, centralOffset(bytes) + 60), /central directory is cut short|record is missing/],
    ['cut inside an entry', (bytes: Buffer) => bytes.subarray(0, 50), /entry "A-1.json" is cut short|local header .* is cut short/],
    ['cut inside a local header', (bytes: Buffer) => bytes.subarray(0, 20), /local header at byte 0 is cut short/],
    ['the first 100 bytes cut', (bytes: Buffer) => bytes.subarray(100), /neither an entry nor the central directory/],
    ['bytes before the first entry', (bytes: Buffer) => Buffer.concat([Buffer.from('MZ-stub'), bytes]), /neither an entry nor the central directory/],
    ['bytes after the end record', (bytes: Buffer) => Buffer.concat([bytes, Buffer.from('trailing')]), /bytes follow the end of the archive/],
    ['an empty file', () => Buffer.alloc(0), /the file is empty/],
  ])('streamed, refuses %s', async (_name, damage, reason) => {
    const bytes = damage(Buffer.from(small()));
    expect((await failure(bytes, 'stream')).message).toMatch(reason);
  });
});

describe('zipEntries: parts that disagree', () => {
  const bytes = small();
  const central = centralOffset(bytes);
  const end = endRecordOffset(bytes);

  it.each([
    ['the end record counts one entry more', (view: Buffer) => view.writeUInt16LE(4, end + 10), /end record counts 4 entries, the central directory holds 3/],
    ['a central CRC-32 differs', (view: Buffer) => view.writeUInt32LE(0xdeadbeef, central + 16), /disagrees with the entry itself on crc32/],
    ['a central size differs', (view: Buffer) => view.writeUInt32LE(999, central + 24), /disagrees with the entry itself on uncompressedSize/],
    ['a central name differs', (view: Buffer) => view.write('X', central + 46), /disagrees with the entry itself on name/],
    ['a central offset points nowhere', (view: Buffer) => view.writeUInt32LE(7, central + 42), /points at byte 7, where no entry starts/],
    ['the end record misplaces the directory', (view: Buffer) => view.writeUInt32LE(central + 1, end + 16), /places the central directory elsewhere/],
    ['the local and central CRC-32 agree but the data does not', (view: Buffer) => (view.writeUInt32LE(1, 14), view.writeUInt32LE(1, central + 16)), /"A-1.json" is damaged: its CRC-32 is 0x[0-9a-f]{8}, its header says 0x00000001/],
    ['a local size is wrong', (view: Buffer) => view.writeUInt32LE(5, 22), /inflates to \d+ bytes, but its header says 5/],
    ['an entry is encrypted', (view: Buffer) => view.writeUInt16LE(1, 6), /is encrypted/],
    ['an entry uses another method', (view: Buffer) => view.writeUInt16LE(12, 8), /compression method 12/],
  ])('refuses an archive where %s', async (_name, patch, reason) => {
    const damaged = patched(bytes, patch);
    expect((await failure(damaged, 'stream')).message).toMatch(reason);
  });

  it('refuses a central directory that lists fewer entries than the archive holds', async () => {
    const two = zipSync({ 'A-1.json': strToU8('{}'), 'B-2.json': strToU8('{}') });
    const one = zipSync({ 'A-1.json': strToU8('{}') });
    // The entries of `two` followed by the directory of `one` (its offset fixed to where it now starts).
    const entries = Buffer.from(two).subarray(0, centralOffset(two));
    const tail = Buffer.from(one).subarray(centralOffset(one));
    tail.writeUInt32LE(entries.length, tail.length - 6);
    expect((await failure(Buffer.concat([entries, tail]), 'stream')).message).toMatch(/central directory lists 1 entries, but the archive holds 2/);
  });

  it('refuses a damaged byte inside deflated data', async () => {
    const deflated = zipSync({ 'A-1.json': [strToU8('{"id":"A-1"}'.repeat(100)), { level: 9 }] });
    const at = 30 + 'A-1.json'.length + 5;
    const damaged = patched(deflated, (view) => view.writeUInt8(view.readUInt8(at) ^ 0xff, at));
    expect((await failure(damaged, 'stream')).message).toMatch(/"A-1.json" (is damaged|does not inflate|inflates to)/);
  });
});

describe('zipEntries: caps on inflated size', () => {
  /** One deflated entry of `size` spaces, its header honest or claiming `claimedSize`. */
  function bomb(size: number, claimedSize = size): Buffer {
    const data = deflateRawSync(Buffer.alloc(size, 32), { level: 9 });
    const name = Buffer.from('BOMB-1.json');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(0, 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(claimedSize, 22);
    header.writeUInt16LE(name.length, 26);
    // No central directory is needed: the cap refuses the entry before the end is reached.
    return Buffer.concat([header, name, data]);
  }

  const limits: ZipLimits = { maxEntryBytes: 1024 * 1024, maxTotalBytes: 3 * 1024 * 1024 };

  it('refuses an entry whose header declares more than the per-entry cap, before inflating it', async () => {
    const error = await failure(bomb(2 * 1024 * 1024), 'stream', limits);
    expect(error.message).toMatch(/entry "BOMB-1.json" inflates to more than the per-entry cap of 1048576 bytes/);
    expect(error.hint).toMatch(/FLEETPATCH_ZIP_MAX_ENTRY_BYTES/);
  });

  it('stops inflating an entry whose header lies about its size once the cap is passed', async () => {
    const error = await failure(bomb(64 * 1024 * 1024, 100), 'stream', limits);
    expect(error.message).toMatch(/inflates to more than the per-entry cap/);
  });

  it('refuses an archive whose entries together pass the per-archive cap', async () => {
    const files: Record<string, [Uint8Array, { level: 9 }]> = {};
    for (let index = 0; index < 4; index++) files[`E-${index}.json`] = [new Uint8Array(1024 * 1024 - 1).fill(32), { level: 9 }];
    const error = await failure(zipSync(files), 'stream', limits);
    expect(error.message).toMatch(/entries inflate to more than the per-archive cap of 3145728 bytes/);
    expect(error.hint).toMatch(/FLEETPATCH_ZIP_MAX_TOTAL_BYTES/);
  });

  it('reads the caps from the environment, with defaults, and refuses nonsense', () => {
    expect(zipLimitsFromEnvironment({})).toEqual({ maxEntryBytes: 64 * 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 * 1024 });
    expect(zipLimitsFromEnvironment({ FLEETPATCH_ZIP_MAX_ENTRY_BYTES: '1000', FLEETPATCH_ZIP_MAX_TOTAL_BYTES: ' 5000 ' })).toEqual({ maxEntryBytes: 1000, maxTotalBytes: 5000 });
    for (const nonsense of ['0', '-1', '1e6', '64MiB', '99999999999999999999']) {
      expect(() => zipLimitsFromEnvironment({ FLEETPATCH_ZIP_MAX_ENTRY_BYTES: nonsense }), nonsense).toThrow(/FLEETPATCH_ZIP_MAX_ENTRY_BYTES: must be a whole number of bytes/);
    }
  });
});
