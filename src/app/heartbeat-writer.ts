/**
 * Heartbeats only move `last_seen_at` (and the boot id and reboot flag), so they are coalesced per
 * host and written once a second in one statement. The request path validates them, so a batch
 * should never fail on its data; if one does, the batch is written row by row and only the bad
 * row is dropped. A batch that fails because the database is away is kept for the next flush.
 */
import type pg from 'pg';
import type { Heartbeat } from '../protocol/agent-protocol.js';

interface PendingHeartbeat {
  seenAt: Date;
  rebootRequired?: boolean;
  bootId?: string;
}

const BATCH_UPDATE = `UPDATE hosts h SET last_seen_at = greatest(h.last_seen_at, b.seen_at),
        reboot_required = coalesce(b.reboot_required, h.reboot_required), boot_id = coalesce(b.boot_id, h.boot_id)
   FROM unnest($1::text[], $2::timestamptz[], $3::boolean[], $4::text[]) AS b(name, seen_at, reboot_required, boot_id)
  WHERE h.name = b.name`;

export interface FlushReport {
  written: number;
  /** Hosts whose heartbeat the database refused (logged, then dropped). */
  refused: Array<{ host: string; error: string }>;
}

export class HeartbeatWriter {
  private pending = new Map<string, PendingHeartbeat>();
  received = 0;

  constructor(
    private readonly pool: pg.Pool,
    /** True for errors that say the database is unreachable, not that the data is bad. */
    private readonly isUnavailable: (error: unknown) => boolean = () => false,
  ) {}

  record(hostname: string, heartbeat: Heartbeat, now: Date): void {
    const entry: PendingHeartbeat = { seenAt: now };
    if (heartbeat.rebootRequired !== undefined) entry.rebootRequired = heartbeat.rebootRequired;
    if (heartbeat.bootId !== undefined) entry.bootId = heartbeat.bootId;
    this.pending.set(hostname, entry);
    this.received++;
  }

  /** A check-in that was just stored carries newer facts than a pending heartbeat. */
  forget(hostname: string): void {
    this.pending.delete(hostname);
  }

  async flush(): Promise<FlushReport> {
    if (this.pending.size === 0) return { written: 0, refused: [] };
    const batch = [...this.pending];
    this.pending = new Map();
    try {
      await this.write(batch);
      return { written: batch.length, refused: [] };
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
        await this.write([row]);
        written++;
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

  private async write(batch: Array<[string, PendingHeartbeat]>): Promise<void> {
    await this.pool.query(BATCH_UPDATE, [
      batch.map(([name]) => name),
      batch.map(([, beat]) => beat.seenAt),
      batch.map(([, beat]) => beat.rebootRequired ?? null),
      batch.map(([, beat]) => beat.bootId ?? null),
    ]);
  }
}
