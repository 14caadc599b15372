// LISTEN/NOTIFY on a real PostgreSQL: subscriptions made in one tick (as a starting server makes
// them: advisories, access, policy, jobs) are listened to one statement after another on the
// listening connection, never two at once (which pg warns about now and refuses from pg@9), and
// every one of them hears its notifications.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForChanges, notifyChange, type ChangeChannel } from '../src/store/change-notifications.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { waitFor } from './test-hosts.js';

describe('change notifications', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('listens to channels subscribed in one tick one after another, and hears each', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    const listener = await listenForChanges(database.pool);
    try {
      const heard = new Map<ChangeChannel, string[]>();
      const channels: ChangeChannel[] = ['fleetpatch_advisories', 'fleetpatch_access', 'fleetpatch_policy', 'fleetpatch_jobs'];
      for (const channel of channels) listener.subscribe(channel, (payload) => heard.set(channel, [...(heard.get(channel) ?? []), payload]));
      // A LISTEN is sent after subscribe returns: notify until each channel has heard one.
      await waitFor('every channel to hear its notification', async () => {
        for (const channel of channels) if (!heard.has(channel)) await notifyChange(database.pool, channel, `to ${channel}`);
        return channels.every((channel) => heard.has(channel));
      }, 10_000, 50);
      for (const channel of channels) expect(heard.get(channel)![0]).toBe(`to ${channel}`);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes('already executing a query'))).toEqual([]);
    } finally {
      await listener.close();
      process.off('warning', onWarning);
    }
  });
});
