// Pipfile.lock: pinned versions without "==", PEP 503 names, unpinned entries counted, the real trivy lockfile.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parsePipfileLock } from './pipfile-lock.js';

describe('parsePipfileLock', () => {
  it('reads default and develop, strips == and normalises names', () => {
    const lock = {
      _meta: { hash: { sha256: 'ab12' }, 'pipfile-spec': 6, requires: { python_version: '3.11' }, sources: [{ name: 'pypi', url: 'https://pypi.org/simple', verify_ssl: true }] },
      default: {
        Django: { hashes: ['sha256:aa'], index: 'pypi', version: '==4.2.1' },
        'zope.interface': { version: '==6.0' },
        'my-lib': { editable: true, path: '.' },
      },
      develop: { Pytest_Cov: { version: '==4.1.0', markers: "python_version >= '3.7'" } },
    };
    const parsed = parsePipfileLock(JSON.stringify(lock), 'Pipfile.lock');
    expect(parsed.packages).toEqual([
      { ecosystem: 'PyPI', name: 'django', version: '4.2.1' },
      { ecosystem: 'PyPI', name: 'zope-interface', version: '6.0' },
      { ecosystem: 'PyPI', name: 'pytest-cov', version: '4.1.0' },
    ]);
    expect(parsed.skipped).toBe(1);
    expect(parsed.warnings).toEqual(['1 entr(ies) without a pinned version skipped: my-lib']);
  });

  it('names the JSON path of a malformed entry', () => {
    expect(() => parsePipfileLock(JSON.stringify({ _meta: {}, default: { django: { version: 4 } } }), 'Pipfile.lock')).toThrowError(/^Pipfile\.lock, field default\.django\.version: /);
    expect(() => parsePipfileLock(JSON.stringify({ default: {} }), 'Pipfile.lock')).toThrowError(/^Pipfile\.lock, field _meta: /);
  });

  it('parses the real trivy fixture: 91 pinned packages, the git dependency skipped', () => {
    const text = readFileSync(sharedData('inventories/lang/trivy-ci-test.Pipfile.lock'), 'utf8');
    const parsed = parsePipfileLock(text, 'trivy-ci-test.Pipfile.lock');
    expect(parsed.packages).toHaveLength(text.match(/"version": "==/g)!.length);
    expect(parsed.packages).toHaveLength(91);
    expect(parsed.skipped).toBe(1);
    expect(parsed.warnings[0]).toContain('django-postgres-extra');
    expect(parsed.packages.every((pkg) => /^[a-z0-9-]+$/.test(pkg.name) && !pkg.version.startsWith('='))).toBe(true);
  });
});
