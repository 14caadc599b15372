/**
 * Signed checkpoints of the audit log: a tree size, the tree head at that size and a time, signed
 * with the installation's Ed25519 key. A checkpoint kept outside the database is what lets anyone
 * detect that a database superuser rewrote or removed entries it covered.
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/** Names this log in every checkpoint, so a signature over one cannot be replayed for another kind of document. */
export const CHECKPOINT_ORIGIN = 'fleetpatch audit log';

export interface CheckpointBody {
  origin: string;
  treeSize: number;
  /** The RFC 6962 tree head, lower-case hex. */
  rootHash: string;
  /** ISO 8601 UTC. */
  signedAt: string;
}

/** A checkpoint as written to `<home>/audit/checkpoints/NNNNNNNNNNNN.json` and stored in the database. */
export interface SignedCheckpoint extends CheckpointBody {
  /** The first 16 hex digits of SHA-256 over the public key (SPKI DER). */
  keyId: string;
  /** Ed25519 over `checkpointSignedText(body)`, base64. */
  signature: string;
}

export const signedCheckpointSchema = z.strictObject({
  origin: z.literal(CHECKPOINT_ORIGIN),
  treeSize: z.number().int().nonnegative(),
  rootHash: z.string().regex(/^[0-9a-f]{64}$/),
  signedAt: z.iso.datetime({ precision: 3 }),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.base64(),
});

/**
 * The exact text the key signs: the canonical JSON of the body under a fixed `kind`.
 *
 * @example checkpointSignedText({ origin: CHECKPOINT_ORIGIN, treeSize: 0, rootHash: 'e3b0…', signedAt: '2027-01-31T09:00:00.000Z' })
 *   // '{"kind":"fleetpatch-audit-checkpoint","origin":"fleetpatch audit log","rootHash":"e3b0…","signedAt":"…","treeSize":0}'
 */
export function checkpointSignedText(body: CheckpointBody): string {
  return canonicalJson({ kind: 'fleetpatch-audit-checkpoint', origin: body.origin, treeSize: body.treeSize, rootHash: body.rootHash, signedAt: body.signedAt });
}

/**
 * The file name of the checkpoint at `treeSize`: zero-padded, so a directory listing sorts by size.
 *
 * @example checkpointFileName(42) // '000000000042.json'
 */
export function checkpointFileName(treeSize: number): string {
  return `${String(treeSize).padStart(12, '0')}.json`;
}
