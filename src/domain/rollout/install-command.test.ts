// The package managers' command lines for an exact install (dnf and apk are not installed here, so
// their lines are what can be checked), and the reading of an apt simulation.
import { describe, expect, it } from 'vitest';
import { aptSimulationChanges, installCommandLine } from './install-command.js';

const TARGETS = [{ name: 'openssl', version: '1:3.0.7-28.el9_4' }, { name: 'curl', version: '7.76.1-29.el9_4' }];

describe('installCommandLine', () => {
  it('installs exact versions with dnf, in the live system or an install root', () => {
    expect(installCommandLine('rpm', '/', TARGETS, {})).toEqual({ command: 'dnf', args: ['install', '-y', '--setopt=install_weak_deps=False', 'openssl-1:3.0.7-28.el9_4', 'curl-7.76.1-29.el9_4'] });
    expect(installCommandLine('rpm', '/mnt/image', TARGETS, {}).args).toContain('--installroot=/mnt/image');
  });

  it('pins exact versions with apk', () => {
    expect(installCommandLine('apk', '/', [{ name: 'musl', version: '1.2.4-r2' }], {})).toEqual({ command: 'apk', args: ['add', 'musl=1.2.4-r2'] });
    expect(installCommandLine('apk', '/srv/root', [{ name: 'musl', version: '1.2.4-r2' }], {})).toEqual({ command: 'apk', args: ['add', '--root', '/srv/root', 'musl=1.2.4-r2'] });
  });

  it('installs name=version with apt-get, downgrades allowed, and reaches a directory root through its own configuration', () => {
    const live = installCommandLine('dpkg-status', '/', [{ name: 'libuuid1', version: '2.38.1-5+deb12u4' }], {});
    expect(live.command).toBe('apt-get');
    expect(live.args).toEqual(expect.arrayContaining(['--allow-downgrades', '--no-install-recommends', 'APT::Get::Upgrade-Allow-New=false']));
    expect(live.args.slice(-2)).toEqual(['install', 'libuuid1=2.38.1-5+deb12u4']);
    expect(live.args).not.toContain('upgrade');
    expect(live.env).toBeUndefined();
    const rooted = installCommandLine('dpkg-status', '/srv/host', [{ name: 'libuuid1', version: '2.38.1-5+deb12u4' }], { simulate: true, aptConfig: '/state/apt-root.conf' });
    expect(rooted.env).toEqual({ APT_CONFIG: '/state/apt-root.conf' });
    expect(rooted.args).toEqual(expect.arrayContaining(['DPkg::Options::=--root=/srv/host', 'Dir::State::status=/srv/host/var/lib/dpkg/status', '--simulate']));
  });

  it('has no command for a database no package manager here drives', () => {
    expect(() => installCommandLine('npm-lock', '/', TARGETS, {})).toThrow(/no package manager/);
  });
});

describe('aptSimulationChanges', () => {
  it('names every package the transaction installs, changes or removes, without the architecture', () => {
    const output = [
      'Reading package lists...',
      'Inst fp-demo-lib [1.0-1] (1.1-1 localhost [all])',
      'Inst libc6:i386 [2.36-9] (2.36-9+deb12u4 Debian:12 [i386])',
      'Remv old-tool [0.9-1]',
      'Conf fp-demo-lib (1.1-1 localhost [all])',
    ].join('\n');
    expect(aptSimulationChanges(output)).toEqual(['fp-demo-lib', 'libc6', 'old-tool']);
  });
});
