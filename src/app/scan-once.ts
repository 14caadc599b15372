/**
 * One-shot detection without a database: one inventory against a set of advisories, annotated
 * with KEV and EPSS and scored. What `fleetpatch scan` prints.
 */
import type { Advisory } from '../domain/advisories/advisory.js';
import type { EpssScore } from '../domain/advisories/epss.js';
import type { KevEntry } from '../domain/advisories/kev.js';
import { AdvisoryIndex } from '../domain/detection/advisory-index.js';
import { collapseDrafts, evaluateHost } from '../domain/detection/host-findings.js';
import { VersionMatcher, type MatchWarning } from '../domain/detection/version-matcher.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import { riskScore } from '../domain/prioritization/risk-score.js';
import type { HostInventory } from '../domain/types.js';
import type { FindingRow } from '../store/finding-queries.js';
import { SEVERITY_ORDER } from '../domain/types.js';

/** A finding of a one-shot scan: a stored finding's fields without its history, plus the risk score. */
export type ScanFinding = Omit<FindingRow, 'firstSeenAt' | 'resolvedAt' | 'internetFacing' | 'bucket'> & {
  riskScore: number;
  riskExplanation: string[];
};

export interface ScanSignals {
  kev?: Map<string, KevEntry>;
  epss?: Map<string, EpssScore>;
}

export interface ScanResult {
  findings: ScanFinding[];
  warnings: MatchWarning[];
}

/** @example scanInventory(inventory, advisories, { kev }) */
export function scanInventory(inventory: HostInventory, advisories: Iterable<Advisory>, signals: ScanSignals = {}): ScanResult {
  const matcher = new VersionMatcher(new AdvisoryIndex(advisories), versionSchemeFor);
  // One finding per (advisory, package name), as the server stores them.
  const drafts = collapseDrafts(evaluateHost(
    inventory.kernel.running === undefined ? { packages: inventory.packages } : { packages: inventory.packages, runningKernel: inventory.kernel.running },
    matcher,
    versionSchemeFor,
  ));
  const internetFacing = inventory.labels['internet-facing'] === 'true';
  const findings = drafts.map((draft): ScanFinding => {
    const ids = [draft.advisory.id, ...draft.advisory.aliases, ...draft.advisory.related];
    const knownExploited = ids.some((id) => signals.kev?.has(id));
    const epss = Math.max(-1, ...ids.map((id) => signals.epss?.get(id)?.epss ?? -1));
    const cvssScore = Math.max(-1, ...draft.advisory.cvss.map((score) => score.baseScore ?? -1));
    const risk = riskScore({
      severity: draft.advisory.severity,
      knownExploited,
      internetFacing,
      ...(cvssScore >= 0 ? { cvssScore } : {}),
      ...(epss >= 0 ? { epss } : {}),
    });
    const finding: ScanFinding = {
      host: inventory.hostname,
      ecosystem: draft.ecosystem,
      package: draft.packageName,
      sourcePackage: draft.sourcePackage,
      installedVersion: draft.installedVersion,
      advisoryId: draft.advisory.id,
      aliases: draft.advisory.aliases,
      related: draft.advisory.related,
      severity: draft.advisory.severity,
      knownExploited,
      state: draft.state,
      riskScore: risk.score,
      riskExplanation: risk.explanation,
    };
    if (draft.advisory.summary !== undefined) finding.summary = draft.advisory.summary;
    if (draft.fixedVersion !== undefined) finding.fixedVersion = draft.fixedVersion;
    if (cvssScore >= 0) finding.cvssScore = cvssScore;
    if (epss >= 0) finding.epss = epss;
    if (draft.stateReason !== undefined) finding.stateReason = draft.stateReason;
    return finding;
  });
  findings.sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.riskScore - a.riskScore || a.package.localeCompare(b.package) || a.advisoryId.localeCompare(b.advisoryId),
  );
  return { findings, warnings: matcher.warnings };
}
