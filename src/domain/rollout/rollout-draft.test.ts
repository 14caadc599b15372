import { describe, expect, it } from 'vitest';
import type { HostPlan } from '../planning/plan-types.js';
import { readPolicy } from '../policy/policy-document.js';
import { draftRollout } from './rollout-draft.js';

/** The stateless bucket of a replace policy, `hosts` of them on the old image. */
function replaceDraft(options: { hosts: number; minHealthy: string; maxInFlight: string }) {
  const reading = readPolicy(`version: 1
windows:
  sunday: { timeZone: UTC, every: week, days: [sunday], start: "02:00", duration: 3h }
buckets:
  - name: stateless
    owner: web
    match: { labels: { role: stateless } }
    strategy: { kind: replace, image: { id: img-2, built: 2026-11-29 }, provisionHook: /opt/provision.sh, retireHook: /opt/retire.sh, minHealthy: "${options.minHealthy}" }
    maxInFlight: "${options.maxInFlight}"
    windows: [sunday]
fallback: { bucket: rest, owner: sre }
`);
  if (!reading.ok) throw new Error(JSON.stringify(reading.problems));
  const names = Array.from({ length: options.hosts }, (_, index) => `web-${index}`);
  const plans: HostPlan[] = names.map((host) => ({ host, bucket: 'stateless', team: 'web', status: 'up-to-date', changes: [], willReboot: false }));
  return draftRollout(reading.policy.buckets[0]!, plans, { staleAfterMs: 3_600_000, canaries: new Set(), labels: new Map(names.map((name) => [name, { role: 'stateless', 'image-id': 'img-1' }])) });
}

describe('a replace rollout\'s draft', () => {
  it('keeps minHealthy hosts out of flight, saying so when it lowers maxInFlight', () => {
    const draft = replaceDraft({ hosts: 10, minHealthy: '80%', maxInFlight: '50%' });
    expect(draft.settings.maxInFlight).toBe(2);
    expect(draft.warnings).toEqual(['minHealthy keeps 8 of the 10 hosts out of flight: at most 2 replaced at a time (maxInFlight 5)']);
  });

  it('leaves a smaller maxInFlight alone, and always lets one host go', () => {
    expect(replaceDraft({ hosts: 10, minHealthy: '50%', maxInFlight: '20%' })).toMatchObject({ settings: { maxInFlight: 2 }, warnings: [] });
    expect(replaceDraft({ hosts: 4, minHealthy: '100%', maxInFlight: '50%' }).settings.maxInFlight).toBe(1);
  });
});
