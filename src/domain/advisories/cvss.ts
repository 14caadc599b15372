/**
 * CVSS base scores computed from the vector (never trusted from free text), with the maintained
 * `ae-cvss-calculator`, wrapped so a malformed vector is a clear input error instead of a crash.
 */
import cvssCalculator from 'ae-cvss-calculator';
import { InputError, type InputLocation } from '../errors.js';
import type { Severity } from '../types.js';

// The package is CommonJS; its classes come from the default export under Node's ESM loader.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

interface CvssVersion {
  prefix: string;
  /** Base metrics a vector must state: the calculator silently fills missing ones with "X" and scores 0. */
  baseMetrics: readonly string[];
  score: (vector: string) => number | undefined;
}

const V3_BASE_METRICS = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;
const V4_BASE_METRICS = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'] as const;

const VERSIONS: readonly CvssVersion[] = [
  { prefix: 'CVSS:3.1/', baseMetrics: V3_BASE_METRICS, score: (vector) => new Cvss3P1(vector).calculateScores().base },
  { prefix: 'CVSS:3.0/', baseMetrics: V3_BASE_METRICS, score: (vector) => new Cvss3P0(vector).calculateScores().base },
  { prefix: 'CVSS:4.0/', baseMetrics: V4_BASE_METRICS, score: (vector) => new Cvss4P0(vector).calculateScores().base },
];

/** The CVSS major version a vector declares (`3` or `4`), or undefined for anything else. */
export function cvssMajorVersion(vector: string): 3 | 4 | undefined {
  if (vector.startsWith('CVSS:3.')) return 3;
  if (vector.startsWith('CVSS:4.')) return 4;
  return undefined;
}

/**
 * Base score of a CVSS v3.0, v3.1 or v4.0 vector, or why it has none: the vector is of another
 * version, repeats or omits a base metric, or names an unknown metric or value.
 *
 * @example scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') // { baseScore: 9.8 }
 */
export function scoreCvssVector(vector: string): { baseScore: number } | { problem: string } {
  const version = VERSIONS.find((candidate) => vector.startsWith(candidate.prefix));
  if (!version) return { problem: `unsupported CVSS vector ${JSON.stringify(vector)}: expected CVSS:3.0, CVSS:3.1 or CVSS:4.0` };
  const malformed = (reason: string) => ({ problem: `malformed CVSS vector ${JSON.stringify(vector)}: ${reason}` });
  const seen = new Set<string>();
  for (const part of vector.slice(version.prefix.length).split('/')) {
    const match = /^([A-Za-z]+):([A-Za-z])$/.exec(part);
    if (!match) return malformed(`${JSON.stringify(part)} is not a METRIC:VALUE pair`);
    if (seen.has(match[1]!)) return malformed(`metric ${match[1]} appears twice`);
    seen.add(match[1]!);
  }
  const missing = version.baseMetrics.filter((metric) => !seen.has(metric));
  if (missing.length > 0) return malformed(`missing base metric(s) ${missing.join(', ')}`);
  let score: number | undefined;
  try {
    score = version.score(vector);
  } catch (error) {
    return malformed((error as Error).message);
  }
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 10) return malformed('no base score');
  return { baseScore: score };
}

/**
 * Like `scoreCvssVector`, throwing an `InputError` at `where` when the vector cannot be scored.
 *
 * @example cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') // 9.8
 */
export function cvssBaseScore(vector: string, where: InputLocation = {}): number {
  const result = scoreCvssVector(vector);
  if ('problem' in result) throw new InputError(result.problem, where);
  return result.baseScore;
}

/**
 * The qualitative band of a CVSS v3/v4 base score (0 none, 0.1–3.9 low, 4–6.9 medium, 7–8.9 high, 9–10 critical).
 *
 * @example severityOfScore(7.5) // 'high'
 */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}
