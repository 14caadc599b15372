/**
 * Turns OSV files (JSON or YAML) into advisories, collecting per-file errors and warnings and
 * skipping records whose `modified` time is already stored. Shared by every feed.
 */
import { parse as parseYaml } from 'yaml';
import type { Advisory } from '../domain/advisories/advisory.js';
import { readOsvRecord } from '../domain/advisories/osv-record.js';
import { InputError } from '../domain/errors.js';
import type { FeedBatch, FeedReadOptions } from './advisory-feed.js';

export interface OsvFile {
  name: string;
  text: string;
}

const PROGRESS_EVERY = 500;

/** OSV records are `.json`, `.yaml` or `.yml` files; dot-files (`.id-allocator`) are bookkeeping. */
export function isOsvFileName(name: string): boolean {
  return /\.(json|ya?ml)$/i.test(name) && !name.split('/').pop()!.startsWith('.');
}

function decode(file: OsvFile): unknown {
  const yaml = /\.ya?ml$/i.test(file.name);
  try {
    // The yaml package prints warnings (unresolved tags) to stderr; the record's validation says what matters.
    return yaml ? parseYaml(file.text, { logLevel: 'error' }) : JSON.parse(file.text);
  } catch (error) {
    throw new InputError(`not valid ${yaml ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { file: file.name });
  }
}

/**
 * Parses files as they arrive; `total` is for progress when it is known up front.
 *
 * @example await parseOsvFiles([{ name: 'DSA-1.json', text }], {})
 */
export async function parseOsvFiles(files: Iterable<OsvFile> | AsyncIterable<OsvFile>, options: FeedReadOptions, total?: number): Promise<Omit<FeedBatch, 'state'>> {
  const advisories: Advisory[] = [];
  const errors: InputError[] = [];
  const warnings: InputError[] = [];
  let unchanged = 0;
  let done = 0;
  for await (const file of files) {
    if (++done % PROGRESS_EVERY === 0) options.onProgress?.(done, total);
    let raw: unknown;
    try {
      raw = decode(file);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors.push(error);
      continue;
    }
    const reading = readOsvRecord(raw, { file: file.name });
    if ('errors' in reading) errors.push(...reading.errors);
    else {
      warnings.push(...reading.warnings);
      const known = options.knownModified?.(reading.advisory.id);
      if (known !== undefined && reading.advisory.modified.getTime() <= known.getTime()) unchanged++;
      else advisories.push(reading.advisory);
    }
  }
  options.onProgress?.(done, done);
  return { advisories, errors, warnings, unchanged };
}
