/**
 * Parses CycloneDX (1.4–1.6) and SPDX 2.3 JSON SBOMs: every component or package with a purl
 * becomes an installed package of the purl's OSV ecosystem. Components without a purl, or of a type
 * with no OSV ecosystem, are counted as skipped, never silently dropped.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { packageFromPurl, parsePurl } from './purl.js';
import { inputErrorFromZod } from './zod-issue.js';

interface CycloneDxComponent {
  purl?: string | undefined;
  components?: CycloneDxComponent[] | undefined;
}

const cycloneDxComponent: z.ZodType<CycloneDxComponent> = z.lazy(() =>
  z.object({
    name: z.string(),
    version: z.string().optional(),
    purl: z.string().optional(),
    components: z.array(cycloneDxComponent).optional(),
  }),
);

const cycloneDxDocument = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.enum(['1.4', '1.5', '1.6']),
  metadata: z.object({ component: cycloneDxComponent.optional() }).optional(),
  components: z.array(cycloneDxComponent).default([]),
});

const spdxDocument = z.object({
  spdxVersion: z.literal('SPDX-2.3'),
  packages: z
    .array(
      z.object({
        name: z.string(),
        versionInfo: z.string().optional(),
        externalRefs: z.array(z.object({ referenceCategory: z.string(), referenceType: z.string(), referenceLocator: z.string() })).optional(),
      }),
    )
    .default([]),
});

function parseJson(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { file: fileName });
  }
}

function collect(purls: Array<string | undefined>, fileName: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  let skipped = 0;
  purls.forEach((purl, index) => {
    const pkg = purl ? packageFromPurl(parsePurl(purl, { file: fileName, field: `component ${index}` }), purl) : undefined;
    if (pkg) packages.push(pkg);
    else skipped++;
  });
  return { packages, skipped, warnings: skipped > 0 ? [`${skipped} component(s) without a usable purl were skipped`] : [] };
}

/** @example parseCycloneDx(await readFile('bom.json', 'utf8'), 'bom.json') */
export function parseCycloneDx(text: string, fileName: string): ParsedInventory {
  const result = cycloneDxDocument.safeParse(parseJson(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const purls: Array<string | undefined> = [];
  const walk = (components: CycloneDxComponent[]) => {
    for (const component of components) {
      purls.push(component.purl);
      if (component.components) walk(component.components);
    }
  };
  walk(result.data.components);
  return collect(purls, fileName);
}

/** @example parseSpdx(await readFile('sbom.spdx.json', 'utf8'), 'sbom.spdx.json') */
export function parseSpdx(text: string, fileName: string): ParsedInventory {
  const result = spdxDocument.safeParse(parseJson(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  return collect(
    result.data.packages.map((pkg) => pkg.externalRefs?.find((ref) => ref.referenceType === 'purl')?.referenceLocator),
    fileName,
  );
}

export function looksLikeCycloneDx(text: string): boolean {
  return /"bomFormat"\s*:\s*"CycloneDX"/.test(text.slice(0, 4096));
}

export function looksLikeSpdx(text: string): boolean {
  return /"spdxVersion"\s*:/.test(text.slice(0, 4096));
}
