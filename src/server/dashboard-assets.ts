/**
 * The dashboard's static files (src/web), read once at start. They ship as plain files beside the
 * code; the compiled server finds them in src/web just as it finds the migrations.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  html: string;
  assets: Map<string, { body: string; contentType: string }>;
}

const CONTENT_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function loadDashboardAssets(): DashboardAssets {
  const here = dirname(fileURLToPath(import.meta.url));
  const directory = [resolve(here, '../web'), resolve(here, '../../src/web')].find((candidate) => existsSync(join(candidate, 'dashboard.html')))!;
  const assets = new Map<string, { body: string; contentType: string }>();
  for (const file of ['dashboard.js', 'dashboard.css']) {
    assets.set(file, { body: readFileSync(join(directory, file), 'utf8'), contentType: CONTENT_TYPES[file.split('.').pop()!]! });
  }
  return { html: readFileSync(join(directory, 'dashboard.html'), 'utf8'), assets };
}
