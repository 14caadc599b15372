/**
 * Parses npm's `package-lock.json` (lockfile v1, v2 and v3) into the registry packages it
 * installs: v2/v3 list every `node_modules/…` path under `packages`, v1 nests `dependencies`.
 */
import { z } from 'zod';
import type { InstalledPackage } from '../types.js';
import { parseJsonText } from './json-text.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { inputErrorFromZod } from './zod-issue.js';

interface NpmV1Dependency {
  version?: string | undefined;
  dependencies?: Record<string, NpmV1Dependency> | undefined;
}

const npmV1Dependency: z.ZodType<NpmV1Dependency> = z.lazy(() =>
  z.object({ version: z.string().optional(), dependencies: z.record(z.string(), npmV1Dependency).optional() }),
);

const npmLock = z.object({
  lockfileVersion: z.number().int().min(1).max(3),
  packages: z.record(z.string(), z.object({ name: z.string().optional(), version: z.string().optional(), link: z.boolean().optional() })).optional(),
  dependencies: z.record(z.string(), npmV1Dependency).optional(),
});

const NODE_MODULES = 'node_modules/';

/**
 * Each `name@version` is reported once however many paths install it. Entries that are not
 * registry packages (workspace folders, `link`s, `file:`/git/URL versions) are counted as skipped.
 *
 * @example parseNpmLock('{"lockfileVersion":3,"packages":{"":{},"node_modules/ms":{"version":"2.1.3"}}}', 'package-lock.json').packages
 *   // [{ ecosystem: 'npm', name: 'ms', version: '2.1.3' }]
 */
export function parseNpmLock(text: string, fileName: string): ParsedInventory {
  const result = npmLock.safeParse(parseJsonText(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const seen = new Map<string, InstalledPackage>();
  let skipped = 0;
  const add = (installedAs: string, version: string | undefined) => {
    const registry = registryPackage(installedAs, version);
    if (registry === undefined) skipped++;
    else seen.set(`${registry.name}@${registry.version}`, { ecosystem: 'npm', ...registry });
  };
  if (result.data.packages) {
    for (const [path, entry] of Object.entries(result.data.packages)) {
      if (path === '') continue;
      const lastNodeModules = path.lastIndexOf(NODE_MODULES);
      if (lastNodeModules === -1 || entry.link) {
        // Workspace folders and links to them are the project's own code, not registry packages.
        skipped++;
        continue;
      }
      // An alias (`"foo": "npm:bar@1"`) is installed at node_modules/foo with `name: "bar"`.
      add(entry.name ?? path.slice(lastNodeModules + NODE_MODULES.length), entry.version);
    }
  } else {
    const walk = (dependencies: Record<string, NpmV1Dependency>) => {
      for (const [name, dependency] of Object.entries(dependencies)) {
        add(name, dependency.version);
        if (dependency.dependencies) walk(dependency.dependencies);
      }
    };
    walk(result.data.dependencies ?? {});
  }
  const warnings = skipped > 0 ? [`${skipped} lockfile entr(ies) skipped: workspace folders, links, or versions that are not from the registry (file:, git, URL)`] : [];
  return { packages: [...seen.values()], skipped, warnings };
}

/** `name` + `1.2.3` or a v1 alias `npm:real-name@1.2.3`; undefined for file:, git and URL versions. */
function registryPackage(installedAs: string, version: string | undefined): { name: string; version: string } | undefined {
  if (version === undefined || version === '') return undefined;
  if (version.startsWith('npm:')) {
    const at = version.lastIndexOf('@');
    return at <= 4 ? undefined : { name: version.slice(4, at), version: version.slice(at + 1) };
  }
  if (version.includes(':') || version.includes('/')) return undefined;
  return { name: installedAs, version };
}
