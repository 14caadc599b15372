/**
 * Advisories, KEV entries and EPSS scores in PostgreSQL. Advisories are stored whole as their
 * normalised document so the matcher's in-memory index can be rebuilt from the database alone.
 */
import type pg from 'pg';
import type { Advisory } from '../domain/advisories/advisory.js';
import type { EpssScore } from '../domain/advisories/epss.js';
import type { KevEntry } from '../domain/advisories/kev.js';

type Queryable = pg.Pool | pg.PoolClient;

const UPSERT_BATCH = 500;

export interface StoredAdvisory {
  key: number;
  advisory: Advisory;
  /** The import that last wrote it (see `advisories.generation`). */
  generation?: number;
}

/** Arbitrary, fixed: the advisory lock key ("fpad") that orders advisory imports and check-ins. */
const ADVISORY_LOCK_KEY = 0x66706164;

/**
 * Waits until no advisory import is in flight and keeps one from committing until this transaction
 * ends, then returns the advisory generation committed so far. Every check-in takes it first, in
 * every process: whatever it evaluates against must be at least this generation, and stays the
 * latest while it runs. Two statements: the generation must be read after the lock is granted
 * (each statement reads its own snapshot), and one round trip carries both.
 */
export async function lockAdvisoriesShared(client: pg.PoolClient): Promise<number> {
  const results = (await client.query(`SELECT pg_advisory_xact_lock_shared(${ADVISORY_LOCK_KEY}); ${GENERATION_QUERY}`)) as unknown as Array<pg.QueryResult<{ generation: string }>>;
  return Number(results[1]!.rows[0]!.generation);
}

/** Waits for the check-ins and imports in flight (in every process) and holds off new ones until this transaction ends; returns the generation committed so far. */
export async function lockAdvisoriesExclusive(client: pg.PoolClient): Promise<number> {
  const results = (await client.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY}); ${GENERATION_QUERY}`)) as unknown as Array<pg.QueryResult<{ generation: string }>>;
  return Number(results[1]!.rows[0]!.generation);
}

const GENERATION_QUERY = 'SELECT coalesce(max(generation), 0) AS generation FROM advisories';

/** `modified` of every stored advisory, so an import can skip what did not change. */
export async function loadModifiedTimes(db: Queryable): Promise<Map<string, Date>> {
  const result = await db.query<{ id: string; modified: Date }>('SELECT id, modified FROM advisories');
  return new Map(result.rows.map((row) => [row.id, row.modified]));
}

/** Inserts or replaces advisories as written by import `generation`; returns their keys in input order. */
export async function upsertAdvisories(db: Queryable, advisories: Advisory[], source: string, generation: number): Promise<number[]> {
  const keys: number[] = [];
  for (let start = 0; start < advisories.length; start += UPSERT_BATCH) {
    const batch = advisories.slice(start, start + UPSERT_BATCH);
    const rows = batch.map((advisory) => ({
      id: advisory.id,
      modified: advisory.modified.toISOString(),
      published: advisory.published?.toISOString() ?? null,
      withdrawn: advisory.withdrawn?.toISOString() ?? null,
      aliases: advisory.aliases,
      related: advisory.related,
      summary: advisory.summary ?? null,
      severity: advisory.severity,
      cvss_score: Math.max(-1, ...advisory.cvss.map((score) => score.baseScore ?? -1)),
      document: advisory,
    }));
    const result = await db.query<{ key: number; id: string }>(
      `INSERT INTO advisories (id, modified, published, withdrawn, aliases, related, summary, severity, cvss_score, source, document, generation)
       SELECT r.id, r.modified, r.published, r.withdrawn,
              ARRAY(SELECT jsonb_array_elements_text(r.aliases)), ARRAY(SELECT jsonb_array_elements_text(r.related)), r.summary, r.severity,
              NULLIF(r.cvss_score, -1), $2, r.document, $3
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, modified timestamptz, published timestamptz,
              withdrawn timestamptz, aliases jsonb, related jsonb, summary text, severity text, cvss_score real, document jsonb)
       ON CONFLICT (id) DO UPDATE SET
         modified = excluded.modified, published = excluded.published, withdrawn = excluded.withdrawn,
         aliases = excluded.aliases, related = excluded.related, summary = excluded.summary, severity = excluded.severity,
         cvss_score = excluded.cvss_score, source = excluded.source, document = excluded.document,
         generation = excluded.generation, imported_at = now()
       RETURNING key, id`,
      [JSON.stringify(rows), source, generation],
    );
    const keyById = new Map(result.rows.map((row) => [row.id, row.key]));
    keys.push(...batch.map((advisory) => keyById.get(advisory.id)!));
  }
  return keys;
}

/**
 * Every stored advisory written after generation `after` (all of them by default), withdrawn ones
 * included (the index drops those itself). One statement, so what it returns is one committed state.
 */
export async function loadAdvisories(db: Queryable, after = -1): Promise<StoredAdvisory[]> {
  const result = await db.query<{ key: number; document: AdvisoryDocument; generation: string }>(
    'SELECT key, document, generation FROM advisories WHERE generation > $1 ORDER BY key',
    [after],
  );
  return result.rows.map((row) => ({ key: row.key, advisory: reviveAdvisory(row.document), generation: Number(row.generation) }));
}

type AdvisoryDocument = Omit<Advisory, 'modified' | 'published' | 'withdrawn'> & {
  modified: string;
  published?: string;
  withdrawn?: string;
};

function reviveAdvisory(document: AdvisoryDocument): Advisory {
  const { modified, published, withdrawn, ...rest } = document;
  const advisory: Advisory = { ...rest, modified: new Date(modified) };
  if (published !== undefined) advisory.published = new Date(published);
  if (withdrawn !== undefined) advisory.withdrawn = new Date(withdrawn);
  return advisory;
}

/** Replaces the KEV catalogue with a new one (the catalogue is always published whole). */
export async function replaceKevCatalogue(db: Queryable, entries: KevEntry[]): Promise<void> {
  await db.query('DELETE FROM kev_entries');
  await db.query(
    `INSERT INTO kev_entries (cve_id, date_added, due_date, ransomware_use, vendor_project, product)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(cve_id text, date_added date, due_date date,
            ransomware_use boolean, vendor_project text, product text)
     ON CONFLICT (cve_id) DO NOTHING`,
    [JSON.stringify(entries.map((entry) => ({
      cve_id: entry.cveId,
      date_added: entry.dateAdded,
      due_date: entry.dueDate ?? null,
      ransomware_use: entry.knownRansomwareCampaignUse,
      vendor_project: entry.vendorProject ?? null,
      product: entry.product ?? null,
    })))],
  );
}

/** Replaces all EPSS scores with one day's published file. */
export async function replaceEpssScores(db: Queryable, scores: EpssScore[], scoreDate?: string): Promise<void> {
  await db.query('DELETE FROM epss_scores');
  await db.query(
    `INSERT INTO epss_scores (cve_id, epss, percentile, score_date)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(cve_id text, epss real, percentile real, score_date date)
     ON CONFLICT (cve_id) DO NOTHING`,
    [JSON.stringify(scores.map((score) => ({ cve_id: score.cveId, epss: score.epss, percentile: score.percentile, score_date: scoreDate ?? null })))],
  );
}

export async function loadFeedState(db: Queryable, location: string): Promise<Record<string, unknown> | undefined> {
  const result = await db.query<{ state: Record<string, unknown> }>('SELECT state FROM feed_state WHERE location = $1', [location]);
  return result.rows[0]?.state;
}

export async function saveFeedState(db: Queryable, location: string, state: Record<string, unknown>): Promise<void> {
  await db.query(
    `INSERT INTO feed_state (location, state, synced_at) VALUES ($1, $2, now())
     ON CONFLICT (location) DO UPDATE SET state = excluded.state, synced_at = now()`,
    [location, JSON.stringify(state)],
  );
}
