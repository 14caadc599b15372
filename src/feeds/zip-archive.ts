/**
 * A streaming, checking zip reader: it walks an archive as its bytes arrive (a file, an HTTP body),
 * hands over each wanted entry's inflated bytes, and at the end proves the archive was whole: the
 * central directory and its end record are present and agree with every local entry (offsets,
 * names, methods, sizes, CRC-32), each entry's CRC-32 and size match its data, and nothing trails
 * the end record. Decompressed sizes are capped per entry and per archive, so a zip bomb is refused
 * before it fills memory. Any problem is an `InputError` naming the archive and what is wrong.
 *
 * Why not fflate's `Unzip`: it recurses once per entry within a pushed chunk (thousands of small
 * entries overflowed the stack), finds the end of data-descriptor entries by searching for a
 * signature, checks no CRC and never reads the central directory, so a cut archive looked complete.
 */
import * as zlib from 'node:zlib';
import { InputError } from '../domain/errors.js';

/** Caps on inflated bytes; exceeding one refuses the archive. */
export interface ZipLimits {
  /** Largest inflated size of one entry, in bytes. */
  maxEntryBytes: number;
  /** Largest inflated size of all the entries read from one archive, in bytes. */
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;
/** 64 MiB per entry (the largest real OSV record seen is 200 KB), 4 GiB per archive. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 64 * MiB, maxTotalBytes: 4096 * MiB };

/**
 * The caps from `FLEETPATCH_ZIP_MAX_ENTRY_BYTES` and `FLEETPATCH_ZIP_MAX_TOTAL_BYTES` (whole bytes),
 * each defaulting to `DEFAULT_ZIP_LIMITS`.
 *
 * @example zipLimitsFromEnvironment({ FLEETPATCH_ZIP_MAX_ENTRY_BYTES: '1048576' }).maxEntryBytes // 1048576
 */
export function zipLimitsFromEnvironment(environment: NodeJS.ProcessEnv = process.env): ZipLimits {
  const read = (name: string, fallback: number): number => {
    const text = environment[name];
    if (text === undefined || text.trim() === '') return fallback;
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
      throw new InputError(`must be a whole number of bytes, at least 1: ${JSON.stringify(text)}`, { field: name });
    }
    return Number(text);
  };
  return { maxEntryBytes: read('FLEETPATCH_ZIP_MAX_ENTRY_BYTES', DEFAULT_ZIP_LIMITS.maxEntryBytes), maxTotalBytes: read('FLEETPATCH_ZIP_MAX_TOTAL_BYTES', DEFAULT_ZIP_LIMITS.maxTotalBytes) };
}

/** One entry as the central directory describes it. */
export interface DirectoryEntry {
  name: string;
  localHeaderOffset: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** An entry read from the archive, in archive order. */
export interface ZipEntry {
  name: string;
  bytes: Uint8Array;
}

export interface ZipReadOptions {
  /** Which entries to inflate and hand over; the others are only checked for their place in the archive. */
  wanted: (name: string) => boolean;
  limits: ZipLimits;
  /**
   * The central directory, when it could be read up front (a local file): supplies the sizes of
   * entries written with a data descriptor, which a pure stream cannot know in advance.
   */
  directory?: DirectoryEntry[];
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const STORED = 0;
const DEFLATED = 8;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const FLAG_UTF8_NAME = 0x800;
const ZIP64_EXTRA = 0x0001;
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;

/** The bytes of a chunked stream, read forwards; `position` is the archive offset of the next byte. */
class ByteReader {
  private pending: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Uint8Array>;
  position = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Makes at least `count` bytes available; false when the stream ends first. */
  async fill(count: number): Promise<boolean> {
    while (this.pending.length < count) {
      const next = await this.iterator.next();
      if (next.done) return false;
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    }
    return true;
  }

  /** The next `count` bytes, which `fill` made available. */
  take(count: number): Buffer {
    const taken = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(count);
    this.position += count;
    return taken;
  }

  peek(count: number): Buffer {
    return this.pending.subarray(0, count);
  }

  /** The next `count` bytes as they arrive, in pieces (no copying); false when the stream ends first. */
  async pieces(count: number, onPiece: (piece: Buffer) => void): Promise<boolean> {
    let left = count;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill(1))) return false;
      const piece = this.take(Math.min(left, this.pending.length));
      left -= piece.length;
      onPiece(piece);
    }
    return true;
  }

  /** True when nothing follows. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }
}

interface LocalEntry extends DirectoryEntry {
  flags: number;
}

/**
 * The wanted entries of a zip arriving in chunks, in archive order, each checked against its CRC-32
 * and sizes; throws `InputError` (naming `label`) as soon as something is wrong, and at the end if
 * the archive is not whole. A consumer that must not act on a partial archive acts only once the
 * iteration has finished.
 *
 * @example for await (const entry of zipEntries(createReadStream('all.zip'), 'all.zip', { wanted: () => true, limits })) use(entry)
 */
export async function* zipEntries(chunks: AsyncIterable<Uint8Array>, label: string, options: ZipReadOptions): AsyncGenerator<ZipEntry> {
  const fail: Fail = (message, hint) => {
    throw new InputError(`not a complete zip archive: ${message}`, { file: label }, hint);
  };
  const tooLarge: Fail = (message, hint) => {
    throw new InputError(`zip archive refused: ${message}`, { file: label }, hint);
  };
  const reader = new ByteReader(chunks);
  const known = new Map((options.directory ?? []).map((entry) => [entry.localHeaderOffset, entry]));
  const locals: LocalEntry[] = [];
  let inflatedTotal = 0;

  for (;;) {
    if (!(await reader.fill(4))) {
      fail(locals.length === 0 ? 'the file is empty' : `it ends after ${locals.length} entries, at byte ${reader.position}, without a central directory`, 'the download or copy was probably cut short; fetch it again');
    }
    const signature = reader.peek(4).readUInt32LE(0);
    if (signature === CENTRAL_HEADER || signature === END_OF_CENTRAL_DIRECTORY) break;
    if (signature !== LOCAL_HEADER) fail(`at byte ${reader.position} there is neither an entry nor the central directory (signature 0x${signature.toString(16).padStart(8, '0')})`);
    const entry = await readLocalHeader(reader, known, fail);
    locals.push(entry);
    const wanted = options.wanted(entry.name) && !entry.name.endsWith('/');
    if (wanted) {
      if (entry.uncompressedSize > options.limits.maxEntryBytes) tooLarge(entryCapMessage(entry.name, options.limits), ENTRY_CAP_HINT);
      if (inflatedTotal + entry.uncompressedSize > options.limits.maxTotalBytes) tooLarge(totalCapMessage(options.limits), TOTAL_CAP_HINT);
      // Deflate cannot shrink data below about 1/1032 of its size, so a larger compressed entry
      // cannot fit the caps either; refusing here keeps a huge entry's compressed bytes out of memory.
      if (entry.compressedSize > options.limits.maxEntryBytes + 1024) tooLarge(entryCapMessage(entry.name, options.limits), ENTRY_CAP_HINT);
    }
    const compressed: Buffer[] = [];
    const complete = await reader.pieces(entry.compressedSize, (piece) => {
      if (wanted) compressed.push(piece);
    });
    if (!complete) fail(`entry ${JSON.stringify(entry.name)} is cut short (it needs ${entry.compressedSize} bytes of data)`, 'the download or copy was probably cut short; fetch it again');
    if (entry.flags & FLAG_DATA_DESCRIPTOR) await skipDataDescriptor(reader, entry, fail);
    if (!wanted) continue;
    const bytes = inflateEntry(entry, Buffer.concat(compressed), Math.min(options.limits.maxEntryBytes, options.limits.maxTotalBytes - inflatedTotal), options.limits, fail, tooLarge);
    inflatedTotal += bytes.length;
    yield { name: entry.name, bytes };
  }
  await checkCentralDirectory(reader, locals, fail);
}

const ENTRY_CAP_HINT = 'raise FLEETPATCH_ZIP_MAX_ENTRY_BYTES if this archive is trusted';
const TOTAL_CAP_HINT = 'raise FLEETPATCH_ZIP_MAX_TOTAL_BYTES if this archive is trusted';

function entryCapMessage(name: string, limits: ZipLimits): string {
  return `entry ${JSON.stringify(name)} inflates to more than the per-entry cap of ${limits.maxEntryBytes} bytes`;
}

function totalCapMessage(limits: ZipLimits): string {
  return `the entries inflate to more than the per-archive cap of ${limits.maxTotalBytes} bytes`;
}

type Fail = (message: string, hint?: string) => never;

async function readLocalHeader(reader: ByteReader, known: Map<number, DirectoryEntry>, fail: Fail): Promise<LocalEntry> {
  const offset = reader.position;
  if (!(await reader.fill(30))) fail(`the local header at byte ${offset} is cut short`);
  const fixed = reader.peek(30);
  const nameLength = fixed.readUInt16LE(26);
  const extraLength = fixed.readUInt16LE(28);
  if (!(await reader.fill(30 + nameLength + extraLength))) fail(`the local header at byte ${offset} is cut short`);
  const header = reader.take(30 + nameLength + extraLength);
  const flags = header.readUInt16LE(6);
  const name = decodeName(header.subarray(30, 30 + nameLength), flags);
  const where = `entry ${JSON.stringify(name)} (byte ${offset})`;
  if (flags & FLAG_ENCRYPTED) fail(`${where} is encrypted`);
  const method = header.readUInt16LE(8);
  if (method !== STORED && method !== DEFLATED) fail(`${where} uses compression method ${method}; only stored (0) and deflated (8) entries are read`);
  const sizes = zip64Sizes(header.subarray(30 + nameLength), { uncompressed: header.readUInt32LE(22), compressed: header.readUInt32LE(18) }, false);
  const entry: LocalEntry = { name, localHeaderOffset: offset, method, flags, crc32: header.readUInt32LE(14), compressedSize: sizes.compressed, uncompressedSize: sizes.uncompressed };
  if (flags & FLAG_DATA_DESCRIPTOR) {
    // The sizes and CRC follow the data; only the central directory, read up front, gives them in time.
    const described = known.get(offset);
    if (described === undefined) {
      fail(`${where} was written with a data descriptor, so its size is unknown until its end`, 'a streamed archive needs sizes in its local headers; download it to a file and read that');
    }
    entry.crc32 = described.crc32;
    entry.compressedSize = described.compressedSize;
    entry.uncompressedSize = described.uncompressedSize;
  }
  if (method === STORED && entry.compressedSize !== entry.uncompressedSize) fail(`${where} is stored, yet its compressed size ${entry.compressedSize} differs from its size ${entry.uncompressedSize}`);
  return entry;
}

/** Skips the descriptor after a data-descriptor entry's data, checking it agrees with the directory. */
async function skipDataDescriptor(reader: ByteReader, entry: LocalEntry, fail: Fail): Promise<void> {
  const zip64 = entry.compressedSize >= MAX_32 || entry.uncompressedSize >= MAX_32;
  const bodyLength = zip64 ? 20 : 12;
  if (!(await reader.fill(4))) fail(`the data descriptor of entry ${JSON.stringify(entry.name)} is missing`);
  const signed = reader.peek(4).readUInt32LE(0) === DATA_DESCRIPTOR;
  if (!(await reader.fill(bodyLength + (signed ? 4 : 0)))) fail(`the data descriptor of entry ${JSON.stringify(entry.name)} is cut short`);
  const descriptor = reader.take(bodyLength + (signed ? 4 : 0)).subarray(signed ? 4 : 0);
  const crc32 = descriptor.readUInt32LE(0);
  const compressed = zip64 ? Number(descriptor.readBigUInt64LE(4)) : descriptor.readUInt32LE(4);
  const uncompressed = zip64 ? Number(descriptor.readBigUInt64LE(12)) : descriptor.readUInt32LE(8);
  if (crc32 !== entry.crc32 || compressed !== entry.compressedSize || uncompressed !== entry.uncompressedSize) {
    fail(`the data descriptor of entry ${JSON.stringify(entry.name)} disagrees with the central directory`);
  }
}

function inflateEntry(entry: LocalEntry, compressed: Buffer, cap: number, limits: ZipLimits, fail: Fail, tooLarge: Fail): Buffer {
  let bytes: Buffer;
  if (entry.method === STORED) bytes = compressed;
  else {
    try {
      // maxOutputLength stops zlib as soon as the output passes the cap: a bomb never fills memory.
      bytes = zlib.inflateRawSync(compressed, { maxOutputLength: Math.max(cap, 1) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        tooLarge(cap === limits.maxEntryBytes ? entryCapMessage(entry.name, limits) : totalCapMessage(limits), cap === limits.maxEntryBytes ? ENTRY_CAP_HINT : TOTAL_CAP_HINT);
      }
      fail(`entry ${JSON.stringify(entry.name)} does not inflate: ${(error as Error).message}`);
    }
  }
  if (bytes.length !== entry.uncompressedSize) fail(`entry ${JSON.stringify(entry.name)} inflates to ${bytes.length} bytes, but its header says ${entry.uncompressedSize}`);
  const actual = crc32(bytes);
  if (actual !== entry.crc32) fail(`entry ${JSON.stringify(entry.name)} is damaged: its CRC-32 is ${hex(actual)}, its header says ${hex(entry.crc32)}`);
  return bytes;
}

/**
 * Reads the central directory, the optional ZIP64 end records and the end record from the stream,
 * and checks them against the local entries read before them.
 */
async function checkCentralDirectory(reader: ByteReader, locals: LocalEntry[], fail: Fail): Promise<void> {
  const directoryStart = reader.position;
  const byOffset = new Map(locals.map((entry) => [entry.localHeaderOffset, entry]));
  const listed = new Set<number>();
  let count = 0;
  while ((await reader.fill(4)) && reader.peek(4).readUInt32LE(0) === CENTRAL_HEADER) {
    const entry = await readCentralHeader(reader, fail);
    count++;
    const local = byOffset.get(entry.localHeaderOffset);
    const where = `central directory entry ${count} (${JSON.stringify(entry.name)})`;
    if (local === undefined) fail(`${where} points at byte ${entry.localHeaderOffset}, where no entry starts`);
    if (listed.has(entry.localHeaderOffset)) fail(`${where} lists an entry a second time`);
    listed.add(entry.localHeaderOffset);
    const disagreements = (['name', 'method', 'crc32', 'compressedSize', 'uncompressedSize'] as const).filter((field) => entry[field] !== local[field]);
    if (disagreements.length > 0) fail(`${where} disagrees with the entry itself on ${disagreements.join(', ')}`);
  }
  const directorySize = reader.position - directoryStart;
  if (count < locals.length) fail(`the central directory lists ${count} entries, but the archive holds ${locals.length}`);
  let zip64: { count: number; size: number; offset: number } | undefined;
  if ((await reader.fill(4)) && reader.peek(4).readUInt32LE(0) === ZIP64_END) {
    if (!(await reader.fill(56))) fail('the ZIP64 end record is cut short');
    const record = reader.peek(12);
    const recordLength = 12 + Number(record.readBigUInt64LE(4));
    // The record's extensible data is never large; a huge length is damage, not a reason to buffer the rest.
    if (recordLength < 56 || recordLength > 56 + MAX_16) fail(`the ZIP64 end record claims ${recordLength} bytes`);
    if (!(await reader.fill(recordLength))) fail('the ZIP64 end record is cut short');
    const body = reader.take(recordLength);
    zip64 = { count: Number(body.readBigUInt64LE(32)), size: Number(body.readBigUInt64LE(40)), offset: Number(body.readBigUInt64LE(48)) };
    if (!(await reader.fill(20)) || reader.peek(4).readUInt32LE(0) !== ZIP64_LOCATOR) fail('the ZIP64 end locator is missing');
    reader.take(20);
  }
  if (!(await reader.fill(22)) || reader.peek(4).readUInt32LE(0) !== END_OF_CENTRAL_DIRECTORY) {
    fail(`the end-of-central-directory record is missing after ${count} directory entries`, 'the download or copy was probably cut short; fetch it again');
  }
  const end = reader.take(22);
  const declaredCount = end.readUInt16LE(10) === MAX_16 && zip64 ? zip64.count : end.readUInt16LE(10);
  const declaredSize = end.readUInt32LE(12) === MAX_32 && zip64 ? zip64.size : end.readUInt32LE(12);
  const declaredOffset = end.readUInt32LE(16) === MAX_32 && zip64 ? zip64.offset : end.readUInt32LE(16);
  if (end.readUInt16LE(4) !== 0 || end.readUInt16LE(6) !== 0) fail('it spans several disks');
  if (declaredCount !== count) fail(`the end record counts ${declaredCount} entries, the central directory holds ${count}`);
  if (declaredSize !== directorySize || declaredOffset !== directoryStart) fail('the end record places the central directory elsewhere than it is');
  const commentLength = end.readUInt16LE(20);
  if (!(await reader.pieces(commentLength, () => {}))) fail('the archive comment is cut short');
  if (!(await reader.atEnd())) fail(`bytes follow the end of the archive at byte ${reader.position}`);
}

async function readCentralHeader(reader: ByteReader, fail: Fail): Promise<DirectoryEntry> {
  if (!(await reader.fill(46))) fail('the central directory is cut short');
  const fixed = reader.peek(46);
  const variableLength = fixed.readUInt16LE(28) + fixed.readUInt16LE(30) + fixed.readUInt16LE(32);
  if (!(await reader.fill(46 + variableLength))) fail('the central directory is cut short');
  return parseCentralHeader(reader.take(46 + variableLength));
}

/** One central directory header (46 fixed bytes, name, extra field, comment). */
function parseCentralHeader(header: Buffer): DirectoryEntry {
  const nameLength = header.readUInt16LE(28);
  const extraLength = header.readUInt16LE(30);
  const flags = header.readUInt16LE(8);
  const sizes = zip64Sizes(header.subarray(46 + nameLength, 46 + nameLength + extraLength), { uncompressed: header.readUInt32LE(24), compressed: header.readUInt32LE(20), offset: header.readUInt32LE(42) }, true);
  return {
    name: decodeName(header.subarray(46, 46 + nameLength), flags),
    method: header.readUInt16LE(10),
    crc32: header.readUInt32LE(16),
    compressedSize: sizes.compressed,
    uncompressedSize: sizes.uncompressed,
    localHeaderOffset: sizes.offset ?? 0,
  };
}

/**
 * Replaces 0xffffffff sizes (and, in the central directory, the offset) by their ZIP64 extra-field
 * values, which appear in that order and only for the fields that overflowed.
 */
function zip64Sizes(extra: Buffer, fields: { uncompressed: number; compressed: number; offset?: number }, central: boolean): { uncompressed: number; compressed: number; offset?: number } {
  const overflowed = fields.uncompressed === MAX_32 || fields.compressed === MAX_32 || (central && fields.offset === MAX_32);
  if (!overflowed) return fields;
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA) {
      const values = extra.subarray(at + 4, at + 4 + size);
      let cursor = 0;
      const next = (value: number | undefined): number | undefined => {
        if (value !== MAX_32 || cursor + 8 > values.length) return value;
        const wide = Number(values.readBigUInt64LE(cursor));
        cursor += 8;
        return wide;
      };
      const resolved = { uncompressed: next(fields.uncompressed)!, compressed: next(fields.compressed)! };
      return fields.offset === undefined ? resolved : { ...resolved, offset: next(fields.offset)! };
    }
    at += 4 + size;
  }
  return fields;
}

function decodeName(bytes: Buffer, flags: number): string {
  return bytes.toString(flags & FLAG_UTF8_NAME ? 'utf8' : 'latin1');
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** CRC-32 (IEEE) with zlib's own implementation, present from Node 20.15. */
function crc32(bytes: Uint8Array): number {
  return (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(bytes);
}

/**
 * The central directory of an archive that can be read at any offset (a local file of `size`
 * bytes, through `readAt`), or why it cannot be found: read before streaming, it refuses a cut
 * archive at once and gives the sizes of data-descriptor entries.
 */
export async function readCentralDirectory(size: number, readAt: (offset: number, length: number) => Promise<Buffer>): Promise<DirectoryEntry[] | { problem: string }> {
  const tailLength = Math.min(size, 22 + MAX_16);
  const tail = await readAt(size - tailLength, tailLength);
  let end = -1;
  for (let offset = tailLength - 22; offset >= 0 && end === -1; offset--) {
    if (tail.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY && offset + 22 + tail.readUInt16LE(offset + 20) === tailLength) end = offset;
  }
  if (end === -1) return { problem: 'the end-of-central-directory record is missing (the archive is cut short, or not a zip)' };
  let directorySize = tail.readUInt32LE(end + 12);
  let directoryOffset = tail.readUInt32LE(end + 16);
  if (directoryOffset === MAX_32 || directorySize === MAX_32) {
    const locatorAt = size - tailLength + end - 20;
    if (locatorAt < 0) return { problem: 'the ZIP64 end locator is missing' };
    const locator = await readAt(locatorAt, 20);
    if (locator.readUInt32LE(0) !== ZIP64_LOCATOR) return { problem: 'the ZIP64 end locator is missing' };
    const recordAt = Number(locator.readBigUInt64LE(8));
    if (recordAt + 56 > locatorAt) return { problem: 'the ZIP64 end locator points beyond the directory' };
    const record = await readAt(recordAt, 56);
    if (record.readUInt32LE(0) !== ZIP64_END) return { problem: 'the ZIP64 end record is missing' };
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  if (directoryOffset + directorySize > size) return { problem: 'the central directory lies beyond the end of the file (the archive is cut short)' };
  const directory = await readAt(directoryOffset, directorySize);
  const entries: DirectoryEntry[] = [];
  for (let offset = 0; offset + 46 <= directorySize && directory.readUInt32LE(offset) === CENTRAL_HEADER; ) {
    const length = 46 + directory.readUInt16LE(offset + 28) + directory.readUInt16LE(offset + 30) + directory.readUInt16LE(offset + 32);
    if (offset + length > directorySize) return { problem: 'the central directory is cut short' };
    entries.push(parseCentralHeader(directory.subarray(offset, offset + length)));
    offset += length;
  }
  return entries;
}
