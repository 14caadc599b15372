// Alpine installed database: records, origins, every field letter accepted, malformed records, real databases.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { InputError } from '../errors.js';
import { parseApkInstalled } from './apk-installed.js';

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const INSTALLED = `C:Q1bdcS2/cTmRW7JOJVIEa7nQi7oWU=
P:libcrypto3
V:3.1.2-r0
A:x86_64
S:1710785
I:4288512
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1691420493
c:b0e7e7e5e5d0cd4d1d1bc5c7b5d6b1e4f7ef6c8c
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
r:libcrypto1.1
F:etc
F:etc/ssl
R:openssl.cnf
a:0:0:644
Z:Q1Hh7rHDf2PZRjO/qTvrvQ0LQXhiE=
F:usr/lib
R:libcrypto.so.3
a:0:0:755
Z:Q1c0Yl4pfr0a0zO2+NgHr8fW4BKa0=
M:0:0:755

P:musl
V:1.2.4-r1
A:x86_64
o:musl
`;

describe('parseApkInstalled', () => {
  it('reads name, version, arch and origin, ignoring every other field', () => {
    expect(parseApkInstalled(INSTALLED, 'installed', 'Alpine:v3.18')).toEqual({
      packages: [
        { ecosystem: 'Alpine:v3.18', name: 'libcrypto3', version: '3.1.2-r0', arch: 'x86_64', sourceName: 'openssl' },
        { ecosystem: 'Alpine:v3.18', name: 'musl', version: '1.2.4-r1', arch: 'x86_64', sourceName: 'musl' },
      ],
      skipped: 0,
      warnings: [],
    });
  });

  it('names the record line and field when V is missing', () => {
    const text = 'P:musl\nV:1.2.4-r1\n\nP:busybox\nA:x86_64\n';
    expect(() => parseApkInstalled(text, 'installed', 'Alpine:v3.18')).toThrowError('installed, line 4, field V: package busybox has no version');
  });

  it('names the record line and field when P is missing', () => {
    expect(errorOf(() => parseApkInstalled('C:Q1abc=\nV:1.0-r0\n', 'installed', 'Alpine:v3.18')).location).toEqual({ file: 'installed', line: 1, field: 'P' });
  });

  it('names the line that is not X:value', () => {
    expect(errorOf(() => parseApkInstalled('P:musl\nV:1.2.4-r1\nnot a field\n', 'installed', 'Alpine:v3.18')).location).toEqual({ file: 'installed', line: 3 });
  });
});

describe('real apk databases', () => {
  it.each([
    ['alpine-3.10.4-apk-installed', 'Alpine:v3.10', 14],
    ['alpine-3.11.5-apk-installed', 'Alpine:v3.11', 14],
    ['alpine-3.18-apk-installed', 'Alpine:v3.18', 15],
  ])('%s: every P: record, with origins', (file, ecosystem, expected) => {
    const text = readFileSync(sharedData(`inventories/${file}`), 'utf8');
    const parsed = parseApkInstalled(text, file, ecosystem);
    expect(parsed.packages).toHaveLength(expected);
    expect(parsed.packages).toHaveLength(text.match(/^P:/gm)!.length);
    expect(parsed.packages.filter((pkg) => pkg.sourceName !== undefined)).toHaveLength(text.match(/^o:/gm)!.length);
    expect(parsed.packages.every((pkg) => pkg.arch === 'x86_64')).toBe(true);
  });

  it.each(['alpine-3.10.4-apk-installed', 'alpine-3.11.5-apk-installed'])('%s: origins differ from names where Alpine splits packages', (file) => {
    const parsed = parseApkInstalled(readFileSync(sharedData(`inventories/${file}`), 'utf8'), file, 'Alpine:v3.11');
    const origin = (name: string) => parsed.packages.find((pkg) => pkg.name === name)?.sourceName;
    expect(origin('libcrypto1.1')).toBe('openssl');
    expect(origin('libssl1.1')).toBe('openssl');
    expect(origin('ssl_client')).toBe('busybox');
    expect(origin('scanelf')).toBe('pax-utils');
  });

  it('alpine 3.18: apk-tools 2.14.0-r0', () => {
    const parsed = parseApkInstalled(readFileSync(sharedData('inventories/alpine-3.18-apk-installed'), 'utf8'), 'installed', 'Alpine:v3.18');
    expect(parsed.packages.find((pkg) => pkg.name === 'apk-tools')?.version).toBe('2.14.0-r0');
  });
});
