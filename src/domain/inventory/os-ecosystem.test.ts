// OSV ecosystem of a host's OS packages, spelled as OSV spells it.
import { describe, expect, it } from 'vitest';
import type { OsRelease } from '../types.js';
import { osReleaseFromDistro, osvEcosystemFor } from './os-ecosystem.js';

const os = (id: string, versionId?: string, extra: Partial<OsRelease> = {}): OsRelease => ({ id, idLike: [], ...(versionId === undefined ? {} : { versionId }), ...extra });

describe('osvEcosystemFor', () => {
  it.each([
    [os('debian', '12'), 'Debian:12'],
    [os('debian', '11'), 'Debian:11'],
    [os('debian', undefined, { versionCodename: 'trixie', prettyName: 'Debian GNU/Linux trixie/sid' }), undefined],
    [os('ubuntu', '22.04'), 'Ubuntu:22.04:LTS'],
    [os('ubuntu', '18.04'), 'Ubuntu:18.04:LTS'],
    [os('ubuntu', '24.04'), 'Ubuntu:24.04:LTS'],
    [os('ubuntu', '23.04'), 'Ubuntu:23.04'],
    [os('ubuntu', '22.10'), 'Ubuntu:22.10'],
    [os('alpine', '3.18.4'), 'Alpine:v3.18'],
    [os('alpine', '3.10.4'), 'Alpine:v3.10'],
    [os('alpine', '3.19.0_alpha20231219'), undefined],
    [os('almalinux', '9.2'), 'AlmaLinux:9'],
    [os('almalinux', '8.9'), 'AlmaLinux:8'],
    [os('rocky', '9.3'), 'Rocky Linux:9'],
    [os('rhel', '9.2', { cpeName: 'cpe:/o:redhat:enterprise_linux:9::baseos' }), 'Red Hat:enterprise_linux:9'],
    [os('rhel', '7.9', { cpeName: 'cpe:/o:redhat:enterprise_linux:7.9:GA:server' }), 'Red Hat:enterprise_linux:7'],
    [os('rhel', '8.8'), 'Red Hat:enterprise_linux:8'],
    [os('opensuse-leap', '15.5'), 'openSUSE:Leap 15.5'],
    [os('opensuse-tumbleweed', '20240210'), 'openSUSE:Tumbleweed'],
    [os('sles', '15.5'), 'SUSE:Linux Enterprise Server 15 SP5'],
    [os('sles', '15'), 'SUSE:Linux Enterprise Server 15'],
    [os('linuxmint', '21.2', { idLike: ['ubuntu', 'debian'] }), undefined],
    [os('debian', 'bookworm'), undefined],
  ])('%o → %s', (release, expected) => {
    expect(osvEcosystemFor(release)).toBe(expected);
  });
});

describe('osReleaseFromDistro', () => {
  it('reads a --distro flag, undefined when it cannot', () => {
    expect(osReleaseFromDistro('debian:12')).toEqual({ id: 'debian', idLike: [], versionId: '12' });
    expect(osReleaseFromDistro('debian')).toBeUndefined();
  });
});
