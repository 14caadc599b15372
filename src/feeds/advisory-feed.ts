/**
 * Where advisories come from. Every feed (a directory, a zip, an HTTP mirror of the OSV bucket)
 * reads whole batches and reports every invalid record with its file and JSON path, so an import
 * can refuse the batch atomically instead of storing half of it.
 */
import type { Advisory } from '../domain/advisories/advisory.js';
import type { InputError } from '../domain/errors.js';

export interface FeedReadOptions {
  /**
   * `modified` of the advisories already stored. A record whose `modified` is not newer is skipped:
   * equal means unchanged, older means a stale mirror that must not roll the stored record back.
   */
  knownModified?: (id: string) => Date | undefined;
  /** State the feed returned last time (ETags, sync times); lets HTTP feeds fetch only what changed. */
  state?: Record<string, unknown>;
  /** Called every few hundred records; `total` is undefined while a download's size is unknown. */
  onProgress?: (done: number, total: number | undefined) => void;
}

export interface FeedBatch {
  /** New or changed advisories (withdrawn ones included: the index removes them). */
  advisories: Advisory[];
  /** Records that failed validation, each naming its file and field; any error should refuse the batch. */
  errors: InputError[];
  /**
   * Problems in records that were kept, each naming its file and field: parts fleetpatch ignored,
   * such as a CVSS vector it cannot score. Worth showing, not a reason to refuse the batch.
   */
  warnings?: InputError[];
  /** Valid records skipped because their `modified` time is not newer than the stored one. */
  unchanged: number;
  /** State to pass to the next read. */
  state: Record<string, unknown>;
}

export interface AdvisoryFeed {
  /** Where the feed reads from, for messages and the feed-state key. */
  readonly location: string;
  read(options?: FeedReadOptions): Promise<FeedBatch>;
}

/** Thrown when a network feed cannot be reached at all (DNS, refused, timeout, server error). */
export class FeedUnreachableError extends Error {
  override readonly name = 'FeedUnreachableError';
  constructor(location: string, cause: string) {
    super(
      `the advisory feed ${location} is unreachable (${cause}). Point fleetpatch at a mirror or a local copy: ` +
        '--advisories DIR|ZIP|URL or FLEETPATCH_ADVISORIES=… (a directory or zip of OSV JSON files, or an HTTP mirror laid out like the OSV bucket: <ecosystem>/all.zip)',
    );
  }
}
