/**
 * Heartbeats only move `last_seen_at` (and the boot id and reboot flag), so they are coalesced per
 * host and written once a second in a few statements. The request path validates them, so a batch
 * should never fail on its data; if one does, the batch is written row by row and only the bad
 * row is dropped. A batch that fails because the database is away is kept for the next flush.
 * The flush never waits for a check-in: a host row a check-in holds locked is skipped and its
 * heartbeat kept for the next flush (the check-in writes `last_seen_at` itself), and the rows are
 * locked in short batches, so a check-in waits for at most one of them.
 */
import type pg from 'pg';
import type { Heartbeat } from '../protocol/agent-protocol.js';

interface PendingHeartbeat {
  /** Milliseconds since the epoch: a batch sends numbers, far cheaper to serialize than dates. */
  seenAt: number;
  rebootRequired?: boolean;
  bootId?: string;
}

/** Rows per statement: each holds its rows locked only while it runs. */
const BATCH_ROWS = 500;

// Returns the names of the hosts that exist but were locked (kept for the next flush); hosts that
// do not exist (retired by another replica) are dropped.
const BATCH_UPDATE = `WITH beats AS (
       SELECT name, to_timestamp(seen_ms / 1000.0) AS seen_at, reboot_required, boot_id
         FROM unnest($1::text[], $2::double precision[], $3::boolean[], $4::text[]) AS u(name, seen_ms, reboot_required, boot_id)
     ), present AS (
       SELECT h.key, h.name FROM hosts h JOIN beats b ON b.name = h.name
     ), free AS (
       SELECT h.key FROM hosts h WHERE h.key IN (SELECT key FROM present) ORDER BY h.key FOR UPDATE SKIP LOCKED
     ), written AS (
       UPDATE hosts h SET last_seen_at = greatest(h.last_seen_at, b.seen_at),
              reboot_required = coalesce(b.reboot_required, h.reboot_required), boot_id = coalesce(b.boot_id, h.boot_id)
         FROM beats b
        WHERE h.key IN (SELECT key FROM free) AND h.name = b.name
       RETURNING h.key
     )
     SELECT p.name FROM present p WHERE p.key NOT IN (SELECT key FROM written)`;
export interface FlushReport {
  written: number;
  /** Hosts whose heartbeat the database refused (logged, then dropped). */
  refused: Array<{ host: string; error: string }>;
}

export class HeartbeatWriter {
  private pending = new Map<string, PendingHeartbeat>();
  /** Hosts stored by a check-in while a flush runs: a heartbeat that flush skipped is older than that check-in. */
  private readonly storedDuringFlush = new Set<string>();
  private flushesRunning = 0;
  received = 0;

  constructor(
    private readonly pool: pg.Pool,
    /** True for errors that say the database is unreachable, not that the data is bad. */
    private readonly isUnavailable: (error: unknown) => boolean = () => false,
  ) {}

  record(hostname: string, heartbeat: Heartbeat, now: Date): void {
    const entry: PendingHeartbeat = { seenAt: now.getTime() };
    if (heartbeat.rebootRequired !== undefined) entry.rebootRequired = heartbeat.rebootRequired;
    if (heartbeat.bootId !== undefined) entry.bootId = heartbeat.bootId;
    this.pending.set(hostname, entry);
    this.received++;
  }

  /** A check-in that was just stored carries newer facts than a pending heartbeat. */
  forget(hostname: string): void {
    this.pending.delete(hostname);
    if (this.flushesRunning > 0) this.storedDuringFlush.add(hostname);
  }

  async flush(): Promise<FlushReport> {
    if (this.pending.size === 0) return { written: 0, refused: [] };
    const batch = [...this.pending];
    this.pending = new Map();
    this.flushesRunning++;
    try {
      return await this.flushBatch(batch);
    } finally {
      if (--this.flushesRunning === 0) this.storedDuringFlush.clear();
    }
  }

  private async flushBatch(batch: Array<[string, PendingHeartbeat]>): Promise<FlushReport> {
    try {
      const busy = await this.write(batch);
      this.keepBusy(batch, busy);
      return { written: batch.length - busy.size, refused: [] };
    } catch (error) {
      if (this.isUnavailable(error)) {
        this.requeue(batch);
        throw error;
      }
    }
    const refused: FlushReport['refused'] = [];
    let written = 0;
    for (const row of batch) {
      try {
        const busy = await this.write([row]);
        this.keepBusy([row], busy);
        if (busy.size === 0) written++;
      } catch (error) {
        if (this.isUnavailable(error)) {
          this.requeue(batch.slice(batch.indexOf(row)));
          throw error;
        }
        refused.push({ host: row[0], error: (error as Error).message });
      }
    }
    return { written, refused };
  }

  /** Puts heartbeats back unless a newer one for the same host arrived meanwhile. */
  private requeue(batch: Array<[string, PendingHeartbeat]>): void {
    for (const [host, beat] of batch) if (!this.pending.has(host)) this.pending.set(host, beat);
  }

  /** Keeps the heartbeats of locked rows for the next flush, unless a check-in stored the host meanwhile. */
  private keepBusy(batch: Array<[string, PendingHeartbeat]>, busy: Set<string>): void {
    if (busy.size === 0) return;
    this.requeue(batch.filter(([host]) => busy.has(host) && !this.storedDuringFlush.has(host)));
  }

  /** Writes the batch; returns the hosts whose rows were locked and so not written. */
  private async write(batch: Array<[string, PendingHeartbeat]>): Promise<Set<string>> {
    const busy = new Set<string>();
    for (let start = 0; start < batch.length; start += BATCH_ROWS) {
      const rows = batch.slice(start, start + BATCH_ROWS);
      const result = await this.pool.query<{ name: string }>(BATCH_UPDATE, [
        rows.map(([name]) => name),
        rows.map(([, beat]) => beat.seenAt),
        rows.map(([, beat]) => beat.rebootRequired ?? null),
        rows.map(([, beat]) => beat.bootId ?? null),
      ]);
      for (const row of result.rows) busy.add(row.name);
    }
    return busy;
  }
}
