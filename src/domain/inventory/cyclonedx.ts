/**
 * Parses CycloneDX 1.4–1.6 JSON SBOMs: every component with a purl, at any nesting depth, becomes
 * an installed package of the purl's OSV ecosystem; an `operating-system` component names the
 * distribution of OS purls that lack a `distro` qualifier.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { normalizeDistroId } from './distro-flag.js';
import { parseJsonText } from './json-text.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { sbomPackages, type SbomEntry } from './sbom-packages.js';
import { MAX_NESTING_DEPTH, shortenedPath } from './well-formed-inventory.js';
import { inputErrorFromZod } from './zod-issue.js';

// One component without its children: `components` is walked with a stack rather than by a
// recursive schema, which overflowed the call stack on deeply nested SBOMs.
const cycloneDxComponent = z.object({
  type: z.string(),
  name: z.string(),
  version: z.string().optional(),
  purl: z.string().optional(),
  properties: z.array(z.object({ name: z.string(), value: z.string().optional() })).optional(),
  components: z.array(z.unknown()).optional(),
});

type CycloneDxComponent = z.infer<typeof cycloneDxComponent>;

const cycloneDxDocument = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.enum(['1.4', '1.5', '1.6']),
  components: z.array(z.unknown()).optional(),
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
  // Depth-first in document order: the stack holds the remaining siblings' parents' work in reverse.
  const pending: Array<{ raw: unknown; path: string; depth: number }> = [];
  const pushChildren = (children: unknown[] | undefined, path: string, depth: number) => {
    if (children === undefined) return;
    if (depth > MAX_NESTING_DEPTH) {
      throw new InputError(`components nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`, { file: fileName, field: shortenedPath(path) }, 'is this SBOM generated? real component trees are a few levels deep');
    }
    for (let index = children.length - 1; index >= 0; index--) pending.push({ raw: children[index], path: `${path}[${index}]`, depth });
  };
  pushChildren(result.data.components, 'components', 1);
  while (pending.length > 0) {
    const { raw, path: componentPath, depth } = pending.pop()!;
    const parsed = cycloneDxComponent.safeParse(raw);
    if (!parsed.success) throw inputErrorFromZod(parsed.error, fileName, componentPath);
    const component = parsed.data;
    if (component.type === 'operating-system' && component.purl === undefined) {
      // Consumed as the distribution, not skipped: it is the OS, not a package on it.
      sbomOsEcosystem ??= component.version === undefined ? undefined : osvEcosystemFor({ id: normalizeDistroId(component.name), idLike: [], versionId: component.version });
    } else {
      const entry: SbomEntry = { purl: component.purl, field: `${componentPath}.purl` };
      const source = trivySource(component);
      if (source) entry.source = source;
      entries.push(entry);
    }
    pushChildren(component.components, `${componentPath}.components`, depth + 1);
  }
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
