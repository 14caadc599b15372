/**
 * The dashboard's static files, read once at start: the page, its modules and stylesheet (src/web)
 * and the ES modules of the libraries it imports (Preact, htm, uPlot), served from node_modules
 * under `vendor/`.
 *
 * There is no build step on purpose: the browser loads the same files the tests and editors see,
 * and an import map in `dashboard.html` resolves `preact`, `preact/hooks`, `htm` and `uplot` to
 * the vendored copies, so nothing can ship stale. The dashboard is a few dozen small modules on a
 * local or intranet link, where a bundle would save little; the compiled server finds src/web
 * just as it finds the migrations.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  body: string;
  contentType: string;
}

export interface DashboardAssets {
  html: string;
  /** Keyed by the path under `/assets/`: `app.js`, `components/host-page.js`, `vendor/preact.mjs`. */
  assets: Map<string, DashboardAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** `vendor/NAME` → (package, file inside it). The names are the import map's targets. */
const VENDOR_FILES: Record<string, { packageName: string; file: string }> = {
  'preact.mjs': { packageName: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.mjs': { packageName: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { packageName: 'htm', file: 'dist/htm.mjs' },
  'uplot.mjs': { packageName: 'uplot', file: 'dist/uPlot.esm.js' },
  'uplot.css': { packageName: 'uplot', file: 'dist/uPlot.min.css' },
};

export function loadDashboardAssets(): DashboardAssets {
  const here = dirname(fileURLToPath(import.meta.url));
  const directory = [resolve(here, '../web'), resolve(here, '../../src/web')].find((candidate) => existsSync(join(candidate, 'dashboard.html')))!;
  const assets = new Map<string, DashboardAsset>();
  for (const file of filesUnder(directory)) {
    const contentType = CONTENT_TYPES[extname(file)];
    if (contentType) assets.set(relative(directory, file).split(sep).join('/'), { body: readFileSync(file, 'utf8'), contentType });
  }
  for (const [name, { packageName, file }] of Object.entries(VENDOR_FILES)) {
    assets.set(`vendor/${name}`, { body: readFileSync(join(packageDirectory(packageName), file), 'utf8'), contentType: CONTENT_TYPES[extname(name)]! });
  }
  return { html: readFileSync(join(directory, 'dashboard.html'), 'utf8'), assets };
}

/**
 * A package's directory, searched along the node_modules directories Node would search, so hoisted
 * and nested installs both work. (`require.resolve('htm/package.json')` is refused: htm's exports
 * do not list its package.json.)
 */
function packageDirectory(packageName: string): string {
  const candidates = (createRequire(import.meta.url).resolve.paths(packageName) ?? []).map((directory) => join(directory, packageName));
  const found = candidates.find((candidate) => existsSync(join(candidate, 'package.json')));
  if (!found) throw new Error(`the dashboard needs the npm package ${packageName}: run npm install`);
  return found;
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}
