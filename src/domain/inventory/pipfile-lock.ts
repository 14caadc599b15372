/**
 * Parses Pipenv's `Pipfile.lock` into PyPI packages: every pinned (`==1.2.3`) entry of the
 * `default` and `develop` sections, names normalised per PEP 503 as OSV's PyPI records are.
 */
import { z } from 'zod';
import type { InstalledPackage } from '../types.js';
import { parseJsonText } from './json-text.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { inputErrorFromZod } from './zod-issue.js';

const lockedSection = z.record(z.string(), z.object({ version: z.string().optional() }));

const pipfileLock = z.object({
  _meta: z.object({}).loose(),
  default: lockedSection.optional(),
  develop: lockedSection.optional(),
});

/**
 * Entries without a pinned version (git, path or editable installs) say nothing comparable and
 * are counted as skipped, named in a warning.
 *
 * @example parsePipfileLock('{"_meta":{},"default":{"Django":{"version":"==4.2.1"}}}', 'Pipfile.lock').packages
 *   // [{ ecosystem: 'PyPI', name: 'django', version: '4.2.1' }]
 */
export function parsePipfileLock(text: string, fileName: string): ParsedInventory {
  const result = pipfileLock.safeParse(parseJsonText(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const packages: InstalledPackage[] = [];
  const unpinned: string[] = [];
  for (const section of [result.data.default ?? {}, result.data.develop ?? {}]) {
    for (const [name, entry] of Object.entries(section)) {
      const pin = entry.version?.startsWith('===') ? 3 : entry.version?.startsWith('==') ? 2 : 0;
      if (pin === 0) unpinned.push(name);
      else packages.push({ ecosystem: 'PyPI', name: name.toLowerCase().replace(/[-_.]+/g, '-'), version: entry.version!.slice(pin).trim() });
    }
  }
  const warnings = unpinned.length > 0 ? [`${unpinned.length} entr(ies) without a pinned version skipped: ${unpinned.join(', ')}`] : [];
  return { packages, skipped: unpinned.length, warnings };
}
