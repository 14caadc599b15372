/**
 * An explainable risk score (0–100) per finding: severity sets the base, known exploitation
 * (KEV), exploit probability (EPSS), exposure and the business criticality the policy gives the
 * host's bucket move it. The explanation lists every term so a
 * person can see why one finding outranks another.
 */
import type { Severity } from '../types.js';

export interface RiskSignals {
  severity: Severity;
  /** Highest CVSS base score among the advisory's vectors. */
  cvssScore?: number;
  /** In CISA's Known Exploited Vulnerabilities catalogue. */
  knownExploited: boolean;
  /** FIRST EPSS probability of exploitation in the next 30 days (0–1). */
  epss?: number;
  /** The host is reachable from the internet (label `internet-facing=true`). */
  internetFacing?: boolean;
  /** The business criticality of the host's bucket, from the policy. */
  criticality?: Criticality;
}

export type Criticality = 'low' | 'medium' | 'high' | 'critical';

/** What a bucket's criticality adds: a critical database outranks a batch worker with the same CVE. */
const CRITICALITY_TERM: Record<Criticality, number> = { low: -5, medium: 0, high: 5, critical: 10 };

export interface RiskScore {
  score: number;
  explanation: string[];
}

const SEVERITY_BASE: Record<Severity, number> = { critical: 70, high: 50, medium: 30, low: 10, none: 0, unknown: 30 };

/**
 * @example riskScore({ severity: 'high', knownExploited: true, epss: 0.42 })
 *   // { score: 86, explanation: ['high severity: 50', 'known exploited (KEV): +25', 'EPSS 0.42: +11'] }
 */
export function riskScore(signals: RiskSignals): RiskScore {
  const explanation: string[] = [];
  const base = signals.cvssScore !== undefined ? Math.round(signals.cvssScore * 7) : SEVERITY_BASE[signals.severity];
  explanation.push(signals.cvssScore !== undefined ? `CVSS ${signals.cvssScore.toFixed(1)}: ${base}` : `${signals.severity} severity: ${base}`);
  let score = base;
  if (signals.knownExploited) {
    score += 25;
    explanation.push('known exploited (KEV): +25');
  }
  if (signals.epss !== undefined && signals.epss >= 0.01) {
    const bonus = Math.round(signals.epss * 25);
    if (bonus > 0) {
      score += bonus;
      explanation.push(`EPSS ${signals.epss.toFixed(2)}: +${bonus}`);
    }
  }
  if (signals.internetFacing) {
    score += 10;
    explanation.push('internet-facing: +10');
  }
  if (signals.criticality !== undefined && CRITICALITY_TERM[signals.criticality] !== 0) {
    const term = CRITICALITY_TERM[signals.criticality];
    score += term;
    explanation.push(`${signals.criticality} criticality bucket: ${term > 0 ? '+' : ''}${term}`);
  }
  return { score: Math.max(0, Math.min(100, score)), explanation };
}
