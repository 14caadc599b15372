import { describe, expect, it } from 'vitest';
import { CallBatcher } from './call-batcher.js';

/** A write that records its batches and answers when released. */
function controlledWrite() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const write = (inputs: number[]) => {
    batches.push(inputs);
    return new Promise<number[]>((resolve, reject) => releases.push(() => (inputs.includes(-1) ? reject(new Error('refused')) : resolve(inputs.map((input) => input * 10)))));
  };
  return { batches, releases, write };
}

describe('CallBatcher', () => {
  it('writes a call into an idle batcher at once, and the calls made meanwhile as the next batch', async () => {
    const { batches, releases, write } = controlledWrite();
    const batcher = new CallBatcher(write);
    const first = batcher.call(1);
    expect(batches).toEqual([[1]]);
    const rest = [batcher.call(2), batcher.call(3), batcher.call(4)];
    expect(batches).toHaveLength(1);
    releases[0]!();
    expect(await first).toBe(10);
    await Promise.resolve();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    releases[1]!();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('caps a batch at maxBatch calls; the rest follow in the next', async () => {
    const { batches, releases, write } = controlledWrite();
    const batcher = new CallBatcher(write, 2);
    const calls = [1, 2, 3, 4, 5].map((input) => batcher.call(input));
    for (let batch = 0; batch < 3; batch++) {
      while (releases.length <= batch) await Promise.resolve();
      releases[batch]!();
    }
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('fails every call of a batch that failed, and goes on with the next', async () => {
    const { batches, releases, write } = controlledWrite();
    const batcher = new CallBatcher(write);
    const first = batcher.call(1);
    const failing = [batcher.call(-1), batcher.call(2)];
    releases[0]!();
    await first;
    while (releases.length < 2) await Promise.resolve();
    const later = batcher.call(3);
    releases[1]!();
    await expect(failing[0]).rejects.toThrow('refused');
    await expect(failing[1]).rejects.toThrow('refused');
    while (releases.length < 3) await Promise.resolve();
    releases[2]!();
    expect(await later).toBe(30);
    expect(batches).toEqual([[1], [-1, 2], [3]]);
  });
  it('writes up to maxInFlight batches at once; calls wait only while every one is busy', async () => {
    const { batches, releases, write } = controlledWrite();
    const batcher = new CallBatcher(write, 200, 2);
    const first = batcher.call(1);
    const second = batcher.call(2);
    expect(batches).toEqual([[1], [2]]);
    const rest = [batcher.call(3), batcher.call(4)];
    expect(batches).toHaveLength(2);
    // The second batch ends first: the waiting calls go out together at once, beside the first.
    releases[1]!();
    expect(await second).toBe(20);
    await Promise.resolve();
    expect(batches).toEqual([[1], [2], [3, 4]]);
    releases[0]!();
    releases[2]!();
    expect(await Promise.all([first, ...rest])).toEqual([10, 30, 40]);
  });
});
