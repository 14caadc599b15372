import { describe, expect, it } from 'vitest';
import { backoffDelayMs, deliveryVerdict, MAX_DELIVERY_ATTEMPTS, retryAfterDelayMs } from './delivery-retry.js';

const now = new Date('2027-01-05T22:00:00Z');
const middle = () => 0.5;
const after = (milliseconds: number) => ({ state: 'retry', nextAttemptAt: new Date(now.getTime() + milliseconds) });

describe('deliveryVerdict', () => {
  it('takes any 2xx as delivered', () => {
    expect(deliveryVerdict({ status: 202 }, 1, now, middle)).toEqual({ state: 'delivered' });
    expect(deliveryVerdict({ status: 200 }, 1, now, middle)).toEqual({ state: 'delivered' });
  });
  it('retries 408, 429, 5xx and network errors', () => {
    for (const result of [{ status: 408 }, { status: 429 }, { status: 500 }, { status: 503 }, { error: 'ECONNREFUSED' }]) {
      expect(deliveryVerdict(result, 1, now, middle)).toEqual(after(30_000));
    }
  });
  it('fails other answers at once', () => {
    for (const status of [400, 401, 403, 404, 410, 302]) expect(deliveryVerdict({ status }, 1, now, middle).state).toBe('failed');
  });
  it('gives up after the last attempt', () => {
    expect(deliveryVerdict({ status: 500 }, MAX_DELIVERY_ATTEMPTS - 1, now, middle).state).toBe('retry');
    expect(deliveryVerdict({ status: 500 }, MAX_DELIVERY_ATTEMPTS, now, middle)).toEqual({ state: 'failed', reason: 'gave up after 10 attempts' });
  });
  it('waits as long as Retry-After says instead of the backoff', () => {
    expect(deliveryVerdict({ status: 429, retryAfter: '120' }, 1, now, middle)).toEqual(after(120_000));
    expect(deliveryVerdict({ status: 503, retryAfter: 'soon' }, 1, now, middle)).toEqual(after(30_000));
  });
});

describe('backoffDelayMs', () => {
  it('doubles from 30 s up to 10 min, the attempts spanning about an hour', () => {
    const delays = Array.from({ length: MAX_DELIVERY_ATTEMPTS - 1 }, (_, index) => backoffDelayMs(index + 1, middle));
    expect(delays.slice(0, 6)).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000]);
    const total = delays.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(45 * 60_000);
    expect(total).toBeLessThan(75 * 60_000);
  });
  it('spreads each delay by at most a fifth either way', () => {
    expect(backoffDelayMs(2, () => 0)).toBe(48_000);
    expect(backoffDelayMs(2, () => 0.999_999)).toBe(72_000);
  });
});

describe('retryAfterDelayMs', () => {
  it('reads seconds and HTTP dates, bounded to an hour', () => {
    expect(retryAfterDelayMs('0', now)).toBe(0);
    expect(retryAfterDelayMs('Tue, 05 Jan 2027 22:01:30 GMT', now)).toBe(90_000);
    expect(retryAfterDelayMs('Tue, 05 Jan 2027 21:00:00 GMT', now)).toBe(0);
    expect(retryAfterDelayMs('86400', now)).toBe(3_600_000);
    expect(retryAfterDelayMs('later', now)).toBeUndefined();
  });
});
