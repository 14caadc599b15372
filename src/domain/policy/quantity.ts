/**
 * Counts and shares of a bucket, as the policy writes them: `3` or `"10%"`. Waves, the number of
 * hosts in flight and the error budget all use them; a share is rounded up, so a non-empty share of
 * a non-empty bucket is never zero hosts (GCP's disruption budget and Ansible's `serial` agree).
 */
import { z } from 'zod';

export type Quantity = { count: number } | { percent: number };

const PERCENT = /^(\d{1,3}(?:\.\d+)?)%$/;

/** `3`, `"3"` or `"25%"` (0 < percent ≤ 100). */
export const quantitySchema = z
  .union([z.number().int().min(0).max(1_000_000), z.string().max(16)])
  .transform((value, context): Quantity => {
    if (typeof value === 'number') return { count: value };
    if (/^\d{1,7}$/.test(value)) return { count: Number(value) };
    const match = PERCENT.exec(value);
    const percent = match ? Number(match[1]) : Number.NaN;
    if (!(percent > 0 && percent <= 100)) {
      context.addIssue({ code: 'custom', message: `expected a count (like 3) or a share of the bucket (like "10%"), got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return { percent };
  });

/**
 * How many of `total` hosts a quantity means (a share rounds up, never above `total`).
 *
 * @example resolveQuantity({ percent: 10 }, 42) // 5
 */
export function resolveQuantity(quantity: Quantity, total: number): number {
  if ('count' in quantity) return Math.min(quantity.count, total);
  return Math.min(total, Math.ceil((quantity.percent / 100) * total - 1e-9));
}

/**
 * Wave sizes for `total` hosts: each listed size in turn, the last one repeated until every host
 * has a wave. A share in a wave is of the whole bucket, not of what is left.
 *
 * @example waveSizes([{ count: 1 }, { count: 5 }, { percent: 20 }, { percent: 100 }], 50) // [1, 5, 10, 34]
 */
export function waveSizes(waves: readonly Quantity[], total: number): number[] {
  const sizes: number[] = [];
  let remaining = total;
  for (let index = 0; remaining > 0; index++) {
    const quantity = waves[Math.min(index, waves.length - 1)] ?? { percent: 100 };
    const size = Math.max(1, Math.min(remaining, resolveQuantity(quantity, total)));
    sizes.push(size);
    remaining -= size;
  }
  return sizes;
}

/** The policy's spelling of a quantity, for messages and plans. */
export function formatQuantity(quantity: Quantity): string {
  return 'count' in quantity ? String(quantity.count) : `${quantity.percent}%`;
}
