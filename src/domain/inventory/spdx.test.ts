// SPDX 2.3 JSON SBOMs: purl external references, the OPERATING-SYSTEM package, trivy sourceInfo, validation errors with JSON paths.
import { describe, expect, it } from 'vitest';
import { parseSpdx } from './spdx.js';

/** Shaped like `trivy image --format spdx-json debian:12.4` (trimmed). */
const TRIVY_SPDX = {
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'debian:12.4',
  documentNamespace: 'http://aquasecurity.github.io/trivy/container_image/debian:12.4-6b1d',
  creationInfo: { creators: ['Organization: aquasecurity', 'Tool: trivy-0.49.1'], created: '2024-02-12T09:14:03Z' },
  packages: [
    {
      name: 'debian:12.4',
      SPDXID: 'SPDXRef-ContainerImage-9b5a',
      downloadLocation: 'NONE',
      primaryPackagePurpose: 'CONTAINER',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:oci/debian@sha256%3A6b1d?repository_url=index.docker.io%2Flibrary%2Fdebian' }],
    },
    { name: 'debian', SPDXID: 'SPDXRef-OperatingSystem-1f2e', versionInfo: '12.4', downloadLocation: 'NONE', primaryPackagePurpose: 'OPERATING-SYSTEM' },
    {
      name: 'libuuid1',
      SPDXID: 'SPDXRef-Package-7a1c',
      versionInfo: '2.38.1-5+b1',
      supplier: 'Organization: util-linux packagers <util-linux@packages.debian.org>',
      downloadLocation: 'NONE',
      sourceInfo: 'built package from: util-linux 2.38.1-5',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/libuuid1@2.38.1-5%2Bb1?arch=amd64&distro=debian-12.4' }],
      primaryPackagePurpose: 'LIBRARY',
    },
    {
      name: 'bash',
      SPDXID: 'SPDXRef-Package-3c9d',
      versionInfo: '5.2.15-2+b2',
      downloadLocation: 'NONE',
      externalRefs: [
        { referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: 'cpe:2.3:a:gnu:bash:5.2.15:*:*:*:*:*:*:*' },
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64' },
      ],
    },
    { name: 'README.md', SPDXID: 'SPDXRef-Package-readme', downloadLocation: 'NONE' },
  ],
  relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-ContainerImage-9b5a' }],
};

describe('parseSpdx', () => {
  it('turns purl references into packages; the OS package names the release of distro-less purls', () => {
    const parsed = parseSpdx(JSON.stringify(TRIVY_SPDX), 'sbom.spdx.json');
    expect(parsed.packages).toEqual([
      {
        ecosystem: 'Debian:12',
        name: 'libuuid1',
        version: '2.38.1-5+b1',
        arch: 'amd64',
        sourceName: 'util-linux',
        sourceVersion: '2.38.1-5',
        purl: 'pkg:deb/debian/libuuid1@2.38.1-5%2Bb1?arch=amd64&distro=debian-12.4',
      },
      { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64' },
    ]);
    // The container image (pkg:oci) and the README without a purl.
    expect(parsed.skipped).toBe(2);
  });

  it('names the JSON path of a malformed package', () => {
    const spdx = structuredClone(TRIVY_SPDX) as { packages: Array<Record<string, unknown>> };
    spdx.packages[3]!.externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl' }];
    expect(() => parseSpdx(JSON.stringify(spdx), 'sbom.spdx.json')).toThrowError(/^sbom\.spdx\.json, field packages\[3\]\.externalRefs\[0\]\.referenceLocator: /);
  });

  it('names the purl reference that cannot be read', () => {
    const spdx = structuredClone(TRIVY_SPDX) as { packages: Array<{ externalRefs?: Array<{ referenceLocator: string }> }> };
    spdx.packages[3]!.externalRefs![1]!.referenceLocator = 'pkg:deb';
    expect(() => parseSpdx(JSON.stringify(spdx), 'sbom.spdx.json')).toThrowError(/^sbom\.spdx\.json, field packages\[3\]\.externalRefs\[1\]\.referenceLocator: /);
  });

  it('accepts SPDX 2.3 only', () => {
    expect(() => parseSpdx(JSON.stringify({ ...TRIVY_SPDX, spdxVersion: 'SPDX-2.2' }), 'sbom.spdx.json')).toThrowError(/^sbom\.spdx\.json, field spdxVersion: /);
  });
});
