/**
 * Resolves where advisories come from for a command: `--advisories`, else `FLEETPATCH_ADVISORIES`,
 * else the public OSV bucket, reading only the ecosystems the hosts at hand use.
 */
import { ecosystemBase } from '../domain/detection/ecosystem-key.js';
import type { AdvisoryFeed } from '../feeds/advisory-feed.js';
import { OSV_BUCKET_URL } from '../feeds/http-feed.js';
import { openAdvisoryFeed } from '../feeds/open-feed.js';

export function advisoryLocation(flag: string | undefined): string {
  return flag ?? process.env.FLEETPATCH_ADVISORIES ?? OSV_BUCKET_URL;
}

/** Bucket folders for a set of OSV ecosystems: `Ubuntu:22.04:LTS` → `Ubuntu`. */
export function bucketFolders(ecosystems: Iterable<string>): string[] {
  return [...new Set([...ecosystems].map(ecosystemBase))].sort();
}

export function openFeedFor(flag: string | undefined, ecosystems: Iterable<string>): AdvisoryFeed {
  return openAdvisoryFeed(advisoryLocation(flag), bucketFolders(ecosystems));
}
