// The heartbeat writer on a real PostgreSQL: a row the database refuses (here a NUL that the API
// would have refused at the door) costs only itself; a batch that meets a stopped database is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/postgres.js';
import { HeartbeatWriter } from './heartbeat-writer.js';

describe('HeartbeatWriter', () => {
  let database: TestDatabase;
  const hosts = Array.from({ length: 50 }, (_, index) => `writer-${index}`);

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query("INSERT INTO hosts (name, reboot_required, last_seen_at) SELECT unnest($1::text[]), false, '2020-01-01T00:00:00Z'", [hosts]);
  });
  afterAll(async () => database?.drop());

  it('writes every other host when one row is refused', async () => {
    const writer = new HeartbeatWriter(database.pool);
    const now = new Date('2026-12-01T12:00:00Z');
    for (const host of hosts) writer.record(host, { bootId: host === 'writer-7' ? 'bad\u0000boot' : `boot-${host}` }, now);
    const report = await writer.flush();
    expect(report.written).toBe(49);
    expect(report.refused.map((refusal) => refusal.host)).toEqual(['writer-7']);
    const written = await database.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM hosts WHERE last_seen_at = $1 AND boot_id = 'boot-' || name", [now]);
    expect(written.rows[0]!.n).toBe(49);
  });

  it('never waits for a host row a check-in holds: that heartbeat waits for the next flush', async () => {
    const checkIn = await database.pool.connect();
    try {
      await checkIn.query('BEGIN');
      await checkIn.query("UPDATE hosts SET agent_version = 'in-check-in' WHERE name = 'writer-3'");
      const writer = new HeartbeatWriter(database.pool);
      const now = new Date('2026-12-01T14:00:00Z');
      for (const host of ['writer-3', 'writer-4']) writer.record(host, { bootId: 'locked-test' }, now);
      expect(await writer.flush()).toEqual({ written: 1, refused: [] });
      await checkIn.query('COMMIT');
      expect(await writer.flush()).toEqual({ written: 1, refused: [] });
      const rows = await database.pool.query<{ name: string }>('SELECT name FROM hosts WHERE last_seen_at = $1 ORDER BY name', [now]);
      expect(rows.rows.map((row) => row.name)).toEqual(['writer-3', 'writer-4']);
      // A check-in stored while the flush ran is newer than the heartbeat the flush skipped.
      await checkIn.query('BEGIN');
      await checkIn.query("UPDATE hosts SET agent_version = 'in-check-in' WHERE name = 'writer-5'");
      writer.record('writer-5', { bootId: 'locked-test' }, new Date('2026-12-01T15:00:00Z'));
      const flushing = writer.flush();
      writer.forget('writer-5');
      expect(await flushing).toEqual({ written: 0, refused: [] });
      await checkIn.query('COMMIT');
      expect(await writer.flush()).toEqual({ written: 0, refused: [] });
    } finally {
      checkIn.release();
    }
  });

  it('keeps a batch the database could not take, unless a newer heartbeat arrived', async () => {
    let unavailable = true;
    const failingPool = { query: async (...args: Parameters<typeof database.pool.query>) => {
      if (unavailable) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return database.pool.query(...args);
    } } as unknown as typeof database.pool;
    const writer = new HeartbeatWriter(failingPool, (error) => (error as { code?: string }).code === 'ECONNREFUSED');
    writer.record('writer-1', { bootId: 'during-outage' }, new Date('2026-12-01T13:00:00Z'));
    writer.record('writer-2', { bootId: 'during-outage' }, new Date('2026-12-01T13:00:00Z'));
    await expect(writer.flush()).rejects.toThrow(/ECONNREFUSED/);
    writer.record('writer-2', { bootId: 'after-outage' }, new Date('2026-12-01T13:00:01Z'));
    unavailable = false;
    expect(await writer.flush()).toEqual({ written: 2, refused: [] });
    const rows = await database.pool.query<{ name: string; boot_id: string }>("SELECT name, boot_id FROM hosts WHERE name IN ('writer-1', 'writer-2') ORDER BY name");
    expect(rows.rows).toEqual([{ name: 'writer-1', boot_id: 'during-outage' }, { name: 'writer-2', boot_id: 'after-outage' }]);
  });
});
