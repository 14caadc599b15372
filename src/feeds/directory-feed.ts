/** A directory tree of OSV files (`.json`, `.yaml`), as osv-schema repositories publish them. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdvisoryFeed, FeedBatch, FeedReadOptions } from './advisory-feed.js';
import { isOsvFileName, parseOsvFiles, type OsvFile } from './osv-files.js';

export class DirectoryFeed implements AdvisoryFeed {
  constructor(readonly location: string) {}

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const paths = (await readdir(this.location, { recursive: true, encoding: 'utf8' })).filter(isOsvFileName).sort();
    // Files are read one at a time as the parser asks for them, so memory holds records, not texts.
    const files = (async function* (root: string): AsyncGenerator<OsvFile> {
      for (const path of paths) yield { name: join(root, path), text: await readFile(join(root, path), 'utf8') };
    })(this.location);
    return { ...(await parseOsvFiles(files, options, paths.length)), state: {} };
  }
}
