import { describe, expect, it } from 'vitest';
import { LastLineTracker } from './command-hook.js';

const stream = 'upgrading libfp1=1.1-1\n\n{"replaced":[{"name":"libfp1","to":"1.1-1"}]}\n  \n';
const report = '{"replaced":[{"name":"libfp1","to":"1.1-1"}]}';

function lastOf(chunks: string[]): string {
  const tracker = new LastLineTracker();
  for (const chunk of chunks) tracker.append(chunk);
  return tracker.last();
}

describe('the last line of a hook\'s output', () => {
  it('is the same wherever the stream is cut into two chunks', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      expect(lastOf([stream.slice(0, cut), stream.slice(cut)]), `cut at ${cut}`).toBe(report);
    }
  });

  it('is the same when every character arrives alone', () => {
    expect(lastOf([...stream])).toBe(report);
  });

  it('is an unterminated last line when the hook ends without a newline', () => {
    expect(lastOf(['first\n', 'sec', 'ond'])).toBe('second');
    expect(lastOf([])).toBe('');
  });
});
