// The HTTP mirror feed against a real loopback server laid out like the OSV bucket: full download,
// incremental sync via modified_id.csv, conditional GET, and clear errors when the mirror fails.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../domain/errors.js';
import { FeedUnreachableError } from './advisory-feed.js';
import { HttpFeed } from './http-feed.js';

/** A Debian or Ubuntu record as the distributions publish them: keyed by source package, with the release in the ecosystem. */
const record = (id: string, modified: string, ecosystem: string, name: string, fixed: string) => ({
  schema_version: '1.6.0',
  id,
  modified,
  published: '2026-01-01T00:00:00Z',
  upstream: [`CVE-2026-${id.replace(/\D/g, '').slice(0, 4)}`],
  affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
});
const json = (value: unknown) => strToU8(JSON.stringify(value));

interface ServedFile {
  body: Uint8Array | string;
  etag?: string;
  lastModified?: string;
}

describe('HttpFeed', () => {
  const files = new Map<string, ServedFile>();
  const requests: string[] = [];
  let server: Server;
  let base: string;

  const debianZip = (extra: Record<string, Uint8Array> = {}) =>
    zipSync({
      'DSA-5001-1.json': json(record('DSA-5001-1', '2026-01-01T00:00:00Z', 'Debian:12', 'openssl', '3.0.15-1~deb12u1')),
      'DSA-5002-1.json': json(record('DSA-5002-1', '2026-01-02T00:00:00Z', 'Debian:12', 'curl', '7.88.1-10+deb12u8')),
      ...extra,
    });

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      if (request.url === '/Stalled/all.zip') return; // accepts the request, never answers
      if (request.url === '/Broken/all.zip') return void response.writeHead(503).end();
      const file = files.get(request.url ?? '');
      if (!file) return void response.writeHead(404).end();
      if (file.etag && request.headers['if-none-match'] === file.etag) return void response.writeHead(304).end();
      if (file.lastModified && request.headers['if-modified-since'] === file.lastModified) return void response.writeHead(304).end();
      const headers: Record<string, string> = {};
      if (file.etag) headers.etag = file.etag;
      if (file.lastModified) headers['last-modified'] = file.lastModified;
      response.writeHead(200, headers).end(file.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    // The stalled request still holds its connection open.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    files.clear();
    files.set('/Debian/all.zip', { body: debianZip(), etag: '"debian-v1"' });
    files.set('/Ubuntu/all.zip', {
      body: zipSync({ 'USN-7001-1.json': json(record('USN-7001-1', '2026-01-03T00:00:00Z', 'Ubuntu:22.04:LTS', 'openssl', '3.0.2-0ubuntu1.18')) }),
      lastModified: 'Sat, 03 Jan 2026 00:00:00 GMT',
    });
  });

  it('downloads every folder whole first, then nothing when the zips are unchanged', async () => {
    const feed = new HttpFeed(`${base}/`, ['Debian', 'Ubuntu']);
    const progress: Array<[number, number | undefined]> = [];
    const first = await feed.read({ onProgress: (done, total) => progress.push([done, total]) });
    expect(first.errors).toEqual([]);
    expect(first.advisories.map((advisory) => `${advisory.id} ${advisory.affected[0]?.ecosystem}`).sort()).toEqual([
      'DSA-5001-1 Debian:12',
      'DSA-5002-1 Debian:12',
      'USN-7001-1 Ubuntu:22.04:LTS',
    ]);
    expect(first.state).toEqual({ Debian: { complete: true, etag: '"debian-v1"' }, Ubuntu: { complete: true, lastModified: 'Sat, 03 Jan 2026 00:00:00 GMT' } });
    expect(progress).toEqual([[2, 2], [1, 1]]);

    // Stored state, no modified_id.csv on this mirror: conditional GETs answer 304 and nothing is re-imported.
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));
    requests.length = 0;
    const again = await feed.read({ state: first.state, knownModified: (id) => known.get(id) });
    expect(again.advisories).toEqual([]);
    expect(again.state).toEqual(first.state);
    expect(requests).toEqual(['GET /Debian/modified_id.csv', 'GET /Debian/all.zip', 'GET /Ubuntu/modified_id.csv', 'GET /Ubuntu/all.zip']);
  });

  it('re-reads a changed zip but returns only records newer than the stored ones', async () => {
    const feed = new HttpFeed(base, ['Debian']);
    const first = await feed.read();
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));
    files.set('/Debian/all.zip', {
      body: debianZip({ 'DSA-5003-1.json': json(record('DSA-5003-1', '2026-02-01T00:00:00Z', 'Debian:12', 'glibc', '2.36-9+deb12u9')) }),
      etag: '"debian-v2"',
    });
    const second = await feed.read({ state: first.state, knownModified: (id) => known.get(id) });
    expect(second.advisories.map((advisory) => advisory.id)).toEqual(['DSA-5003-1']);
    expect(second.unchanged).toBe(2);
    expect(second.state).toEqual({ Debian: { complete: true, etag: '"debian-v2"' } });
  });

  it('fetches only the records modified_id.csv lists as changed or new', async () => {
    const feed = new HttpFeed(base, ['Debian']);
    const first = await feed.read();
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));
    files.set('/Debian/modified_id.csv', {
      body: ['2026-03-01T00:00:00Z,DSA-5004-1', '2026-02-15T00:00:00Z,DSA-5002-1', '2026-01-01T00:00:00Z,DSA-5001-1', ''].join('\n'),
    });
    files.set('/Debian/DSA-5002-1.json', {
      body: JSON.stringify({ ...record('DSA-5002-1', '2026-02-15T00:00:00Z', 'Debian:12', 'curl', '7.88.1-10+deb12u8'), withdrawn: '2026-02-15T00:00:00Z' }),
    });
    files.set('/Debian/DSA-5004-1.json', { body: JSON.stringify(record('DSA-5004-1', '2026-03-01T00:00:00Z', 'Debian:12', 'zlib', '1:1.2.13.dfsg-1+deb12u1')) });
    requests.length = 0;
    const delta = await feed.read({ state: first.state, knownModified: (id) => known.get(id) });
    expect(requests).toEqual(['GET /Debian/modified_id.csv', 'GET /Debian/DSA-5004-1.json', 'GET /Debian/DSA-5002-1.json']);
    expect(delta.errors).toEqual([]);
    expect(delta.advisories.map((advisory) => [advisory.id, advisory.withdrawn?.toISOString()])).toEqual([
      ['DSA-5004-1', undefined],
      ['DSA-5002-1', '2026-02-15T00:00:00.000Z'],
    ]);
    expect(delta.state).toEqual(first.state);
  });

  it('reports invalid records in the zip with the archive, entry and JSON path', async () => {
    const broken = record('DSA-5009-1', '2026-01-09T00:00:00Z', 'Debian:12', 'bash', '5.2.15-2+b8');
    (broken.affected[0]!.ranges[0]!.events as unknown[]).push({ fixed: '1', limit: '2' });
    files.set('/Debian/all.zip', { body: debianZip({ 'DSA-5009-1.json': json(broken) }) });
    const batch = await new HttpFeed(base, ['Debian']).read();
    expect(batch.advisories).toHaveLength(2);
    expect(batch.errors.map((error) => [error.location.file, error.location.field])).toEqual([[`${base}/Debian/all.zip:DSA-5009-1.json`, 'affected[0].ranges[0].events[2]']]);
  });

  it('refuses a download cut short or over the size cap, returning no record of it', async () => {
    const whole = debianZip();
    files.set('/Debian/all.zip', { body: whole.subarray(0, whole.length - 30) });
    const cut = await new HttpFeed(base, ['Debian']).read().catch((caught: unknown) => caught);
    expect(cut).toBeInstanceOf(InputError);
    expect((cut as InputError).message).toMatch(new RegExp(`^${base}/Debian/all\\.zip: not a complete zip archive: .*(cut short|missing)`));
    files.set('/Debian/all.zip', { body: whole });
    const capped = await new HttpFeed(base, ['Debian'], 30_000, { maxEntryBytes: 100, maxTotalBytes: 1000 }).read().catch((caught: unknown) => caught);
    expect((capped as InputError).message).toMatch(/inflates to more than the per-entry cap of 100 bytes/);
  });

  it('says the feed is unreachable, and how to use a mirror, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await new HttpFeed(`http://127.0.0.1:${port}`, ['Debian']).read().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FeedUnreachableError);
    expect((error as Error).message).toMatch(/unreachable \(ECONNREFUSED; http:\/\/127\.0\.0\.1:\d+\/Debian\/all\.zip\).*--advisories DIR\|ZIP\|URL or FLEETPATCH_ADVISORIES/);
  });

  it('gives up on a mirror that stops answering or fails, and refuses an unknown ecosystem', async () => {
    const stalled = await new HttpFeed(base, ['Stalled'], 200).read().catch((caught: unknown) => caught);
    expect(stalled).toBeInstanceOf(FeedUnreachableError);
    expect((stalled as Error).message).toMatch(/unreachable \(no answer for 0\.2 s; /);
    const broken = await new HttpFeed(base, ['Broken']).read().catch((caught: unknown) => caught);
    expect(broken).toBeInstanceOf(FeedUnreachableError);
    expect((broken as Error).message).toMatch(/HTTP 503 from .*\/Broken\/all\.zip/);
    const missing = await new HttpFeed(base, ['Debain']).read().catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as InputError).hint).toMatch(/check the ecosystem name/);
  });
});
