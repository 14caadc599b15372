/**
 * What an attempt's answer means for the notification: 2xx delivered; 408, 429, 5xx and network
 * errors tried again later, with exponential backoff and jitter (or when Retry-After says), for a
 * bounded number of attempts; any other answer (a 400: the receiver will never take this body)
 * failed at once, never repeated.
 */

/** Attempts in all: with the delays below the last is about an hour after the first. */
export const MAX_DELIVERY_ATTEMPTS = 10;
const FIRST_DELAY_MS = 30_000;
const LONGEST_DELAY_MS = 10 * 60_000;
/** A Retry-After further away than this is not waited for longer. */
const LONGEST_RETRY_AFTER_MS = 60 * 60_000;

export type AttemptResult = { status: number; retryAfter?: string | undefined } | { error: string };

export type DeliveryVerdict =
  | { state: 'delivered' }
  | { state: 'retry'; nextAttemptAt: Date }
  | { state: 'failed'; reason: string };

/**
 * `attempts` counts this attempt; `random` in [0, 1) spreads retries so receivers that came back
 * are not hit by every queued notification at the same instant.
 *
 * @example deliveryVerdict({ status: 500 }, 1, now, Math.random) // { state: 'retry', nextAttemptAt: ~now + 30 s }
 */
export function deliveryVerdict(result: AttemptResult, attempts: number, now: Date, random: () => number): DeliveryVerdict {
  if ('status' in result && result.status >= 200 && result.status < 300) return { state: 'delivered' };
  const retryable = 'error' in result || result.status === 408 || result.status === 429 || result.status >= 500;
  if (!retryable) return { state: 'failed', reason: 'refused by the receiver, not retried' };
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return { state: 'failed', reason: `gave up after ${attempts} attempts` };
  const retryAfterMs = 'status' in result && result.retryAfter !== undefined ? retryAfterDelayMs(result.retryAfter, now) : undefined;
  return { state: 'retry', nextAttemptAt: new Date(now.getTime() + (retryAfterMs ?? backoffDelayMs(attempts, random))) };
}

/**
 * 30 s doubling up to 10 min, each ±20 %: 30 s, 1, 2, 4, 8, 10, 10, 10, 10 min.
 *
 * @example backoffDelayMs(3, () => 0.5) // 120_000
 */
export function backoffDelayMs(attempts: number, random: () => number): number {
  const delay = Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** (attempts - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
}

/**
 * Retry-After in seconds or as an HTTP date; undefined when it is neither.
 *
 * @example retryAfterDelayMs('120', now) // 120_000
 */
export function retryAfterDelayMs(value: string, now: Date): number | undefined {
  const trimmed = value.trim();
  const milliseconds = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now.getTime();
  if (Number.isNaN(milliseconds)) return undefined;
  return Math.min(LONGEST_RETRY_AFTER_MS, Math.max(0, milliseconds));
}
