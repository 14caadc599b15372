import { describe, expect, it } from 'vitest';
import { InputError } from '../../domain/errors.js';
import { rolloutEngineFromEnvironment } from './server.js';

describe('the rollout engine settings from the environment', () => {
  it('reads the lease in seconds and the pass interval in milliseconds', () => {
    expect(rolloutEngineFromEnvironment({})).toEqual({});
    expect(rolloutEngineFromEnvironment({ FLEETPATCH_ROLLOUT_LEASE_SECONDS: '1.5' })).toEqual({ rolloutEngine: { leaseMs: 1500 } });
    expect(rolloutEngineFromEnvironment({ FLEETPATCH_ROLLOUT_LEASE_SECONDS: ' 3 ', FLEETPATCH_ROLLOUT_PASS_MS: '200' })).toEqual({ rolloutEngine: { leaseMs: 3000, passIntervalMs: 200 } });
    expect(rolloutEngineFromEnvironment({ FLEETPATCH_ROLLOUT_PASS_MS: '' })).toEqual({});
  });

  it('refuses what is not a number in range, naming the variable', () => {
    for (const env of [{ FLEETPATCH_ROLLOUT_LEASE_SECONDS: 'soon' }, { FLEETPATCH_ROLLOUT_LEASE_SECONDS: '0' }, { FLEETPATCH_ROLLOUT_PASS_MS: '5' }, { FLEETPATCH_ROLLOUT_PASS_MS: 'Infinity' }]) {
      expect(() => rolloutEngineFromEnvironment(env)).toThrow(InputError);
      expect(() => rolloutEngineFromEnvironment(env)).toThrow(Object.keys(env)[0]!);
    }
  });
});
