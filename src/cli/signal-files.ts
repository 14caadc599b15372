/** Reads the exploit-signal files named on the command line: the KEV catalogue and an EPSS CSV. */
import { readFile } from 'node:fs/promises';
import type { EpssFile } from '../domain/advisories/epss.js';
import { parseEpss } from '../domain/advisories/epss.js';
import type { KevCatalogue } from '../domain/advisories/kev.js';
import { parseKevCatalogue } from '../domain/advisories/kev.js';
import { InputError } from '../domain/errors.js';

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read: ${error.code ?? error.message}`, { file: path });
  });
}

export async function readKevFile(path: string): Promise<KevCatalogue> {
  return parseKevCatalogue(await readText(path), path);
}

export async function readEpssFile(path: string): Promise<EpssFile> {
  const text = await readText(path);
  return parseEpss(text, path);
}
