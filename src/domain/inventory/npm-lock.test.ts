// package-lock.json v1/v2/v3: nested installs, scoped names, aliases, workspaces and non-registry versions, the real trivy lockfile.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parseNpmLock } from './npm-lock.js';

const V3_LOCK = {
  name: 'shop-api',
  version: '1.4.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'shop-api', version: '1.4.0', workspaces: ['packages/*'], dependencies: { express: '^4.18.2' } },
    'node_modules/express': { version: '4.18.2', resolved: 'https://registry.npmjs.org/express/-/express-4.18.2.tgz', integrity: 'sha512-5/PsL6iGPdfQ' },
    'node_modules/express/node_modules/debug': { version: '2.6.9', resolved: 'https://registry.npmjs.org/debug/-/debug-2.6.9.tgz' },
    'node_modules/debug': { version: '4.3.4' },
    'node_modules/@babel/core': { version: '7.22.0', dev: true },
    'node_modules/lodash-es-alias': { name: 'lodash-es', version: '4.17.21' },
    'node_modules/mocha/node_modules/debug': { version: '4.3.4' },
    'node_modules/@shop/models': { resolved: 'packages/models', link: true },
    'packages/models': { name: '@shop/models', version: '0.0.1' },
    'node_modules/left-pad': { version: 'git+ssh://git@github.com/example/left-pad.git#5f2c1e0' },
  },
};

describe('parseNpmLock', () => {
  it('v2/v3: every node_modules path, each name@version once, aliases under their real name', () => {
    const parsed = parseNpmLock(JSON.stringify(V3_LOCK), 'package-lock.json');
    expect(parsed.packages).toEqual([
      { ecosystem: 'npm', name: 'express', version: '4.18.2' },
      { ecosystem: 'npm', name: 'debug', version: '2.6.9' },
      { ecosystem: 'npm', name: 'debug', version: '4.3.4' },
      { ecosystem: 'npm', name: '@babel/core', version: '7.22.0' },
      { ecosystem: 'npm', name: 'lodash-es', version: '4.17.21' },
    ]);
    // The workspace link, the workspace folder, the git dependency.
    expect(parsed.skipped).toBe(3);
    expect(parsed.warnings).toHaveLength(1);
  });

  it('v1: nested dependencies and npm: aliases', () => {
    const lock = {
      lockfileVersion: 1,
      dependencies: {
        express: { version: '4.17.1', dependencies: { debug: { version: '2.6.9' } } },
        'string-width-cjs': { version: 'npm:string-width@4.2.3' },
        local: { version: 'file:../local' },
      },
    };
    const parsed = parseNpmLock(JSON.stringify(lock), 'package-lock.json');
    expect(parsed.packages.map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual(['express@4.17.1', 'debug@2.6.9', 'string-width@4.2.3']);
    expect(parsed.skipped).toBe(1);
  });

  it('names the JSON path of a malformed entry', () => {
    const lock = { lockfileVersion: 3, packages: { '': {}, 'node_modules/ms': { version: 2 } } };
    expect(() => parseNpmLock(JSON.stringify(lock), 'package-lock.json')).toThrowError(/^package-lock\.json, field packages\.node_modules\/ms\.version: /);
    expect(() => parseNpmLock('{"packages": {}}', 'package-lock.json')).toThrowError(/^package-lock\.json, field lockfileVersion: /);
  });

  it('parses the real trivy fixture (lockfile v1): every distinct name@version of the dependency tree', () => {
    const text = readFileSync(sharedData('inventories/lang/trivy-npm.package-lock.json'), 'utf8');
    const parsed = parseNpmLock(text, 'trivy-npm.package-lock.json');
    // Independent count: every "version" line except the project's own.
    expect(parsed.packages).toHaveLength(text.match(/^\s+"version": "/gm)!.length - 1);
    expect(parsed.packages).toHaveLength(13);
    expect(parsed.packages.find((pkg) => pkg.name === 'jquery')).toEqual({ ecosystem: 'npm', name: 'jquery', version: '3.3.9' });
    expect(parsed.skipped).toBe(0);
  });
});
