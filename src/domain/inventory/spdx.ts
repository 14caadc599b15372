/**
 * Parses SPDX 2.3 JSON SBOMs: every package with a `purl` external reference becomes an installed
 * package of the purl's OSV ecosystem; an `OPERATING-SYSTEM` package names the distribution of OS
 * purls that lack a `distro` qualifier.
 */
import { z } from 'zod';
import { normalizeDistroId } from './distro-flag.js';
import { parseJsonText } from './json-text.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { sbomPackages, type SbomEntry } from './sbom-packages.js';
import { inputErrorFromZod } from './zod-issue.js';

const spdxDocument = z.object({
  spdxVersion: z.literal('SPDX-2.3'),
  SPDXID: z.string(),
  packages: z
    .array(
      z.object({
        SPDXID: z.string(),
        name: z.string(),
        versionInfo: z.string().optional(),
        primaryPackagePurpose: z.string().optional(),
        sourceInfo: z.string().optional(),
        externalRefs: z.array(z.object({ referenceCategory: z.string(), referenceType: z.string(), referenceLocator: z.string() })).optional(),
      }),
    )
    .optional(),
});

/**
 * `osEcosystem` is the caller's distribution, used for OS purls when neither the purl nor the SBOM
 * says which release they come from.
 *
 * @example parseSpdx(text, 'sbom.spdx.json').packages
 */
export function parseSpdx(text: string, fileName: string, osEcosystem?: string): ParsedInventory {
  const result = spdxDocument.safeParse(parseJsonText(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const entries: SbomEntry[] = [];
  let sbomOsEcosystem: string | undefined;
  (result.data.packages ?? []).forEach((pkg, index) => {
    const purlIndex = pkg.externalRefs?.findIndex((ref) => ref.referenceType === 'purl') ?? -1;
    if (pkg.primaryPackagePurpose === 'OPERATING-SYSTEM' && purlIndex === -1) {
      sbomOsEcosystem ??= pkg.versionInfo === undefined ? undefined : osvEcosystemFor({ id: normalizeDistroId(pkg.name), idLike: [], versionId: pkg.versionInfo });
      return;
    }
    const entry: SbomEntry = {
      purl: purlIndex === -1 ? undefined : pkg.externalRefs![purlIndex]!.referenceLocator,
      field: `packages[${index}].externalRefs[${purlIndex}].referenceLocator`,
    };
    // trivy writes "built package from: util-linux 2.38.1-5+deb12u3".
    const built = /^built package from:\s*(\S+)(?:\s+(\S+))?\s*$/.exec(pkg.sourceInfo ?? '');
    if (built) entry.source = built[2] === undefined ? { name: built[1]! } : { name: built[1]!, version: built[2] };
    entries.push(entry);
  });
  return sbomPackages(entries, fileName, sbomOsEcosystem ?? osEcosystem);
}

/** @example looksLikeSpdx('{"spdxVersion": "SPDX-2.3", …') // true */
export function looksLikeSpdx(head: string): boolean {
  return /"spdxVersion"\s*:\s*"SPDX-/.test(head);
}
