// The policy worker's answers are the in-line reader's: a 500-bucket judgement crosses back in
// slices and is put together whole, in bucket order; a small one in one message; a text that does
// not read has no policy to slice.
import { afterAll, describe, expect, it } from 'vitest';
import { inlinePolicyReader, workerPolicyReader } from '../src/app/policy-reader.js';
import { fiveHundredBuckets } from '../bench/five-hundred-buckets.js';

const NOW = new Date('2026-12-02T12:00:00Z');

describe('the policy worker', () => {
  const reader = workerPolicyReader();
  afterAll(() => reader.close());

  it('answers a 500-bucket judgement whole, buckets in order, as the in-line reader does', async () => {
    const text = fiveHundredBuckets(3);
    const [fromWorker, inline] = await Promise.all([reader.judge(text, NOW), inlinePolicyReader.judge(text, NOW)]);
    expect(fromWorker.policy!.buckets).toHaveLength(500);
    expect(fromWorker).toEqual(inline);
  });

  it('answers small and unreadable texts as the in-line reader does, one request after another', async () => {
    const small = 'version: 1\nbuckets:\n  - { name: web, owner: web, match: { labels: { role: web } } }\nfallback: { bucket: rest, owner: sre }\n';
    const broken = 'version: 1\nbuckets: [\n';
    const answers = await Promise.all([reader.judge(small, NOW), reader.judge(broken, NOW), reader.judge(fiveHundredBuckets(4), NOW)]);
    expect(answers[0]).toEqual(await inlinePolicyReader.judge(small, NOW));
    expect(answers[1]).toEqual(await inlinePolicyReader.judge(broken, NOW));
    expect(answers[1]!.policy).toBeUndefined();
    expect(answers[2]!.policy!.buckets.map((bucket) => bucket.name)).toEqual((await inlinePolicyReader.judge(fiveHundredBuckets(4), NOW)).policy!.buckets.map((bucket) => bucket.name));
  });
});
