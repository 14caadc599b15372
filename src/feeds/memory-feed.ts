/** A feed over advisories already in memory: simulated advisories, and benchmarks that deliver errata in drops. */
import type { Advisory } from '../domain/advisories/advisory.js';
import type { AdvisoryFeed, FeedBatch, FeedReadOptions } from './advisory-feed.js';

export class MemoryFeed implements AdvisoryFeed {
  constructor(
    readonly location: string,
    private readonly advisories: Advisory[],
  ) {}

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const changed = this.advisories.filter((advisory) => options.knownModified?.(advisory.id)?.getTime() !== advisory.modified.getTime());
    return { advisories: changed, errors: [], unchanged: this.advisories.length - changed.length, state: {} };
  }
}
