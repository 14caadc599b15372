/**
 * Reads the exploit-signal files from disk through the pure parsers: CISA's KEV catalogue (JSON) and
 * FIRST's EPSS scores (CSV, or the `.csv.gz` FIRST publishes daily).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { parseEpss, type EpssFile } from '../domain/advisories/epss.js';
import { parseKevCatalogue, type KevCatalogue } from '../domain/advisories/kev.js';
import { InputError } from '../domain/errors.js';

async function readText(path: string): Promise<string> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read: ${error.code ?? error.message}`, { file: path }, error.code === 'ENOENT' ? 'check the path' : undefined);
  });
  if (!path.toLowerCase().endsWith('.gz')) return bytes.toString('utf8');
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw new InputError(`not a readable gzip file: ${(error as Error).message}`, { file: path });
  }
}

/** @example (await readKevFile('known_exploited_vulnerabilities.json')).byCve.has('CVE-2021-44228') // true */
export async function readKevFile(path: string): Promise<KevCatalogue> {
  return parseKevCatalogue(await readText(path), path);
}

/** @example (await readEpssFile('epss_scores-2025-08-25.csv.gz')).scoreDate // '2025-08-25' */
export async function readEpssFile(path: string): Promise<EpssFile> {
  return parseEpss(await readText(path), path);
}
