// When a fix was installed, as the check-ins show it: a finding gets installed_at at the check-in
// that first shows the fix on disk (pending reboot) and keeps it through the reboot that makes it
// live (resolved_at); a fix live at once is installed when it is resolved; vulnerable again clears it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { ControlPlane } from '../src/app/control-plane.js';
import { DetectionService } from '../src/app/detection-service.js';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { LABEL_OWNERSHIP } from '../src/domain/policy/ownership.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { packageListDigest, type CheckIn } from '../src/protocol/agent-protocol.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const T0 = new Date('2026-11-02T08:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

const libuuid = (version: string): InstalledPackage => ({ ecosystem: 'Debian:12', name: 'libuuid1', version, arch: 'amd64', sourceName: 'util-linux' });
const kernel = (release: string, version: string): InstalledPackage => ({ ecosystem: 'Debian:12', name: `linux-image-${release}`, version, arch: 'amd64', sourceName: 'linux-signed-amd64', sourceVersion: version.replace('-', '+') });
const OLD_KERNEL = kernel('6.1.0-17-amd64', '6.1.69-1');
const NEW_KERNEL = kernel('6.1.0-18-amd64', '6.1.76-1');

function checkIn(packages: InstalledPackage[], options: { rebootRequired?: boolean; runningKernel?: string } = {}): CheckIn {
  return {
    kind: 'full', rebootRequired: options.rebootRequired ?? false, osEcosystem: 'Debian:12', packageDigest: packageListDigest(packages), packages, labels: {},
    ...(options.runningKernel ? { runningKernel: options.runningKernel } : {}),
  } as CheckIn;
}

interface FindingTimes { state: string; first_seen_at: Date; installed_at: Date | null; resolved_at: Date | null }

describe('installed_at of findings', () => {
  let database: TestDatabase;
  let plane: ControlPlane;

  async function times(host: string, packageName: string): Promise<FindingTimes> {
    const result = await database.pool.query<FindingTimes>(
      `SELECT f.state, f.first_seen_at, f.installed_at, f.resolved_at FROM findings f JOIN hosts h ON h.key = f.host_key WHERE h.name = $1 AND f.package_name = $2`,
      [host, packageName],
    );
    expect(result.rows).toHaveLength(1);
    return result.rows[0]!;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const detection = new DetectionService();
    const advisories = DEBIAN_ADVISORIES.map((record) => advisoryFromOsv({ schema_version: '1.6.0', ...record } as never, { file: `${record.id}.json` }));
    await importAdvisories(database.pool, detection, new MemoryFeed('installed-at', advisories));
    plane = new ControlPlane(database.pool, detection, { ownership: LABEL_OWNERSHIP, staleAfterSeconds: 3600 });
  });
  afterAll(async () => database?.drop());

  it('a fix waiting for a reboot is installed at that check-in and keeps it through the reboot', async () => {
    await plane.checkIn('web-1', checkIn([libuuid('2.38.1-5+deb12u3')]), T0);
    expect(await times('web-1', 'libuuid1')).toMatchObject({ state: 'vulnerable', installed_at: null });

    await plane.checkIn('web-1', checkIn([libuuid('2.38.1-5+deb12u4')], { rebootRequired: true }), at(1));
    expect(await times('web-1', 'libuuid1')).toMatchObject({ state: 'pending-reboot', first_seen_at: T0, installed_at: at(1), resolved_at: null });

    // Another write to the host while it still waits leaves the time alone.
    await plane.checkIn('web-1', checkIn([libuuid('2.38.1-5+deb12u4'), NEW_KERNEL], { rebootRequired: true }), at(2));
    expect(await times('web-1', 'libuuid1')).toMatchObject({ state: 'pending-reboot', installed_at: at(1) });

    await plane.checkIn('web-1', checkIn([libuuid('2.38.1-5+deb12u4'), NEW_KERNEL]), at(3));
    expect(await times('web-1', 'libuuid1')).toMatchObject({ state: 'fixed', first_seen_at: T0, installed_at: at(1), resolved_at: at(3) });
  });

  it('a fix live at once is installed when it is resolved, and vulnerable again clears it', async () => {
    await plane.checkIn('web-2', checkIn([libuuid('2.38.1-5+deb12u3')]), T0);
    await plane.checkIn('web-2', checkIn([libuuid('2.38.1-5+deb12u4')]), at(5));
    expect(await times('web-2', 'libuuid1')).toMatchObject({ state: 'fixed', installed_at: at(5), resolved_at: at(5) });

    // A downgrade opens a new exposure window with nothing installed yet.
    await plane.checkIn('web-2', checkIn([libuuid('2.38.1-5+deb12u3')]), at(6));
    expect(await times('web-2', 'libuuid1')).toMatchObject({ state: 'vulnerable', first_seen_at: at(6), installed_at: null, resolved_at: null });
  });

  it('a fixed kernel on disk is installed before the reboot, and keeps it when the old kernel is left idle', async () => {
    const running = '6.1.0-17-amd64';
    await plane.checkIn('db-1', checkIn([OLD_KERNEL], { runningKernel: running }), T0);
    expect(await times('db-1', OLD_KERNEL.name)).toMatchObject({ state: 'vulnerable', installed_at: null });

    await plane.checkIn('db-1', checkIn([OLD_KERNEL, NEW_KERNEL], { runningKernel: running }), at(2));
    expect(await times('db-1', OLD_KERNEL.name)).toMatchObject({ state: 'pending-reboot', installed_at: at(2) });

    await plane.checkIn('db-1', checkIn([OLD_KERNEL, NEW_KERNEL], { runningKernel: '6.1.0-18-amd64' }), at(4));
    expect(await times('db-1', OLD_KERNEL.name)).toMatchObject({ state: 'not-applicable', installed_at: at(2) });
  });

  it('a new host whose fix already waits for a reboot is installed when first seen', async () => {
    await plane.checkIn('db-2', checkIn([OLD_KERNEL, NEW_KERNEL], { runningKernel: '6.1.0-17-amd64' }), T0);
    expect(await times('db-2', OLD_KERNEL.name)).toMatchObject({ state: 'pending-reboot', first_seen_at: T0, installed_at: T0 });
  });
});
