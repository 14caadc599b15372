/**
 * Whether an advisory opens an incident: it meets one of the policy's emergency triggers
 * (`emergency.triggers`: a severity, a CISA KEV listing, an EPSS score, a listed id) and affects
 * at least one host. Every trigger that matched is named, so the incident says why it exists.
 */
import type { Policy } from '../policy/policy-schema.js';
import type { Severity } from '../types.js';
import { hostCount } from './incident-scope.js';

export type EmergencyTriggers = Policy['emergency']['triggers'];

/** What the decision needs to know about one advisory. */
export interface AdvisoryFacts {
  id: string;
  /** The advisory's aliases and related ids (an erratum's CVEs): a listed CVE id matches through them. */
  aliases: readonly string[];
  severity: Severity;
  /** Listed in CISA's Known Exploited Vulnerabilities catalogue. */
  knownExploited: boolean;
  /** FIRST EPSS probability of exploitation in the next 30 days (0–1), when scored. */
  epss?: number | undefined;
}

export type TriggerKind = 'severity' | 'known-exploited' | 'epss' | 'listed-id';

export interface TriggerMatch {
  trigger: TriggerKind;
  /** In words, e.g. `EPSS 0.62 ≥ 0.5`. */
  reason: string;
}

export interface IncidentTriggerDecision {
  opens: boolean;
  /** Every trigger the advisory meets, in the order the policy lists them. */
  matches: TriggerMatch[];
  /** One sentence: why it opens an incident, or why not. */
  reason: string;
}

/**
 * The triggers an advisory meets. A listed id matches the advisory's id or any alias, ignoring
 * case (policies are hand-written; OSV ids are upper case).
 *
 * @example matchEmergencyTriggers({ id: 'DSA-5801-1', aliases: ['CVE-2026-1001'], severity: 'high', knownExploited: true }, triggers)
 *   // [{ trigger: 'known-exploited', reason: 'known exploited (CISA KEV)' }]
 */
export function matchEmergencyTriggers(advisory: AdvisoryFacts, triggers: EmergencyTriggers): TriggerMatch[] {
  const matches: TriggerMatch[] = [];
  if (triggers.severity.includes(advisory.severity)) matches.push({ trigger: 'severity', reason: `${advisory.severity} severity` });
  if (triggers.knownExploited && advisory.knownExploited) matches.push({ trigger: 'known-exploited', reason: 'known exploited (CISA KEV)' });
  if (triggers.epssAtLeast !== undefined && advisory.epss !== undefined && advisory.epss >= triggers.epssAtLeast) {
    matches.push({ trigger: 'epss', reason: `EPSS ${advisory.epss} ≥ ${triggers.epssAtLeast}` });
  }
  const listed = new Set(triggers.advisories.map((id) => id.toUpperCase()));
  const listedId = [advisory.id, ...advisory.aliases].find((id) => listed.has(id.toUpperCase()));
  if (listedId !== undefined) matches.push({ trigger: 'listed-id', reason: `${listedId} is listed in the policy's emergency advisories` });
  return matches;
}

/**
 * Whether the advisory opens an incident, and why. An advisory that meets a trigger but affects
 * no host opens none: there is nothing to patch, and it is reconsidered when a host is affected.
 *
 * @example decideIncidentOpening({ id: 'CVE-2026-1001', aliases: [], severity: 'critical', knownExploited: true }, triggers, 12)
 *   // { opens: true, matches: [...], reason: 'CVE-2026-1001 affects 12 hosts and meets the emergency triggers: critical severity; known exploited (CISA KEV)' }
 */
export function decideIncidentOpening(advisory: AdvisoryFacts, triggers: EmergencyTriggers, affectedHosts: number): IncidentTriggerDecision {
  const matches = matchEmergencyTriggers(advisory, triggers);
  if (matches.length === 0) return { opens: false, matches, reason: `${advisory.id} meets none of the emergency triggers` };
  const why = matches.map((match) => match.reason).join('; ');
  if (affectedHosts <= 0) return { opens: false, matches, reason: `${advisory.id} meets the emergency triggers (${why}) but affects no host` };
  return { opens: true, matches, reason: `${advisory.id} affects ${hostCount(affectedHosts)} and meets the emergency triggers: ${why}` };
}
