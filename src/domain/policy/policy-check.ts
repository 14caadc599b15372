/**
 * `fleetpatch policy check`'s judgement of a policy that parsed: what would make it fail in
 * practice. Errors: a window no host of its bucket can ever fit into. Warnings: buckets that a
 * bucket before them shadows, hosts no bucket matches, a freeze longer than an SLA it would break,
 * a window that never occurs in the coming year.
 */
import { compileSelector, isCatchAll, type HostSelector, type SelectableHost } from './host-selector.js';
import { freezeCovers, freezeIntervals } from './freeze.js';
import { windowNeverOccurs } from './maintenance-window.js';
import { formatPolicyDuration } from './policy-duration.js';
import type { Bucket, Policy } from './policy-schema.js';

export interface PolicyFinding {
  level: 'error' | 'warning';
  /** The policy path it is about, e.g. `buckets[1].windows[0]`. */
  field: string;
  message: string;
}

const DAY_MS = 86_400_000;

/**
 * The least time one host of a bucket needs in a window: its expected duration (checks and upgrade)
 * plus the reboot notice and timeout when it may reboot, since a reboot that overruns still counts.
 */
export function minimumHostTime(bucket: Bucket): number {
  const reboot = bucket.reboot.policy === 'never' ? 0 : bucket.reboot.notice + bucket.reboot.timeout;
  return bucket.expectedHostDuration + reboot;
}

/**
 * @example checkPolicy(policy, { now: new Date(), hosts }).filter((finding) => finding.level === 'error')
 */
export function checkPolicy(policy: Policy, options: { now: Date; hosts?: SelectableHost[] }): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const yearAhead = new Date(options.now.getTime() + 366 * DAY_MS);

  for (const [name, window] of Object.entries(policy.windows)) {
    if (windowNeverOccurs(window, options.now, yearAhead)) findings.push({ level: 'warning', field: `windows.${name}`, message: `window ${name} never opens in the coming year (a month day that does not occur, every date excluded, or validUntil passed)` });
  }

  const conditions = policy.buckets.map((bucket) => selectorConditions(bucket.match));
  policy.buckets.forEach((bucket, index) => {
    const needed = minimumHostTime(bucket);
    bucket.windows.forEach((windowName, windowIndex) => {
      const window = policy.windows[windowName];
      if (!window) return;
      const admission = window.duration - window.admissionCutoff;
      if (admission < needed) {
        findings.push({
          level: 'error',
          field: `buckets[${index}].windows[${windowIndex}]`,
          message: `no host of ${bucket.name} can ever fit into ${windowName}: it admits hosts for ${formatPolicyDuration(admission)}, a host needs at least ${formatPolicyDuration(needed)} (expectedHostDuration ${formatPolicyDuration(bucket.expectedHostDuration)}${bucket.reboot.policy === 'never' ? '' : ` + reboot notice and timeout ${formatPolicyDuration(bucket.reboot.notice + bucket.reboot.timeout)}`})`,
        });
      }
    });
    for (let earlier = 0; earlier < index; earlier++) {
      if (shadows(conditions[earlier]!, conditions[index]!)) {
        findings.push({ level: 'warning', field: `buckets[${index}].match`, message: `bucket ${bucket.name} can never match a host: ${policy.buckets[earlier]!.name} comes first and takes every host it would (first match wins)` });
        break;
      }
    }
  });

  if (options.hosts) {
    const predicates = policy.buckets.map((bucket) => compileSelector(bucket.match));
    const unmatched = options.hosts.filter((host) => !predicates.some((matches) => matches(host)));
    if (unmatched.length > 0) {
      const names = unmatched.slice(0, 5).map((host) => host.name).join(', ');
      findings.push({ level: 'warning', field: 'buckets', message: `${unmatched.length} of ${options.hosts.length} hosts match no bucket and fall to ${policy.fallback.bucket} (${names}${unmatched.length > 5 ? ', …' : ''})` });
    }
  }

  policy.freezes.forEach((freeze, index) => {
    const [interval] = freezeIntervals(freeze, options.now, yearAhead);
    if (!interval) return;
    const days = (interval.end.getTime() - interval.start.getTime()) / DAY_MS;
    const covered = policy.buckets.filter((bucket) => freezeCovers(freeze, bucket));
    if (covered.length === 0) return;
    const emergencyPasses = freeze.allowEmergency && policy.emergency.relaxes.includes('freezes');
    for (const [severity, slaDays] of Object.entries(policy.slas.days)) {
      if (slaDays === undefined || slaDays >= days) continue;
      if (emergencyPasses && policy.emergency.triggers.severity.includes(severity)) continue;
      findings.push({
        level: 'warning',
        field: `freezes[${index}]`,
        message: `freeze ${freeze.name} lasts ${days.toFixed(1)} days: a ${severity} finding (SLA ${slaDays} day${slaDays === 1 ? '' : 's'}) first seen when it starts breaches its SLA in ${firstFew(covered.map((bucket) => bucket.name))}${freeze.allowEmergency ? '' : ' (and the freeze does not let the emergency path pass)'}`,
      });
    }
  });
  return findings;
}

/** A selector's conditions as comparable strings; `undefined` for a selector that asks for nothing. */
function selectorConditions(selector: HostSelector): Set<string> | undefined {
  if (isCatchAll(selector)) return undefined;
  return new Set([
    ...Object.entries(selector.labels ?? {}).map(([key, value]) => JSON.stringify({ key, operator: '=', value })),
    ...(selector.expressions ?? []).map((expression) => JSON.stringify(expression.operator === '=' ? { key: expression.key, operator: '=', value: expression.value } : expression)),
    ...(selector.os?.family ? [`os.family=${selector.os.family.toLowerCase()}`] : []),
    ...(selector.os?.release ? [`os.release=${selector.os.release}`] : []),
    ...(selector.hostnames?.length ? [`hostnames=${[...selector.hostnames].sort().join(',')}`] : []),
  ]);
}

/**
 * Whether every host the later selector matches is already taken by the earlier one: the earlier
 * asks for nothing, or for a subset of what the later asks for (label equalities, expressions, OS,
 * host-name globs).
 */
function shadows(earlier: Set<string> | undefined, later: Set<string> | undefined): boolean {
  if (earlier === undefined) return true;
  if (later === undefined || earlier.size > later.size) return false;
  for (const condition of earlier) if (!later.has(condition)) return false;
  return true;
}

/** `a, b, c, d, e and 495 more`: a list a warning can show on one line. */
function firstFew(names: string[], shown = 5): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}
