/**
 * Where the real public data lives (advisories, inventories, conformance vectors). Tests and
 * benchmarks read it at run time and never copy it into the repository.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `FLEETPATCH_DATA_DIR`, defaulting to `../shared/data` beside the repository. */
export const sharedDataDir = process.env.FLEETPATCH_DATA_DIR ?? resolve(repoRoot, '../shared/data');

/** Path of a file in the shared data; fails loudly (never skips) when the data is missing. */
export function sharedData(relativePath: string): string {
  const path = resolve(sharedDataDir, relativePath);
  if (!existsSync(path)) {
    throw new Error(`shared data file ${path} is missing; set FLEETPATCH_DATA_DIR to the shared/data folder`);
  }
  return path;
}

export { repoRoot };
