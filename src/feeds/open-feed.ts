/**
 * Opens the advisory feed a location names: an http(s) URL (a mirror of the OSV bucket), a `.zip`
 * of OSV files, or a directory of them. The single place that knows the feed kinds.
 */
import { existsSync, statSync } from 'node:fs';
import { InputError } from '../domain/errors.js';
import type { AdvisoryFeed } from './advisory-feed.js';
import { DirectoryFeed } from './directory-feed.js';
import { HttpFeed } from './http-feed.js';
import { ZipFeed } from './zip-feed.js';

/**
 * @param ecosystems for URLs: which bucket folders to read (`Debian`, `AlmaLinux`, …)
 * @example openAdvisoryFeed('../shared/data/osv/almalinux/almalinux9.zip')
 */
export function openAdvisoryFeed(location: string, ecosystems: string[] = []): AdvisoryFeed {
  if (/^https?:\/\//i.test(location)) {
    if (ecosystems.length === 0) throw new InputError('an advisory URL needs the ecosystems to sync', { field: '--ecosystem' }, 'e.g. --ecosystem Debian --ecosystem AlmaLinux');
    return new HttpFeed(location, ecosystems);
  }
  if (!existsSync(location)) throw new InputError('no such advisory file or directory', { file: location }, 'give a directory or .zip of OSV files, or an http(s) mirror URL');
  if (statSync(location).isDirectory()) return new DirectoryFeed(location);
  if (location.toLowerCase().endsWith('.zip')) return new ZipFeed(location);
  throw new InputError('not a directory, .zip or URL', { file: location });
}
