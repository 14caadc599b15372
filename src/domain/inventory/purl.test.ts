// Package URL parsing per the purl specification: split from the right, percent-decoding, normalised type and qualifier keys.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parsePurl } from './purl.js';

describe('parsePurl', () => {
  it.each([
    ['pkg:npm/%40babel/core@7.22.0', { type: 'npm', namespace: '@babel', name: 'core', version: '7.22.0', qualifiers: {} }],
    ['pkg:npm/@babel/core@7.22.0', { type: 'npm', namespace: '@babel', name: 'core', version: '7.22.0', qualifiers: {} }],
    ['pkg:npm/@babel/core', { type: 'npm', namespace: '@babel', name: 'core', qualifiers: {} }],
    ['pkg:golang/github.com/gin-gonic/gin@v1.9.1', { type: 'golang', namespace: 'github.com/gin-gonic', name: 'gin', version: 'v1.9.1', qualifiers: {} }],
    ['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar', { type: 'maven', namespace: 'org.apache.logging.log4j', name: 'log4j-core', version: '2.14.1', qualifiers: { type: 'jar' } }],
    [
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl%403.0.11-1~deb12u2',
      { type: 'deb', namespace: 'debian', name: 'libssl3', version: '3.0.11-1~deb12u2', qualifiers: { arch: 'amd64', distro: 'debian-12', upstream: 'openssl@3.0.11-1~deb12u2' } },
    ],
    ['pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1%2Bb1', { type: 'deb', namespace: 'debian', name: 'login', version: '1:4.13+dfsg1-1+b1', qualifiers: {} }],
    ['PKG:PyPI/Django@4.2.1?Repository_URL=&Extension=whl', { type: 'pypi', name: 'Django', version: '4.2.1', qualifiers: { extension: 'whl' } }],
    ['pkg://gem/rails@7.0.8', { type: 'gem', name: 'rails', version: '7.0.8', qualifiers: {} }],
    ['pkg:golang/google.golang.org/genproto@abcdef#googleapis/api/annotations/', { type: 'golang', namespace: 'google.golang.org', name: 'genproto', version: 'abcdef', qualifiers: {}, subpath: 'googleapis/api/annotations' }],
    ['pkg:generic/name%20with%20spaces@1.0', { type: 'generic', name: 'name with spaces', version: '1.0', qualifiers: {} }],
  ])('%s', (purl, expected) => {
    expect(parsePurl(purl)).toEqual(expected);
  });

  it.each(['npm/lodash@4.17.21', 'pkg:npm', 'pkg:npm/', 'pkg:/lodash', 'pkg:npm/lodash@%E0%A4%A'])('rejects %s and names where it is', (purl) => {
    let error: unknown;
    try {
      parsePurl(purl, { file: 'bom.json', field: 'components[0].purl' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ file: 'bom.json', field: 'components[0].purl' });
  });
});
