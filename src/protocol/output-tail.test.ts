// The output tail keeps the last bytes however much arrives, and never starts inside a character.
import { describe, expect, it } from 'vitest';
import { OutputTail } from './output-tail.js';

describe('output tail', () => {
  it('keeps everything below the limit and the last bytes above it, counting all', () => {
    const tail = new OutputTail(8);
    tail.push(Buffer.from('abc'));
    expect(tail.text()).toBe('abc');
    for (const chunk of ['defgh', 'ijklmnop', 'qr']) tail.push(Buffer.from(chunk));
    expect(tail.text()).toBe('klmnopqr');
    expect(tail.total).toBe(18);
  });

  it('drops a character the cut splits', () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from('aé€z'));
    // 'aé€z' is 1 + 2 + 3 + 1 bytes: the last five start inside 'é'.
    expect(tail.text()).toBe('€z');
  });
});
