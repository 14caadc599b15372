/**
 * SLA clocks: when a finding is due, from the policy's days per severity counted from the clock
 * start (the host's first sight of the finding, or the advisory's publication), and for known
 * exploited vulnerabilities the earlier of CISA KEV's due date and the policy's KEV days. And
 * whether a finding takes the emergency path.
 */
import type { Policy } from '../policy/policy-schema.js';
import type { PlanFinding } from './plan-types.js';

const DAY_MS = 86_400_000;

/**
 * When a finding is due, in epoch milliseconds (allocation-free: the planner asks for every open
 * finding); undefined when the policy sets no SLA for it.
 *
 * @example slaDueTime(policy, { severity: 'high', firstSeenAt: new Date('2026-12-01T00:00:00Z'), knownExploited: false }) // Date.parse('2026-12-08T00:00:00Z') with high: 7
 */
export function slaDueTime(policy: Pick<Policy, 'slas'>, finding: Pick<PlanFinding, 'severity' | 'firstSeenAt' | 'published' | 'knownExploited' | 'kevDueDate'>): number | undefined {
  const start = (policy.slas.clockStart === 'published' ? (finding.published ?? finding.firstSeenAt) : finding.firstSeenAt).getTime();
  const days = policy.slas.days[finding.severity];
  let due = days === undefined ? Infinity : start + days * DAY_MS;
  if (finding.knownExploited) {
    if (policy.slas.kevDays !== undefined) due = Math.min(due, start + policy.slas.kevDays * DAY_MS);
    if (finding.kevDueDate) due = Math.min(due, finding.kevDueDate.getTime());
  }
  return due === Infinity ? undefined : due;
}

/** Whether the policy's emergency triggers take this finding off the routine cadence. */
export function isEmergency(policy: Pick<Policy, 'emergency'>, finding: Pick<PlanFinding, 'severity' | 'knownExploited' | 'epss' | 'advisoryId'>): boolean {
  const triggers = policy.emergency.triggers;
  if (triggers.severity.includes(finding.severity)) return true;
  if (triggers.knownExploited && finding.knownExploited) return true;
  if (triggers.epssAtLeast !== undefined && finding.epss !== undefined && finding.epss >= triggers.epssAtLeast) return true;
  return triggers.advisories.includes(finding.advisoryId);
}
