/**
 * Bulk-loads rows with PostgreSQL's COPY (text format): the fastest way to write the many rows a
 * fleet-wide evaluation produces.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export type CopyValue = string | number | boolean | null | undefined;

const ROWS_PER_CHUNK = 2_000;

/**
 * @example await copyRows(client, 'staged_findings', ['host_key', 'state'], [[1, 'vulnerable']])
 */
export async function copyRows(client: pg.PoolClient, table: string, columns: string[], rows: Iterable<CopyValue[]>): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(encodeChunks(rows)), stream);
}

function* encodeChunks(rows: Iterable<CopyValue[]>): Generator<string> {
  let chunk = '';
  let count = 0;
  for (const row of rows) {
    chunk += row.map(encodeValue).join('\t') + '\n';
    if (++count === ROWS_PER_CHUNK) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

function encodeValue(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  // COPY text format: backslash escapes for the characters that delimit fields and rows.
  return value.replace(/[\\\t\n\r]/g, (character) => ESCAPES[character]!);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
