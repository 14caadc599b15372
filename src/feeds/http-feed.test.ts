// The HTTP mirror feed against a real loopback server laid out like the OSV bucket: full download,
// incremental sync via modified_id.csv, conditional GET, and a clear error when unreachable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedUnreachableError } from './advisory-feed.js';
import { HttpFeed } from './http-feed.js';

const record = (id: string, modified: string, name: string) => ({
  id,
  modified,
  aliases: [`CVE-2026-${id.slice(-4)}`],
  affected: [{ package: { ecosystem: 'Debian:12', name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0-2' }] }] }],
});

describe('HttpFeed', () => {
  const files = new Map<string, { body: Uint8Array | string; etag?: string }>();
  const requests: string[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const first = record('DSA-0001-1', '2026-01-01T00:00:00Z', 'openssl');
    const second = record('DSA-0002-1', '2026-01-02T00:00:00Z', 'curl');
    files.set('/Debian/all.zip', {
      body: zipSync({ 'DSA-0001-1.json': strToU8(JSON.stringify(first)), 'DSA-0002-1.json': strToU8(JSON.stringify(second)) }),
      etag: '"v1"',
    });
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      const file = files.get(request.url ?? '');
      if (!file) return void response.writeHead(404).end();
      if (file.etag && request.headers['if-none-match'] === file.etag) return void response.writeHead(304).end();
      response.writeHead(200, file.etag ? { etag: file.etag } : {}).end(file.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads the whole zip first, then only what changed', async () => {
    const feed = new HttpFeed(base, ['Debian']);
    const first = await feed.read();
    expect(first.errors).toEqual([]);
    expect(first.advisories.map((advisory) => advisory.id).sort()).toEqual(['DSA-0001-1', 'DSA-0002-1']);
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));

    // No CSV published: a conditional GET of the zip answers 304 and nothing is re-read.
    requests.length = 0;
    const unchanged = await feed.read({ state: first.state, knownModified: (id) => known.get(id) });
    expect(unchanged.advisories).toEqual([]);
    expect(requests).toEqual(['GET /Debian/modified_id.csv', 'GET /Debian/all.zip']);

    // The mirror publishes modified_id.csv: only the changed record is fetched.
    files.set('/Debian/modified_id.csv', { body: '2026-03-01T00:00:00Z,DSA-0002-1\n2026-01-01T00:00:00Z,DSA-0001-1\n' });
    files.set('/Debian/DSA-0002-1.json', { body: JSON.stringify({ ...record('DSA-0002-1', '2026-03-01T00:00:00Z', 'curl'), withdrawn: '2026-03-01T00:00:00Z' }) });
    requests.length = 0;
    const delta = await feed.read({ state: unchanged.state, knownModified: (id) => known.get(id) });
    expect(requests).toEqual(['GET /Debian/modified_id.csv', 'GET /Debian/DSA-0002-1.json']);
    expect(delta.advisories.map((advisory) => [advisory.id, advisory.withdrawn?.toISOString()])).toEqual([['DSA-0002-1', '2026-03-01T00:00:00.000Z']]);
  });

  it('says the feed is unreachable, and how to use a mirror, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await new HttpFeed(`http://127.0.0.1:${port}`, ['Debian']).read().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FeedUnreachableError);
    expect((error as Error).message).toMatch(/unreachable \(ECONNREFUSED\).*FLEETPATCH_ADVISORIES/);
  });
});
