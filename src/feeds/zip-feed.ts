/**
 * A zip of OSV files, as the OSV bucket publishes per ecosystem (`<ecosystem>/all.zip`). Entries are
 * inflated as the archive streams in, so memory holds the records, not the whole unpacked archive;
 * the archive is checked whole (see `zip-archive.ts`) before the batch is handed to an importer.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { InputError } from '../domain/errors.js';
import type { AdvisoryFeed, FeedBatch, FeedReadOptions } from './advisory-feed.js';
import { isOsvFileName, parseOsvFiles, type OsvFile } from './osv-files.js';
import { readCentralDirectory, zipEntries, zipLimitsFromEnvironment, type DirectoryEntry, type ZipLimits } from './zip-archive.js';

const READ_CHUNK_BYTES = 256 * 1024;

export class ZipFeed implements AdvisoryFeed {
  /** @param limits caps on inflated bytes; by default from FLEETPATCH_ZIP_MAX_ENTRY_BYTES / FLEETPATCH_ZIP_MAX_TOTAL_BYTES */
  constructor(
    readonly location: string,
    private readonly limits: ZipLimits = zipLimitsFromEnvironment(),
  ) {}

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const directory = await centralDirectoryOf(this.location);
    const total = directory.filter((entry) => isOsvFileName(entry.name)).length;
    const chunks = createReadStream(this.location, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Uint8Array>;
    return { ...(await parseOsvFiles(osvFilesInZip(chunks, this.location, this.limits, directory), options, total)), state: {} };
  }
}

/**
 * The OSV files of a zip archive arriving in chunks (a file stream, an HTTP body), in archive
 * order; `label` names the archive in file names and errors (`all.zip:DSA-1234-1.json`). The
 * iteration throws `InputError` at its end when the archive proves incomplete or inconsistent, so
 * act on the files only once it has finished (`parseOsvFiles` returns nothing before that).
 *
 * @example for await (const file of osvFilesInZip(createReadStream('all.zip'), 'all.zip', limits)) console.log(file.name)
 */
export async function* osvFilesInZip(chunks: AsyncIterable<Uint8Array>, label: string, limits: ZipLimits, directory?: DirectoryEntry[]): AsyncGenerator<OsvFile> {
  const decoder = new TextDecoder();
  let files = 0;
  for await (const entry of zipEntries(chunks, label, { wanted: isOsvFileName, limits, ...(directory ? { directory } : {}) })) {
    files++;
    yield { name: `${label}:${entry.name}`, text: decoder.decode(entry.bytes) };
  }
  if (files === 0) throw new InputError('no OSV .json or .yaml files in this archive', { file: label }, 'is this a zip of OSV records?');
}

/** The central directory of a zip on disk; a cut or foreign file is refused before any entry is read. */
async function centralDirectoryOf(path: string): Promise<DirectoryEntry[]> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read: ${error.code ?? error.message}`, { file: path });
  });
  try {
    const { size } = await handle.stat();
    const directory = await readCentralDirectory(size, async (offset, length) => {
      const bytes = Buffer.alloc(length);
      await handle.read(bytes, 0, length, offset);
      return bytes;
    });
    if ('problem' in directory) throw new InputError(`not a complete zip archive: ${directory.problem}`, { file: path }, 'the download or copy was probably cut short; fetch it again');
    return directory;
  } finally {
    await handle.close();
  }
}
