/**
 * Turns OSV files (JSON or YAML) into advisories, collecting per-file errors and skipping records
 * whose `modified` time is already stored. Shared by every feed.
 */
import { parse as parseYaml } from 'yaml';
import type { Advisory } from '../domain/advisories/advisory.js';
import { advisoryFromOsv } from '../domain/advisories/osv-record.js';
import { InputError } from '../domain/errors.js';
import type { FeedBatch, FeedReadOptions } from './advisory-feed.js';

export interface OsvFile {
  name: string;
  text: string;
}

export function isOsvFileName(name: string): boolean {
  return /\.(json|ya?ml)$/i.test(name) && !name.split('/').pop()!.startsWith('.');
}

function decode(file: OsvFile): unknown {
  try {
    return /\.ya?ml$/i.test(file.name) ? parseYaml(file.text) : JSON.parse(file.text);
  } catch (error) {
    throw new InputError(`not valid ${/\.ya?ml$/i.test(file.name) ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { file: file.name });
  }
}

/** Parses a batch of files; `total` is for progress when the files arrive lazily. */
export function parseOsvFiles(files: Iterable<OsvFile>, options: FeedReadOptions, total?: number): Omit<FeedBatch, 'state'> {
  const advisories: Advisory[] = [];
  const errors: InputError[] = [];
  let unchanged = 0;
  let done = 0;
  for (const file of files) {
    try {
      const advisory = advisoryFromOsv(decode(file), { file: file.name });
      const known = options.knownModified?.(advisory.id);
      if (known !== undefined && known.getTime() === advisory.modified.getTime()) unchanged++;
      else advisories.push(advisory);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors.push(error);
    }
    if (++done % 500 === 0) options.onProgress?.(done, total);
  }
  options.onProgress?.(done, total ?? done);
  return { advisories, errors, unchanged };
}
