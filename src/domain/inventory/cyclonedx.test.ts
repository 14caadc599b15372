// CycloneDX JSON SBOMs: nested components, purl ecosystems, operating-system component, trivy source properties, validation errors with JSON paths.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseCycloneDx } from './cyclonedx.js';

/** Shaped like `syft node:20-bookworm -o cyclonedx-json` (trimmed): an application with nested npm dependencies. */
const SYFT_APPLICATION_BOM = {
  $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  version: 1,
  metadata: {
    timestamp: '2024-02-12T09:14:03Z',
    tools: { components: [{ type: 'application', author: 'anchore', name: 'syft', version: '0.104.0' }] },
    component: { 'bom-ref': 'af63bd4c8601b7f1', type: 'container', name: 'registry.example.com/shop/api', version: 'sha256:0b8f' },
  },
  components: [
    {
      'bom-ref': 'pkg:npm/express@4.18.2?package-id=5c4d',
      type: 'library',
      name: 'express',
      version: '4.18.2',
      licenses: [{ license: { id: 'MIT' } }],
      cpe: 'cpe:2.3:a:express:express:4.18.2:*:*:*:*:*:*:*',
      purl: 'pkg:npm/express@4.18.2',
      properties: [{ name: 'syft:package:foundBy', value: 'javascript-package-cataloger' }],
      components: [
        { type: 'library', name: 'body-parser', version: '1.20.1', purl: 'pkg:npm/body-parser@1.20.1' },
        { type: 'library', name: '@types/node', version: '20.11.17', purl: 'pkg:npm/%40types/node@20.11.17', components: [{ type: 'library', name: 'undici-types', version: '5.26.5', purl: 'pkg:npm/undici-types@5.26.5' }] },
      ],
    },
    { type: 'library', name: 'PyYAML', version: '6.0.1', purl: 'pkg:pypi/PyYAML@6.0.1' },
    { type: 'file', name: '/usr/local/bin/node', hashes: [{ alg: 'SHA-256', content: 'ab12' }] },
    { type: 'library', name: 'actions/checkout', version: 'v4', purl: 'pkg:github/actions/checkout@v4' },
    {
      type: 'library',
      name: 'libuuid1',
      version: '2.38.1-5+b1',
      purl: 'pkg:deb/debian/libuuid1@2.38.1-5%2Bb1?arch=amd64&upstream=util-linux%402.38.1-5&distro=debian-12',
    },
  ],
};

/** Shaped like `trivy image --format cyclonedx alpine:3.18.4` (trimmed): the OS as a component, source packages as properties. */
const TRIVY_IMAGE_BOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  metadata: { component: { type: 'container', name: 'alpine:3.18.4', purl: 'pkg:oci/alpine@sha256%3A48d9?repository_url=index.docker.io%2Flibrary%2Falpine' } },
  components: [
    {
      'bom-ref': 'pkg:apk/alpine/libcrypto3@3.1.2-r0?arch=x86_64&distro=3.18.4',
      type: 'library',
      name: 'libcrypto3',
      version: '3.1.2-r0',
      purl: 'pkg:apk/alpine/libcrypto3@3.1.2-r0?arch=x86_64&distro=3.18.4',
      properties: [
        { name: 'aquasecurity:trivy:PkgType', value: 'alpine' },
        { name: 'aquasecurity:trivy:SrcName', value: 'openssl' },
        { name: 'aquasecurity:trivy:SrcVersion', value: '3.1.2-r0' },
      ],
    },
    { type: 'library', name: 'musl', version: '1.2.4-r1', purl: 'pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64' },
    { 'bom-ref': '3a1e', type: 'operating-system', name: 'alpine', version: '3.18.4', properties: [{ name: 'aquasecurity:trivy:Type', value: 'alpine' }] },
  ],
};

describe('parseCycloneDx', () => {
  it('walks nested components, maps purls to OSV ecosystems and counts what it skips', () => {
    const parsed = parseCycloneDx(JSON.stringify(SYFT_APPLICATION_BOM), 'bom.json');
    expect(parsed.packages.map((pkg) => [pkg.ecosystem, pkg.name, pkg.version, pkg.sourceName, pkg.sourceVersion])).toEqual([
      ['npm', 'express', '4.18.2', undefined, undefined],
      ['npm', 'body-parser', '1.20.1', undefined, undefined],
      ['npm', '@types/node', '20.11.17', undefined, undefined],
      ['npm', 'undici-types', '5.26.5', undefined, undefined],
      ['PyPI', 'pyyaml', '6.0.1', undefined, undefined],
      ['Debian:12', 'libuuid1', '2.38.1-5+b1', 'util-linux', '2.38.1-5'],
    ]);
    expect(parsed.skipped).toBe(2);
    expect(parsed.warnings).toEqual([
      '1 component(s) skipped: they have no purl',
      '1 component(s) skipped: they have a purl type with no OSV ecosystem',
    ]);
  });

  it('takes the release of distro-less OS purls from the operating-system component', () => {
    const parsed = parseCycloneDx(JSON.stringify(TRIVY_IMAGE_BOM), 'trivy.cdx.json');
    expect(parsed.packages.map((pkg) => [pkg.ecosystem, pkg.name, pkg.sourceName])).toEqual([
      ['Alpine:v3.18', 'libcrypto3', 'openssl'],
      ['Alpine:v3.18', 'musl', undefined],
    ]);
    expect(parsed.skipped).toBe(0);
  });

  it('skips distro-less OS purls, with a warning, when nothing names the release', () => {
    const bom = { ...TRIVY_IMAGE_BOM, components: TRIVY_IMAGE_BOM.components.slice(1, 2) };
    const parsed = parseCycloneDx(JSON.stringify(bom), 'bom.json');
    expect(parsed.packages).toEqual([]);
    expect(parsed.skipped).toBe(1);
    expect(parsed.warnings[0]).toContain('distribution is unknown');
    expect(parseCycloneDx(JSON.stringify(bom), 'bom.json', 'Alpine:v3.18').packages.map((pkg) => pkg.ecosystem)).toEqual(['Alpine:v3.18']);
  });

  it('names the JSON path of a component of the wrong shape', () => {
    const bom = structuredClone(SYFT_APPLICATION_BOM) as { components: Array<{ components?: Array<Record<string, unknown>> }> };
    bom.components[0]!.components![1]!.purl = 42;
    let error: unknown;
    try {
      parseCycloneDx(JSON.stringify(bom), 'bom.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).location).toEqual({ file: 'bom.json', field: 'components[0].components[1].purl' });
  });

  it('names the purl field of an unreadable purl', () => {
    const bom = { bomFormat: 'CycloneDX', specVersion: '1.4', components: [{ type: 'library', name: 'a', purl: 'npm/a@1.0.0' }] };
    expect(() => parseCycloneDx(JSON.stringify(bom), 'bom.json')).toThrowError(/^bom\.json, field components\[0\]\.purl: no "pkg:" scheme/);
  });

  it('rejects other formats and spec versions by field', () => {
    expect(() => parseCycloneDx(JSON.stringify({ ...SYFT_APPLICATION_BOM, specVersion: '1.3' }), 'bom.json')).toThrowError(/^bom\.json, field specVersion: /);
    expect(() => parseCycloneDx(JSON.stringify({ ...SYFT_APPLICATION_BOM, bomFormat: 'SPDX' }), 'bom.json')).toThrowError(/^bom\.json, field bomFormat: /);
  });

  it('names the line of a JSON syntax error', () => {
    expect(() => parseCycloneDx('{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.5",\n}\n', 'bom.json')).toThrowError(/^bom\.json, line 4: not valid JSON/);
  });
});
