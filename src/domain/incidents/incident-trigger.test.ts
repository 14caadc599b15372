import { describe, expect, it } from 'vitest';
import { policySchema, type PolicyInput } from '../policy/policy-schema.js';
import { decideIncidentOpening, matchEmergencyTriggers, type AdvisoryFacts } from './incident-trigger.js';

/** The triggers as the policy file yields them, defaults included. */
const triggersOf = (triggers?: NonNullable<PolicyInput['emergency']>['triggers']) =>
  policySchema.parse({ version: 1, buckets: [{ name: 'web', owner: 'web-team', strategy: { kind: 'in-place' } }], ...(triggers ? { emergency: { triggers } } : {}) }).emergency.triggers;

const advisory = (overrides: Partial<AdvisoryFacts> = {}): AdvisoryFacts => ({ id: 'DSA-5801-1', aliases: ['CVE-2026-1001'], severity: 'medium', knownExploited: false, ...overrides });

describe('matchEmergencyTriggers', () => {
  it('with the default triggers, matches critical severity and a KEV listing, nothing else', () => {
    const defaults = triggersOf();
    expect(matchEmergencyTriggers(advisory({ severity: 'critical' }), defaults)).toEqual([{ trigger: 'severity', reason: 'critical severity' }]);
    expect(matchEmergencyTriggers(advisory({ knownExploited: true }), defaults)).toEqual([{ trigger: 'known-exploited', reason: 'known exploited (CISA KEV)' }]);
    expect(matchEmergencyTriggers(advisory({ severity: 'high', epss: 0.99 }), defaults)).toEqual([]);
  });

  it('names every trigger met, in the policy order', () => {
    const triggers = triggersOf({ severity: ['critical', 'high'], epssAtLeast: 0.5, advisories: ['CVE-2026-1001'] });
    expect(matchEmergencyTriggers(advisory({ severity: 'high', knownExploited: true, epss: 0.62 }), triggers).map((match) => match.trigger)).toEqual(['severity', 'known-exploited', 'epss', 'listed-id']);
  });

  it('takes an EPSS score at the threshold, not below it, and never an unscored advisory', () => {
    const triggers = triggersOf({ severity: [], knownExploited: false, epssAtLeast: 0.5 });
    expect(matchEmergencyTriggers(advisory({ epss: 0.5 }), triggers)).toEqual([{ trigger: 'epss', reason: 'EPSS 0.5 ≥ 0.5' }]);
    expect(matchEmergencyTriggers(advisory({ epss: 0.4999 }), triggers)).toEqual([]);
    expect(matchEmergencyTriggers(advisory({ epss: undefined }), triggers)).toEqual([]);
  });

  it('does not count a KEV listing when the policy turned that trigger off', () => {
    expect(matchEmergencyTriggers(advisory({ knownExploited: true }), triggersOf({ knownExploited: false }))).toEqual([]);
  });

  it('matches a listed id through an alias, ignoring case, and names the id that matched', () => {
    const triggers = triggersOf({ severity: [], knownExploited: false, advisories: ['cve-2026-1001'] });
    expect(matchEmergencyTriggers(advisory(), triggers)).toEqual([{ trigger: 'listed-id', reason: "CVE-2026-1001 is listed in the policy's emergency advisories" }]);
    expect(matchEmergencyTriggers(advisory({ id: 'CVE-2026-1001', aliases: [] }), triggers)).toHaveLength(1);
    expect(matchEmergencyTriggers(advisory({ aliases: ['CVE-2026-10011'] }), triggers)).toEqual([]);
  });
});

describe('decideIncidentOpening', () => {
  const triggers = triggersOf();

  it('opens an incident for a triggering advisory that affects hosts, saying which triggers and how many hosts', () => {
    expect(decideIncidentOpening(advisory({ id: 'CVE-2026-1001', aliases: [], severity: 'critical', knownExploited: true }), triggers, 12)).toEqual({
      opens: true,
      matches: [{ trigger: 'severity', reason: 'critical severity' }, { trigger: 'known-exploited', reason: 'known exploited (CISA KEV)' }],
      reason: 'CVE-2026-1001 affects 12 hosts and meets the emergency triggers: critical severity; known exploited (CISA KEV)',
    });
    expect(decideIncidentOpening(advisory({ severity: 'critical' }), triggers, 1).reason).toBe('DSA-5801-1 affects 1 host and meets the emergency triggers: critical severity');
  });

  it('opens none for a triggering advisory that affects no host, and says so', () => {
    const decision = decideIncidentOpening(advisory({ severity: 'critical' }), triggers, 0);
    expect(decision.opens).toBe(false);
    expect(decision.matches).toHaveLength(1);
    expect(decision.reason).toBe('DSA-5801-1 meets the emergency triggers (critical severity) but affects no host');
  });

  it('opens none for an advisory that meets no trigger, however many hosts it affects', () => {
    expect(decideIncidentOpening(advisory({ severity: 'high' }), triggers, 500)).toEqual({ opens: false, matches: [], reason: 'DSA-5801-1 meets none of the emergency triggers' });
  });
});
