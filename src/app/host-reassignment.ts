/**
 * Re-assigning the stored hosts after a policy change: every host's bucket and team from the new
 * rules, written only where they moved, in pages. The server runs it on the policy reader's
 * worker thread (`PolicyReader.reassign`); the CLI in line.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import pg from 'pg';
import { policyOwnership, selectableHost, type Ownership, type OwnershipRules } from '../domain/policy/ownership.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { storedHostOwnership, updateHostOwnership } from '../store/policy-store.js';

/** Hosts read, matched and written per step. */
const HOSTS_PER_PAGE = 500;
/** The longest run of matching between two turns of the event loop. */
const MATCHING_SLICE_MS = 4;

/**
 * Gives every stored host the bucket and team `ownership` says, writing only the hosts that move.
 * Hosts are read by key in pages, each matched and written before the next is read, so neither
 * the server's event loop nor a host's row is held for long (a check-in waits at most one page).
 *
 * @example await reassignHosts(pool, policyOwnership(policy)) // { hosts: 100000, moved: 1200 }
 */
export async function reassignHosts(pool: pg.Pool, ownership: OwnershipRules): Promise<{ hosts: number; moved: number }> {
  let hosts = 0;
  let moved = 0;
  for (let afterKey = 0; ; ) {
    const page = await storedHostOwnership(pool, { afterKey, limit: HOSTS_PER_PAGE });
    if (page.length === 0) break;
    hosts += page.length;
    afterKey = page.at(-1)!.key;
    const changes: Array<{ key: number } & Ownership> = [];
    let sliceStart = performance.now();
    for (const [index, host] of page.entries()) {
      // Matching is CPU on the event loop that serves check-ins: give it back every few milliseconds.
      if (index % 64 === 0 && performance.now() - sliceStart > MATCHING_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
      const owner = ownership.ownerOf(selectableHost(host.name, host.labels, { id: host.osId, idLike: host.osIdLike, versionId: host.osVersion }));
      if (owner.bucket !== host.bucket || owner.team !== host.team) changes.push({ key: host.key, ...owner });
    }
    if (changes.length > 0) moved += await updateHostOwnership(pool, changes);
    await yieldToEventLoop();
  }
  return { hosts, moved };
}

/** One pool per database for re-assignments, kept: they come in bursts of policy changes. */
const reassignPools = new Map<string, pg.Pool>();

/** `reassignHosts` with `policy`'s rules on the database at `connectionString` (from a thread that has no pool). */
export async function reassignStoredHosts(connectionString: string, policy: Policy): Promise<{ hosts: number; moved: number }> {
  let pool = reassignPools.get(connectionString);
  if (!pool) {
    pool = new pg.Pool({ connectionString, max: 2, application_name: 'fleetpatch-policy' });
    pool.on('error', () => undefined);
    reassignPools.set(connectionString, pool);
  }
  return reassignHosts(pool, policyOwnership(policy));
}
