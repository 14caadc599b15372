/** A directory tree of OSV files (`.json`, `.yaml`), as osv-schema repositories publish them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdvisoryFeed, FeedBatch, FeedReadOptions } from './advisory-feed.js';
import { isOsvFileName, parseOsvFiles, type OsvFile } from './osv-files.js';

export class DirectoryFeed implements AdvisoryFeed {
  constructor(readonly location: string) {}

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const paths = readdirSync(this.location, { recursive: true, encoding: 'utf8' }).filter(isOsvFileName).sort();
    const files = (function* (root: string): Generator<OsvFile> {
      for (const path of paths) yield { name: join(root, path), text: readFileSync(join(root, path), 'utf8') };
    })(this.location);
    return { ...parseOsvFiles(files, options, paths.length), state: {} };
  }
}
