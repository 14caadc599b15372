// purl → installed package: OSV ecosystem and name spelling per type, distro qualifiers, epochs, upstream source packages.
import { describe, expect, it } from 'vitest';
import { packageFromPurl } from './package-from-purl.js';
import { parsePurl } from './purl.js';

const convert = (purl: string, context = {}) => packageFromPurl(parsePurl(purl), purl, context);
const identity = (purl: string, context = {}) => {
  const outcome = convert(purl, context);
  if (!('package' in outcome)) throw new Error(`skipped: ${outcome.skipped}`);
  const { ecosystem, name, version, sourceName, sourceVersion } = outcome.package;
  return { ecosystem, name, version, sourceName, sourceVersion };
};

describe('packageFromPurl: language ecosystems', () => {
  it.each([
    ['pkg:npm/%40babel/core@7.22.0', 'npm', '@babel/core', '7.22.0'],
    ['pkg:npm/lodash@4.17.21', 'npm', 'lodash', '4.17.21'],
    ['pkg:pypi/Django_REST.framework@3.14.0', 'PyPI', 'django-rest-framework', '3.14.0'],
    ['pkg:golang/github.com/gin-gonic/gin@v1.9.1', 'Go', 'github.com/gin-gonic/gin', '1.9.1'],
    ['pkg:golang/golang.org/x/net@v0.0.0-20211111083644-e5c967477495', 'Go', 'golang.org/x/net', '0.0.0-20211111083644-e5c967477495'],
    ['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1', 'Maven', 'org.apache.logging.log4j:log4j-core', '2.14.1'],
    ['pkg:gem/rails@7.0.8', 'RubyGems', 'rails', '7.0.8'],
    ['pkg:cargo/tokio@1.32.0', 'crates.io', 'tokio', '1.32.0'],
    ['pkg:nuget/Newtonsoft.Json@13.0.1', 'NuGet', 'Newtonsoft.Json', '13.0.1'],
    ['pkg:composer/symfony/http-kernel@6.3.4', 'Packagist', 'symfony/http-kernel', '6.3.4'],
  ])('%s → %s %s %s', (purl, ecosystem, name, version) => {
    expect(convert(purl)).toEqual({ package: { ecosystem, name, version, purl } });
  });

  it('skips purls without a version or of a type OSV has no ecosystem for', () => {
    expect(convert('pkg:npm/lodash')).toEqual({ skipped: 'no-version' });
    expect(convert('pkg:github/actions/checkout@v4')).toEqual({ skipped: 'unsupported-type' });
    expect(convert('pkg:oci/debian@sha256%3A0123abcd?repository_url=docker.io/library/debian')).toEqual({ skipped: 'unsupported-type' });
  });
});

describe('packageFromPurl: OS packages', () => {
  it.each([
    ['pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12', 'Debian:12'],
    ['pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12.4', 'Debian:12'],
    ['pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie', 'Debian:8'],
    ['pkg:deb/debian/libc6@2.36-9+deb12u4?distro=bookworm', 'Debian:12'],
    ['pkg:deb/ubuntu/libc6@2.35-0ubuntu3.1?arch=amd64&distro=ubuntu-22.04', 'Ubuntu:22.04:LTS'],
    ['pkg:deb/ubuntu/libc6@2.38-1ubuntu6?distro=ubuntu-23.10', 'Ubuntu:23.10'],
    ['pkg:deb/ubuntu/libc6@2.35-0ubuntu3.1?distro=jammy', 'Ubuntu:22.04:LTS'],
    ['pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4', 'Alpine:v3.18'],
    ['pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.18.4', 'Alpine:v3.18'],
    ['pkg:rpm/almalinux/bash@5.1.8-6.el9_1?arch=x86_64&distro=almalinux-9.2', 'AlmaLinux:9'],
    ['pkg:rpm/alma/bash@5.1.8-6.el9_1?arch=x86_64&distro=alma-9.2', 'AlmaLinux:9'],
    ['pkg:rpm/rocky/bash@5.1.8-6.el9_1?arch=x86_64&distro=rocky-9.2', 'Rocky Linux:9'],
    ['pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&distro=redhat-9.2', 'Red Hat:enterprise_linux:9'],
    ['pkg:rpm/opensuse/bash@5.2.15-150500.1.1?distro=opensuse-leap-15.5', 'openSUSE:Leap 15.5'],
  ])('%s → %s', (purl, ecosystem) => {
    expect(identity(purl).ecosystem).toBe(ecosystem);
  });

  it('keeps deb upstream source name and version (syft) and the epoch qualifier (trivy)', () => {
    expect(identity('pkg:deb/debian/libuuid1@2.38.1-5+b1?arch=amd64&upstream=util-linux%402.38.1-5&distro=debian-12')).toEqual({
      ecosystem: 'Debian:12', name: 'libuuid1', version: '2.38.1-5+b1', sourceName: 'util-linux', sourceVersion: '2.38.1-5',
    });
    expect(identity('pkg:deb/debian/login@4.13%2Bdfsg1-1%2Bb1?arch=amd64&distro=debian-12.4&epoch=1').version).toBe('1:4.13+dfsg1-1+b1');
  });

  it('rpm: epoch qualifier prepended, epoch known, source rpm name from upstream', () => {
    const outcome = convert('pkg:rpm/almalinux/podman@4.4.1-5.el9?arch=x86_64&epoch=4&upstream=podman-4.4.1-5.el9.src.rpm&distro=almalinux-9.2');
    expect(outcome).toEqual({
      package: { ecosystem: 'AlmaLinux:9', name: 'podman', version: '4:4.4.1-5.el9', arch: 'x86_64', epochKnown: true, purl: 'pkg:rpm/almalinux/podman@4.4.1-5.el9?arch=x86_64&epoch=4&upstream=podman-4.4.1-5.el9.src.rpm&distro=almalinux-9.2' },
    });
    expect(identity('pkg:rpm/almalinux/python3-libs@3.9.16-1.el9_2.1?upstream=python3.9-3.9.16-1.el9_2.1.src.rpm&distro=almalinux-9.2').sourceName).toBe('python3.9');
  });

  it('apk: origin from upstream', () => {
    expect(identity('pkg:apk/alpine/libcrypto3@3.1.2-r0?arch=x86_64&upstream=openssl&distro=alpine-3.18.4').sourceName).toBe('openssl');
  });

  it('takes a source package from the SBOM when the purl has no upstream', () => {
    expect(identity('pkg:deb/debian/libuuid1@2.38.1-5+b1?distro=debian-12', { source: { name: 'util-linux', version: '2.38.1-5' } })).toMatchObject({ sourceName: 'util-linux', sourceVersion: '2.38.1-5' });
  });

  it('without a usable distro, uses the fallback only when it is the same package family', () => {
    expect(convert('pkg:deb/debian/libc6@2.36-9')).toEqual({ skipped: 'unknown-distro' });
    expect(convert('pkg:deb/debian/libc6@2.36-9?distro=sid')).toEqual({ skipped: 'unknown-distro' });
    expect(identity('pkg:deb/debian/libc6@2.36-9', { fallbackOsEcosystem: 'Debian:12' }).ecosystem).toBe('Debian:12');
    expect(convert('pkg:deb/debian/libc6@2.36-9', { fallbackOsEcosystem: 'AlmaLinux:9' })).toEqual({ skipped: 'unknown-distro' });
  });
});
