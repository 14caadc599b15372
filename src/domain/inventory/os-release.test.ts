// /etc/os-release: shell-style quoting, comments, ID_LIKE lists, malformed lines, the real files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parseOsRelease } from './os-release.js';

describe('parseOsRelease', () => {
  it('unquotes double, single and bare values, honours escapes, skips comments', () => {
    const text = [
      '# Ubuntu 22.04',
      'PRETTY_NAME="Ubuntu 22.04.3 LTS"',
      "NAME='Ubuntu'",
      'VERSION_ID="22.04"',
      'VERSION="22.04.3 LTS (Jammy \\"Jellyfish\\")"',
      'ID=ubuntu',
      'ID_LIKE="debian  gnu"',
      'VERSION_CODENAME=jammy # the code name',
      'CPE_NAME=cpe:/o:canonical:ubuntu_linux:22.04',
      '',
    ].join('\n');
    expect(parseOsRelease(text, 'os-release')).toEqual({
      id: 'ubuntu',
      idLike: ['debian', 'gnu'],
      versionId: '22.04',
      versionCodename: 'jammy',
      prettyName: 'Ubuntu 22.04.3 LTS',
      cpeName: 'cpe:/o:canonical:ubuntu_linux:22.04',
    });
  });

  it('defaults ID to linux as os-release(5) says', () => {
    expect(parseOsRelease('NAME="Some Linux"\n', 'os-release')).toEqual({ id: 'linux', idLike: [] });
  });

  it('names file and line of a line that is not KEY=value, and the field of an unterminated quote', () => {
    expect(() => parseOsRelease('ID=debian\nnot a pair\n', '/etc/os-release')).toThrowError(/^\/etc\/os-release, line 2: expected KEY=value/);
    expect(() => parseOsRelease('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12\n', '/etc/os-release')).toThrowError('/etc/os-release, line 2, field PRETTY_NAME: unterminated " quote');
  });

  it.each([
    ['debian12-node-image/os-release', { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' }],
    ['almalinux-9.2-os-release', { id: 'almalinux', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.2', prettyName: 'AlmaLinux 9.2 (Turquoise Kodkod)', cpeName: 'cpe:/o:almalinux:almalinux:9::baseos' }],
    ['alpine-3.10.4-os-release', { id: 'alpine', idLike: [], versionId: '3.10.4', prettyName: 'Alpine Linux v3.10' }],
    ['alpine-3.11.5-os-release', { id: 'alpine', idLike: [], versionId: '3.11.5', prettyName: 'Alpine Linux v3.11' }],
  ])('parses the real %s', (file, expected) => {
    expect(parseOsRelease(readFileSync(sharedData(`inventories/${file}`), 'utf8'), file)).toEqual(expected);
  });
});
