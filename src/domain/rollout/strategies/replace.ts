/**
 * The replace strategy (stateless hosts: replace, never patch), per host: notified →
 * provisioning (the provision hook creates a replacement from the newest baseline image and names
 * it) → awaiting-replacement (until the replacement's agent checks in reporting that image, and
 * has served for the warm-up) → monitoring (the host's gates) → retiring (the retire hook takes the
 * old host away; its record is retired as replaced) → succeeded. The old host serves until its
 * replacement does, so the bucket's healthy share never drops by a replacement in flight: a
 * replacement that never comes fails the host and leaves the old one serving.
 */
import { BugError } from '../../errors.js';
import { failureOf, type HostChange, hostTargets, type JobDraft, move, startJob, type Strategy, strategyOf } from '../host-steps.js';
import type { Rollout, RolloutHost } from '../rollout-model.js';

function settingsOf(rollout: Rollout) {
  const strategy = strategyOf(rollout);
  if (strategy.kind !== 'replace') throw new BugError(`rollout ${rollout.id} is not a replacement`);
  return strategy;
}

/** The hooks' own time: an instance refresh or a Terraform apply takes minutes. */
const HOOK_MS = 30 * 60_000;

/** A provision carries the snapshot (FLEETPATCH_PACKAGES): the versions the replacement must run at least, for an image pipeline to bake in. */
function hookJob(rollout: Rollout, step: 'provision' | 'retire', now: Date, replacement?: string): JobDraft {
  const { image } = settingsOf(rollout);
  const packages = step === 'provision' ? rollout.snapshot : [];
  return { step, executor: 'command-hook', commands: [], packages, previous: [], deadline: new Date(now.getTime() + HOOK_MS), image: image.id, ...(replacement ? { replacement } : {}) };
}

/** The replacement serves: it checked in after it was provisioned, reporting the baseline image. */
function serving(rollout: Rollout, host: RolloutHost): { since: Date } | undefined {
  const { imageFact, image } = settingsOf(rollout);
  const replacement = host.replacement;
  const provisionedAt = typeof host.memo.provisionedAt === 'string' ? Date.parse(host.memo.provisionedAt) : Number.NaN;
  if (!replacement?.lastSeenAt || replacement.labels[imageFact] !== image.id) return undefined;
  if (!(replacement.lastSeenAt.getTime() >= provisionedAt)) return undefined;
  return { since: replacement.enrolledAt ?? replacement.lastSeenAt };
}

export const replace: Strategy = {
  kind: 'replace',
  /** On the newest image and running the snapshot's versions: a host on the image that still lacks the fix (the emergency path) is replaced. */
  isCompliant(rollout, host) {
    const { imageFact, image } = settingsOf(rollout);
    return host.facts.labels?.[imageFact] === image.id && hostTargets(rollout.snapshot, host.facts.installed).length === 0;
  },
  advanceHost(rollout, host, context): HostChange | undefined {
    const { now } = context;
    const settings = settingsOf(rollout);
    const result = host.job?.result;
    const overdue = host.deadline !== undefined && now.getTime() > host.deadline.getTime();
    switch (host.state) {
      case 'notified':
        return startJob(host, hookJob(rollout, 'provision', now), now);
      case 'provisioning': {
        if (result?.outcome === 'succeeded') {
          const name = result.details?.replacement;
          if (typeof name !== 'string' || name === '' || name === host.name) return move(host, 'failed', now, { lastError: 'the provision hook did not name its replacement on its last line ({"details": {"replacement": "<host>"}})' });
          const deadline = new Date(now.getTime() + settings.enrollTimeoutMs + settings.warmupMs);
          // From the job's dispatch: a hook that waits for its instance to be healthy (an instance
          // refresh does) returns after the replacement's first check-in, which still counts.
          const provisionedAt = host.job!.dispatchedAt;
          return move(host, 'awaiting-replacement', now, { deadline, memo: { ...host.memo, replacement: name, provisionedAt: provisionedAt.toISOString() } }, `replacement ${name} provisioned from ${settings.image.id}`);
        }
        if (result) return move(host, 'failed', now, { lastError: `provisioning failed: ${failureOf(result)}` });
        return overdue ? move(host, 'timed-out', now, { lastError: 'the provision hook did not report before its deadline' }) : undefined;
      }
      case 'awaiting-replacement': {
        const up = serving(rollout, host);
        if (up && now.getTime() - up.since.getTime() >= settings.warmupMs) return move(host, 'monitoring', now, {}, `${String(host.memo.replacement)} serves ${settings.image.id}`);
        if (!overdue) return undefined;
        const seen = host.replacement?.lastSeenAt ? `last checked in ${host.replacement.lastSeenAt.toISOString()} with image ${host.replacement.labels[settings.imageFact] ?? 'unknown'}` : 'never checked in';
        // The old host still serves; the replacement, if any, is left for a person to look at.
        return move(host, 'failed', now, { lastError: `replacement ${String(host.memo.replacement)} ${seen}; ${host.name} keeps serving` });
      }
      case 'monitoring': {
        const gate = context.hostGates?.get(host.name) ?? { state: 'passed' };
        if (gate.state === 'running') return undefined;
        if (gate.state === 'passed') return startJob(host, hookJob(rollout, 'retire', now, String(host.memo.replacement)), now);
        return move(host, 'failed', now, { lastError: `gate ${gate.gate ?? ''} ${gate.state}${gate.detail ? `: ${gate.detail}` : ''}; ${host.name} keeps serving` });
      }
      case 'retiring':
        if (result?.outcome === 'succeeded') return move(host, 'succeeded', now, { slotHeld: false }, `replaced by ${String(host.memo.replacement)}`);
        if (result) return move(host, 'failed', now, { lastError: `retiring failed: ${failureOf(result)}` });
        return overdue ? move(host, 'timed-out', now, { lastError: 'the retire hook did not report before its deadline' }) : undefined;
      default:
        return undefined;
    }
  },
};
