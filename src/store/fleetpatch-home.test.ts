// Where fleetpatch keeps its embedded database: FLEETPATCH_HOME, else ./.fleetpatch.
import { describe, expect, it } from 'vitest';
import { fleetpatchHome } from './fleetpatch-home.js';

describe('fleetpatchHome', () => {
  it('defaults to .fleetpatch in the working directory', () => {
    expect(fleetpatchHome({}, '/srv/fleet')).toBe('/srv/fleet/.fleetpatch');
    expect(fleetpatchHome({ FLEETPATCH_HOME: '  ' }, '/srv/fleet')).toBe('/srv/fleet/.fleetpatch');
  });

  it('uses FLEETPATCH_HOME, resolved against the working directory', () => {
    expect(fleetpatchHome({ FLEETPATCH_HOME: '/var/lib/fleetpatch' }, '/srv/fleet')).toBe('/var/lib/fleetpatch');
    expect(fleetpatchHome({ FLEETPATCH_HOME: 'state/fp' }, '/srv/fleet')).toBe('/srv/fleet/state/fp');
  });
});
