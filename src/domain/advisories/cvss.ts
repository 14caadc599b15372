/**
 * CVSS base scores computed from the vector (never trusted from free text), with the maintained
 * `ae-cvss-calculator`, wrapped so a malformed vector is a clear input error instead of a crash.
 */
import cvssCalculator from 'ae-cvss-calculator';
import { InputError, type InputLocation } from '../errors.js';
import type { Severity } from '../types.js';

// The package is CommonJS; its classes come from the default export under Node's ESM loader.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

/** Which calculator reads a vector, chosen by its `CVSS:x.y/` prefix. */
const CALCULATORS: Array<{ prefix: string; score: (vector: string) => number }> = [
  { prefix: 'CVSS:3.1/', score: (vector) => new Cvss3P1(vector).calculateScores().base ?? Number.NaN },
  { prefix: 'CVSS:3.0/', score: (vector) => new Cvss3P0(vector).calculateScores().base ?? Number.NaN },
  { prefix: 'CVSS:4.0/', score: (vector) => new Cvss4P0(vector).calculateScores().base ?? Number.NaN },
];

/**
 * @example cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') // 9.8
 */
export function cvssBaseScore(vector: string, where: InputLocation = {}): number {
  const calculator = CALCULATORS.find((candidate) => vector.startsWith(candidate.prefix));
  if (!calculator) throw new InputError(`unsupported CVSS vector ${JSON.stringify(vector)}`, where, 'expected a CVSS:3.0, CVSS:3.1 or CVSS:4.0 vector');
  let score: number;
  try {
    score = calculator.score(vector);
  } catch (error) {
    throw new InputError(`malformed CVSS vector ${JSON.stringify(vector)}: ${(error as Error).message}`, where);
  }
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 10) {
    throw new InputError(`malformed CVSS vector ${JSON.stringify(vector)}: no base score`, where);
  }
  return score;
}

/** The qualitative band of a CVSS v3/v4 base score. */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}
