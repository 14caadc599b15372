/**
 * Parses CycloneDX 1.4–1.6 JSON SBOMs: every component with a purl, at any nesting depth, becomes
 * an installed package of the purl's OSV ecosystem; an `operating-system` component names the
 * distribution of OS purls that lack a `distro` qualifier.
 */
import { z } from 'zod';
import { normalizeDistroId } from './distro-flag.js';
import { parseJsonText } from './json-text.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { sbomPackages, type SbomEntry } from './sbom-packages.js';
import { inputErrorFromZod } from './zod-issue.js';

interface CycloneDxComponent {
  type: string;
  name: string;
  version?: string | undefined;
  purl?: string | undefined;
  properties?: Array<{ name: string; value?: string | undefined }> | undefined;
  components?: CycloneDxComponent[] | undefined;
}

const cycloneDxComponent: z.ZodType<CycloneDxComponent> = z.lazy(() =>
  z.object({
    type: z.string(),
    name: z.string(),
    version: z.string().optional(),
    purl: z.string().optional(),
    properties: z.array(z.object({ name: z.string(), value: z.string().optional() })).optional(),
    components: z.array(cycloneDxComponent).optional(),
  }),
);

const cycloneDxDocument = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.enum(['1.4', '1.5', '1.6']),
  components: z.array(cycloneDxComponent).optional(),
});

/** Trivy's component properties naming the source package (Debian, Alpine and rpm packages). */
const TRIVY_SOURCE = 'aquasecurity:trivy:Src';

/**
 * `osEcosystem` is the caller's distribution (from `--distro`/`--os-release`), used for OS purls
 * when neither the purl nor the SBOM says which release they come from.
 *
 * @example parseCycloneDx('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"ms","purl":"pkg:npm/ms@2.1.3"}]}', 'bom.json').packages
 *   // [{ ecosystem: 'npm', name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3' }]
 */
export function parseCycloneDx(text: string, fileName: string, osEcosystem?: string): ParsedInventory {
  const result = cycloneDxDocument.safeParse(parseJsonText(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const entries: SbomEntry[] = [];
  let sbomOsEcosystem: string | undefined;
  const walk = (components: CycloneDxComponent[], path: string) => {
    components.forEach((component, index) => {
      const componentPath = `${path}[${index}]`;
      if (component.type === 'operating-system' && component.purl === undefined) {
        // Consumed as the distribution, not skipped: it is the OS, not a package on it.
        sbomOsEcosystem ??= component.version === undefined ? undefined : osvEcosystemFor({ id: normalizeDistroId(component.name), idLike: [], versionId: component.version });
      } else {
        const entry: SbomEntry = { purl: component.purl, field: `${componentPath}.purl` };
        const source = trivySource(component);
        if (source) entry.source = source;
        entries.push(entry);
      }
      if (component.components) walk(component.components, `${componentPath}.components`);
    });
  };
  walk(result.data.components ?? [], 'components');
  return sbomPackages(entries, fileName, sbomOsEcosystem ?? osEcosystem);
}

/** `SrcName`, `SrcVersion`, `SrcRelease`, `SrcEpoch` → `name` and `[epoch:]version[-release]`. */
function trivySource(component: CycloneDxComponent): { name: string; version?: string } | undefined {
  const properties = new Map<string, string>();
  for (const property of component.properties ?? []) {
    if (property.name.startsWith(TRIVY_SOURCE) && property.value !== undefined) properties.set(property.name.slice(TRIVY_SOURCE.length), property.value);
  }
  const name = properties.get('Name');
  if (name === undefined) return undefined;
  const version = properties.get('Version');
  if (version === undefined) return { name };
  const epoch = properties.get('Epoch');
  const release = properties.get('Release');
  return { name, version: `${epoch !== undefined && epoch !== '0' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}` };
}

/** @example looksLikeCycloneDx('{"bomFormat": "CycloneDX", …') // true */
export function looksLikeCycloneDx(head: string): boolean {
  return /"bomFormat"\s*:\s*"CycloneDX"/.test(head);
}
