/**
 * Parses Alpine's installed-package database (`/lib/apk/db/installed`): blank-line separated records
 * of `X:value` lines. `P` name, `V` version, `A` arch, `o` origin (advisories are keyed by origin).
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';

/**
 * @example parseApkInstalled('P:libcrypto1.1\nV:1.1.1d-r3\no:openssl\n', 'installed', 'Alpine:v3.11')
 */
export function parseApkInstalled(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  const lines = text.split('\n');
  let record = new Map<string, string>();
  let recordLine = 1;
  const finish = () => {
    if (record.size === 0) return;
    const name = record.get('P');
    const version = record.get('V');
    if (!name) throw new InputError('package record without a name', { file: fileName, line: recordLine, field: 'P' });
    if (!version) throw new InputError(`package ${name} has no version`, { file: fileName, line: recordLine, field: 'V' });
    const pkg: InstalledPackage = { ecosystem, name, version };
    const arch = record.get('A');
    if (arch) pkg.arch = arch;
    const origin = record.get('o');
    if (origin) pkg.sourceName = origin;
    packages.push(pkg);
    record = new Map();
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '');
    if (line === '') {
      finish();
      recordLine = index + 2;
      continue;
    }
    if (line.length < 2 || line[1] !== ':') throw new InputError(`expected "X:value", found ${JSON.stringify(line.slice(0, 60))}`, { file: fileName, line: index + 1 });
    const key = line[0]!;
    // Only the first value of a key matters for the fields read here (F, R, Z repeat per file).
    if (!record.has(key)) record.set(key, line.slice(2));
  }
  finish();
  return { packages, skipped: 0, warnings: [] };
}
