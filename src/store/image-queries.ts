/**
 * The baseline image of each replace bucket and how many of its hosts run it. A replace bucket's
 * hosts report their image in a label (the strategy's `imageFact`); the baseline is what every
 * replacement boots from, so its age is the bucket's patch age, and a host on another image is one
 * its next rollout replaces. One grouped read of the hosts table per call, through its bucket index.
 */
import type pg from 'pg';
import type { Bucket } from '../domain/policy/policy-schema.js';

type Queryable = pg.Pool | pg.PoolClient;

const DAY_MS = 86_400_000;
/** Other images named per bucket (the most hosts first); the rest are only counted. */
const OTHER_IMAGES_LISTED = 5;

export interface BaselineImage {
  bucket: string;
  owner: string;
  /** The host label the agents report their image in. */
  imageFact: string;
  image: { id: string; built: string };
  /** Whole days from the build date (UTC) to now. */
  ageDays: number;
  hosts: number;
  onBaseline: number;
  /** Hosts that report an image other than the baseline (older ones, as a rule). */
  onOther: number;
  /** Hosts that report no image in `imageFact`. */
  unreported: number;
  otherImages: Array<{ id: string; hosts: number }>;
}

/**
 * The replace buckets among `buckets`, in their order, each with its baseline image's age and host counts.
 *
 * @example await baselineImages(pool, policy.buckets, new Date()) // [{ bucket: 'web', image: { id: 'ami-0new', built: '2026-11-29' }, ageDays: 21, hosts: 40, onBaseline: 31, onOther: 8, unreported: 1, … }]
 */
export async function baselineImages(db: Queryable, buckets: readonly Bucket[], now: Date): Promise<BaselineImage[]> {
  const replaced = buckets.flatMap((bucket) => (bucket.strategy.kind === 'replace' ? [{ bucket, strategy: bucket.strategy }] : []));
  if (replaced.length === 0) return [];
  const rows = await db.query<{ bucket: string; image: string | null; hosts: number }>(
    `SELECT h.bucket, h.labels ->> b.fact AS image, count(*)::integer AS hosts
       FROM unnest($1::text[], $2::text[]) AS b (bucket, fact) JOIN hosts h ON h.bucket = b.bucket
      GROUP BY 1, 2`,
    [replaced.map((entry) => entry.bucket.name), replaced.map((entry) => entry.strategy.imageFact)],
  );
  return replaced.map(({ bucket, strategy }) => {
    const images = rows.rows.filter((row) => row.bucket === bucket.name);
    const hostsOn = (image: string | null) => images.filter((row) => row.image === image).reduce((sum, row) => sum + row.hosts, 0);
    const others = images.filter((row) => row.image !== null && row.image !== strategy.image.id).sort((a, b) => b.hosts - a.hosts || (a.image! < b.image! ? -1 : 1));
    const hosts = images.reduce((sum, row) => sum + row.hosts, 0);
    const onBaseline = hostsOn(strategy.image.id);
    const unreported = hostsOn(null);
    return {
      bucket: bucket.name,
      owner: bucket.owner,
      imageFact: strategy.imageFact,
      image: { id: strategy.image.id, built: strategy.image.built },
      ageDays: Math.max(0, Math.floor((now.getTime() - Date.parse(`${strategy.image.built}T00:00:00Z`)) / DAY_MS)),
      hosts,
      onBaseline,
      onOther: hosts - onBaseline - unreported,
      unreported,
      otherImages: others.slice(0, OTHER_IMAGES_LISTED).map((row) => ({ id: row.image!, hosts: row.hosts })),
    };
  });
}
