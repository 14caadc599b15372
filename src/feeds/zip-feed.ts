/** A zip of OSV files, as the OSV bucket publishes per ecosystem (`<ecosystem>/all.zip`). */
import { readFile } from 'node:fs/promises';
import { strFromU8, unzipSync } from 'fflate';
import { InputError } from '../domain/errors.js';
import type { AdvisoryFeed, FeedBatch, FeedReadOptions } from './advisory-feed.js';
import { isOsvFileName, parseOsvFiles, type OsvFile } from './osv-files.js';

export class ZipFeed implements AdvisoryFeed {
  constructor(readonly location: string) {}

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    return { ...parseOsvZip(await readFile(this.location), this.location, options), state: {} };
  }
}

/** Parses the OSV files inside a zip archive; `label` names the archive in error messages. */
export function parseOsvZip(bytes: Uint8Array, label: string, options: FeedReadOptions): Omit<FeedBatch, 'state'> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (entry) => isOsvFileName(entry.name) });
  } catch (error) {
    throw new InputError(`not a readable zip archive: ${(error as Error).message}`, { file: label });
  }
  const names = Object.keys(entries).sort();
  const files = (function* (): Generator<OsvFile> {
    for (const name of names) {
      const text = strFromU8(entries[name]!);
      // Release each entry once decoded: the archive's contents are not needed twice.
      delete entries[name];
      yield { name: `${label}:${name}`, text };
    }
  })();
  return parseOsvFiles(files, options, names.length);
}
