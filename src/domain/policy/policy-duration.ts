/**
 * Durations as people write them in the policy: `90s`, `5m`, `1h30m`, `14d`. Stored as
 * milliseconds; a day here is 24 hours of elapsed time (calendar days are the window module's).
 */
import { z } from 'zod';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const DURATION = /^(?:(\d{1,5})d)?(?:(\d{1,5})h)?(?:(\d{1,5})m)?(?:(\d{1,5})s)?$/;

/**
 * Milliseconds of a duration string, or undefined when it is not one.
 *
 * @example parsePolicyDuration('1h30m') // 5400000
 */
export function parsePolicyDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, days, hours, minutes, seconds] = match;
  return Number(days ?? 0) * UNIT_MS.d + Number(hours ?? 0) * UNIT_MS.h + Number(minutes ?? 0) * UNIT_MS.m + Number(seconds ?? 0) * UNIT_MS.s;
}

/** A duration string (`5m`, `1h30m`, `14d`) as milliseconds. */
export const policyDurationSchema = z
  .string()
  .max(32)
  .transform((text, context) => {
    const milliseconds = parsePolicyDuration(text);
    if (milliseconds === undefined) {
      context.addIssue({ code: 'custom', message: `expected a duration like 90s, 5m, 1h30m or 14d, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return milliseconds;
  });

/**
 * The shortest spelling of a duration, for plans and messages.
 *
 * @example formatPolicyDuration(5_400_000) // '1h30m'
 */
export function formatPolicyDuration(milliseconds: number): string {
  let rest = Math.round(milliseconds / 1000) * 1000;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text || '0s';
}
