/**
 * An HTTP(S) mirror laid out like the public OSV bucket: `<base>/<ecosystem>/all.zip`, single
 * records at `<base>/<ecosystem>/<id>.json` and, where published, `<base>/<ecosystem>/modified_id.csv`
 * (`<modified>,<id>` lines, newest first). After a first full download only what changed is fetched:
 * the records the CSV lists as newer than the stored ones, or else the zip with a conditional GET.
 */
import { InputError } from '../domain/errors.js';
import { FeedUnreachableError, type AdvisoryFeed, type FeedBatch, type FeedReadOptions } from './advisory-feed.js';
import { parseOsvFiles, type OsvFile } from './osv-files.js';
import { zipLimitsFromEnvironment, type ZipLimits } from './zip-archive.js';
import { osvFilesInZip } from './zip-feed.js';

export const OSV_BUCKET_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

/** Above this many changed records, one zip download is cheaper than many single requests. */
const MAX_SINGLE_RECORD_FETCHES = 200;
/** A response that sends nothing for this long counts as a dead connection (a large zip may take minutes, but never stalls). */
const IDLE_TIMEOUT_MS = 30_000;

/** What the caller persists per ecosystem folder between reads (inside `FeedBatch.state`). */
interface EcosystemState {
  etag?: string;
  lastModified?: string;
  /** True once the whole zip has been imported: from then on the CSV may be used for deltas. */
  complete?: boolean;
}

type EcosystemPart = Omit<FeedBatch, 'state'>;

export class HttpFeed implements AdvisoryFeed {
  readonly location: string;

  /**
   * @param ecosystems bucket folders, without release suffix: `Debian`, `AlmaLinux`, `PyPI`, …
   * @example await new HttpFeed(OSV_BUCKET_URL, ['Debian']).read({ state, knownModified })
   */
  constructor(
    baseUrl: string,
    private readonly ecosystems: string[],
    private readonly idleTimeoutMs = IDLE_TIMEOUT_MS,
    private readonly zipLimits: ZipLimits = zipLimitsFromEnvironment(),
  ) {
    this.location = baseUrl.replace(/\/+$/, '');
  }

  async read(options: FeedReadOptions = {}): Promise<FeedBatch> {
    const batch: Required<FeedBatch> = { advisories: [], errors: [], warnings: [], unchanged: 0, state: { ...(options.state ?? {}) } };
    for (const ecosystem of this.ecosystems) {
      const previous = (options.state?.[ecosystem] ?? {}) as EcosystemState;
      const { part, state } = await this.readEcosystem(ecosystem, previous, options);
      batch.advisories.push(...part.advisories);
      batch.errors.push(...part.errors);
      batch.warnings.push(...(part.warnings ?? []));
      batch.unchanged += part.unchanged;
      batch.state[ecosystem] = state;
    }
    return batch;
  }

  private async readEcosystem(ecosystem: string, previous: EcosystemState, options: FeedReadOptions): Promise<{ part: EcosystemPart; state: EcosystemState }> {
    const folder = `${this.location}/${encodeURIComponent(ecosystem)}`;
    if (previous.complete && options.knownModified) {
      const changed = await this.changedIds(folder, options.knownModified);
      if (changed !== undefined && changed.length <= MAX_SINGLE_RECORD_FETCHES) {
        return { part: await parseOsvFiles(this.singleRecords(folder, changed), options, changed.length), state: previous };
      }
    }
    const headers: Record<string, string> = {};
    if (previous.complete && previous.etag) headers['if-none-match'] = previous.etag;
    if (previous.complete && previous.lastModified) headers['if-modified-since'] = previous.lastModified;
    const url = `${folder}/all.zip`;
    const { response, body } = await this.get(url, headers);
    if (response.status === 304) return { part: { advisories: [], errors: [], unchanged: 0 }, state: previous };
    if (response.status === 404) throw new InputError(`the mirror has no ${ecosystem} advisories`, { file: url }, 'check the ecosystem name and the mirror URL');
    const state: EcosystemState = { complete: true };
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    if (etag) state.etag = etag;
    if (lastModified) state.lastModified = lastModified;
    return { part: await parseOsvFiles(osvFilesInZip(body, url, this.zipLimits), options), state };
  }

  /** Records fetched one by one; a record the CSV lists but the mirror no longer has is skipped. */
  private async *singleRecords(folder: string, ids: string[]): AsyncGenerator<OsvFile> {
    for (const id of ids) {
      const url = `${folder}/${encodeURIComponent(id)}.json`;
      const { response, body } = await this.get(url, {});
      if (response.status === 404) continue;
      yield { name: url, text: await text(body) };
    }
  }

  /** Ids the CSV lists as modified after what is stored, or undefined when the mirror has no CSV. */
  private async changedIds(folder: string, knownModified: (id: string) => Date | undefined): Promise<string[] | undefined> {
    const { response, body } = await this.get(`${folder}/modified_id.csv`, {});
    if (response.status === 404) return undefined;
    const changed: string[] = [];
    for (const line of (await text(body)).split('\n')) {
      const comma = line.indexOf(',');
      if (comma === -1) continue;
      const modified = new Date(line.slice(0, comma).trim());
      const id = line.slice(comma + 1).trim();
      if (Number.isNaN(modified.getTime()) || id === '') continue;
      const known = knownModified(id);
      if (known === undefined || modified.getTime() > known.getTime()) changed.push(id);
    }
    return changed;
  }

  /**
   * GET with an idle timeout over the headers and every body chunk. Network failures, timeouts and
   * 5xx answers become `FeedUnreachableError`; other 4xx (but 404, which callers interpret) an input error.
   */
  private async get(url: string, headers: Record<string, string>): Promise<{ response: Response; body: AsyncIterable<Uint8Array> }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`no answer for ${this.idleTimeoutMs / 1000} s`)), this.idleTimeoutMs);
    };
    const unreachable = (error: unknown) => {
      clearTimeout(timer);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = controller.signal.aborted ? String((controller.signal.reason as Error).message) : (cause?.code ?? cause?.message ?? (error as Error).message);
      return new FeedUnreachableError(this.location, `${reason}; ${url}`);
    };
    arm();
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: controller.signal });
    } catch (error) {
      throw unreachable(error);
    }
    if (response.status >= 500) {
      clearTimeout(timer);
      throw new FeedUnreachableError(this.location, `HTTP ${response.status} from ${url}`);
    }
    if (response.status >= 400 && response.status !== 404) {
      clearTimeout(timer);
      throw new InputError(`HTTP ${response.status} from the advisory mirror`, { file: url });
    }
    const stream = response.body;
    const body = (async function* () {
      try {
        if (stream) {
          for await (const chunk of stream) {
            arm();
            yield chunk;
          }
        }
      } catch (error) {
        throw unreachable(error);
      } finally {
        clearTimeout(timer);
      }
    })();
    if (response.status === 304 || response.status === 404) {
      // Nothing to read: release the connection now rather than when the body is collected.
      clearTimeout(timer);
      await response.body?.cancel();
    }
    return { response, body };
  }
}

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let result = '';
  for await (const chunk of chunks) result += decoder.decode(chunk, { stream: true });
  return result + decoder.decode();
}
