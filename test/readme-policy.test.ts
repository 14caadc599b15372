// The README's excerpt of each bucket's strategy stays what examples/fleetpatch.yaml says (the demo applies that file).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('the README\'s strategy excerpt', () => {
  it('is a subset of the example policy, bucket by bucket', () => {
    const readme = read('README.md');
    const start = readme.indexOf('The four buckets\' strategies');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(start))![1]!;
    const excerpt = parse(block.replace(/^ {2}/gm, '')) as { buckets: Array<{ name: string }> };
    const example = parse(read('examples/fleetpatch.yaml')) as { buckets: Array<{ name: string }> };
    expect(excerpt.buckets.map((bucket) => bucket.name)).toEqual(example.buckets.map((bucket) => bucket.name));
    for (const bucket of excerpt.buckets) {
      const inExample = example.buckets.find((candidate) => candidate.name === bucket.name)!;
      // The checks' timeouts are left out of the excerpt.
      expect(inExample, bucket.name).toMatchObject(bucket);
    }
  });
});
