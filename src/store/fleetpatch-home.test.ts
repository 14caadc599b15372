// Where fleetpatch keeps its embedded database: FLEETPATCH_HOME, else ./.fleetpatch, a private directory.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePrivateHome, fleetpatchHome } from './fleetpatch-home.js';

const scratch: string[] = [];
afterEach(() => {
  for (const directory of scratch.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

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

describe('ensurePrivateHome', () => {
  it('creates the home 0700 (0711 as root, for the postgres user to pass through) and its parents as usual', () => {
    const base = mkdtempSync(join(tmpdir(), 'fleetpatch-home-test-'));
    scratch.push(base);
    const previousUmask = process.umask(0o022);
    try {
      ensurePrivateHome(join(base, 'state', 'fleetpatch'), 1000);
      ensurePrivateHome(join(base, 'root-home'), 0);
    } finally {
      process.umask(previousUmask);
    }
    expect(modeOf(join(base, 'state'))).toBe(0o755);
    expect(modeOf(join(base, 'state', 'fleetpatch'))).toBe(0o700);
    expect(modeOf(join(base, 'root-home'))).toBe(0o711);
  });

  it('tightens a home that older versions left open (0755)', () => {
    const base = mkdtempSync(join(tmpdir(), 'fleetpatch-home-test-'));
    scratch.push(base);
    const home = join(base, 'home');
    mkdirSync(home);
    chmodSync(home, 0o755);
    ensurePrivateHome(home, 1000);
    expect(modeOf(home)).toBe(0o700);
  });
});
