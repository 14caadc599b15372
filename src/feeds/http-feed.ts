/**
 * An HTTP(S) mirror laid out like the public OSV bucket: `<base>/<ecosystem>/all.zip`, single
 * records at `<base>/<ecosystem>/<id>.json` and, where published, `<base>/<ecosystem>/modified_id.csv`
 * (`<modified>,<id>` lines). After a first full download only what changed is fetched: the records
 * the CSV lists as newer than the stored ones, or else the zip with a conditional GET.
 */
import { InputError } from '../domain/errors.js';
import { FeedUnreachableError, type AdvisoryFeed, type FeedBatch, type FeedReadOptions } from './advisory-feed.js';
import { parseOsvFiles } from './osv-files.js';
import { parseOsvZip } from './zip-feed.js';

export const OSV_BUCKET_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

/** Above this many changed records, one zip download is cheaper than many single requests. */
const MAX_SINGLE_RECORD_FETCHES = 200;
const ZIP_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 15_000;

interface EcosystemState {
  etag?: string;
  lastModified?: string;
  /** True once the whole zip has been imported: from then on the CSV may be used for deltas. */
  complete?: boolean;
}

export class HttpFeed implements AdvisoryFeed {
  readonly location: string;

  /**
   * @param ecosystems bucket folders, without release suffix: `Debian`, `AlmaLinux`, `PyPI`, …
   */
  constructor(
    baseUrl: string,
    private readonly ecosystems: string[],
  ) {
    this.location = baseUrl.replace(/\/+$/, '');
  }

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const batch: FeedBatch = { advisories: [], errors: [], unchanged: 0, state: { ...(options.state ?? {}) } };
    for (const ecosystem of this.ecosystems) {
      const previous = (options.state?.[ecosystem] ?? {}) as EcosystemState;
      const { part, state } = await this.readEcosystem(ecosystem, previous, options);
      batch.advisories.push(...part.advisories);
      batch.errors.push(...part.errors);
      batch.unchanged += part.unchanged;
      batch.state[ecosystem] = state;
    }
    return batch;
  }

  private async readEcosystem(ecosystem: string, previous: EcosystemState, options: FeedReadOptions) {
    const folder = `${this.location}/${encodeURIComponent(ecosystem)}`;
    if (previous.complete && options.knownModified) {
      const changed = await this.changedIds(folder, options.knownModified);
      if (changed !== undefined && changed.length <= MAX_SINGLE_RECORD_FETCHES) {
        const files = [];
        for (const id of changed) {
          const response = await this.fetch(`${folder}/${encodeURIComponent(id)}.json`, {}, REQUEST_TIMEOUT_MS);
          if (response.status === 404) continue;
          files.push({ name: `${folder}/${id}.json`, text: await response.text() });
        }
        return { part: parseOsvFiles(files, options, files.length), state: previous };
      }
    }
    const headers: Record<string, string> = {};
    if (previous.complete && previous.etag) headers['if-none-match'] = previous.etag;
    if (previous.complete && previous.lastModified) headers['if-modified-since'] = previous.lastModified;
    const response = await this.fetch(`${folder}/all.zip`, headers, ZIP_TIMEOUT_MS);
    if (response.status === 304) return { part: { advisories: [], errors: [], unchanged: 0 }, state: previous };
    if (response.status === 404) throw new InputError(`the mirror has no ${ecosystem} advisories`, { file: `${folder}/all.zip` }, 'check the ecosystem name and the mirror URL');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const state: EcosystemState = { complete: true };
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    if (etag) state.etag = etag;
    if (lastModified) state.lastModified = lastModified;
    return { part: parseOsvZip(bytes, `${folder}/all.zip`, options), state };
  }

  /** Ids the CSV lists as modified after what is stored, or undefined when there is no CSV. */
  private async changedIds(folder: string, knownModified: (id: string) => Date | undefined): Promise<string[] | undefined> {
    const response = await this.fetch(`${folder}/modified_id.csv`, {}, REQUEST_TIMEOUT_MS);
    if (response.status === 404) return undefined;
    const changed: string[] = [];
    for (const line of (await response.text()).split('\n')) {
      const comma = line.indexOf(',');
      if (comma === -1) continue;
      const modified = new Date(line.slice(0, comma).trim());
      const id = line.slice(comma + 1).trim();
      const known = knownModified(id);
      if (Number.isNaN(modified.getTime())) continue;
      if (known === undefined || modified.getTime() > known.getTime()) changed.push(id);
    }
    return changed;
  }

  private async fetch(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new FeedUnreachableError(this.location, cause?.code ?? cause?.message ?? (error as Error).message);
    }
    if (response.status >= 500) throw new FeedUnreachableError(this.location, `HTTP ${response.status} from ${url}`);
    if (response.status >= 400 && response.status !== 404) throw new InputError(`HTTP ${response.status} from the advisory mirror`, { file: url });
    return response;
  }
}
