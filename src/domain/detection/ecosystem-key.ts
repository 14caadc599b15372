/**
 * Normalises OSV ecosystem strings into the keys advisories are indexed by, so that a host's
 * `Ubuntu:22.04:LTS` packages meet both `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS` records,
 * and a Red Hat host meets every repository stream (`::baseos`, `::appstream`) of its release.
 */

/**
 * The index key of an ecosystem string.
 *
 * @example ecosystemKey('Ubuntu:Pro:22.04:LTS') // 'Ubuntu:22.04:LTS'
 * @example ecosystemKey('Red Hat:enterprise_linux:9::appstream') // 'Red Hat:enterprise_linux:9'
 */
export function ecosystemKey(ecosystem: string): string {
  if (ecosystem.startsWith('Ubuntu:Pro:')) {
    // ESM fixes live in the Pro variant of the same release; the package is the same one.
    return `Ubuntu:${ecosystem.slice('Ubuntu:Pro:'.length)}`;
  }
  if (ecosystem.startsWith('Red Hat:')) {
    const streamSeparator = ecosystem.indexOf('::');
    return streamSeparator === -1 ? ecosystem : ecosystem.slice(0, streamSeparator);
  }
  return ecosystem;
}

/** The ecosystem without its release suffix: `Debian:12` → `Debian`, `npm` → `npm`. */
export function ecosystemBase(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon === -1 ? ecosystem : ecosystem.slice(0, colon);
}

/**
 * Ecosystems whose advisories write fixed versions without the rpm epoch, so the installed
 * epoch must not be prepended either (osv-scalibr does the same for openEuler).
 */
export function advisoriesOmitEpoch(ecosystem: string): boolean {
  return ecosystemBase(ecosystem) === 'openEuler';
}
