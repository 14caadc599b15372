/**
 * Signed checkpoints of the audit log and its verification. The signing key (Ed25519) is made on
 * first use in `<home>/audit/signing-key.pem` (0600) with its public half beside it; checkpoints
 * are recorded in `audit_checkpoints` and then written to `<home>/audit/checkpoints/` — outside
 * the database, so a superuser who rewrites the table cannot rewrite them. Copying that directory
 * and the public key elsewhere (object storage with retention) makes that hold against whoever
 * controls this machine too.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { CHECKPOINT_ORIGIN, checkpointFileName, checkpointSignedText, signedCheckpointSchema, type SignedCheckpoint } from '../domain/audit/checkpoint.js';
import { InputError } from '../domain/errors.js';
import { equalBytes, hexOf, MerkleTree, verifyConsistency, bytesOfHex } from '../domain/audit/merkle.js';
import { verifyAuditRows, type AuditVerification, type CheckpointClaim } from '../domain/audit/verification.js';
import { auditHasher, auditHeadSize, readAuditRows } from './audit-log.js';
import { ensurePrivateHome } from './fleetpatch-home.js';
import { withTransaction } from './transaction.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Serialises checkpoint creation across processes ("fpac"), so one key never signs two heads of one size. */
const CHECKPOINT_LOCK_KEY = 0x66706163;

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export interface AuditPaths {
  directory: string;
  privateKey: string;
  publicKey: string;
  checkpoints: string;
}

/**
 * Where the audit files of a home live.
 *
 * @example auditPaths('/var/lib/fleetpatch').checkpoints // '/var/lib/fleetpatch/audit/checkpoints'
 */
export function auditPaths(home: string): AuditPaths {
  const directory = join(home, 'audit');
  return { directory, privateKey: join(directory, 'signing-key.pem'), publicKey: join(directory, 'signing-key.pub.pem'), checkpoints: join(directory, 'checkpoints') };
}

/**
 * The first 16 hex digits of SHA-256 over the key's SPKI DER: names the key in checkpoints.
 *
 * @example keyIdOf(publicKey) // '3f2a9c0d1e4b5a67'
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * The home's signing key, generated on first use. Two processes starting at once agree on one key:
 * it is written to a temporary file and linked into place, which fails if the other got there first.
 *
 * @example loadOrCreateSigningKey('/var/lib/fleetpatch').keyId // '3f2a9c0d1e4b5a67'
 */
export function loadOrCreateSigningKey(home: string): AuditSigningKey {
  const paths = auditPaths(home);
  if (!existsSync(paths.privateKey)) {
    ensurePrivateHome(home);
    mkdirSync(paths.directory, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ed25519');
    const temporary = `${paths.privateKey}.${process.pid}.tmp`;
    writeFileSync(temporary, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      linkSync(temporary, paths.privateKey);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  // Also tightens a key file whose mode was loosened (a copy, a restore from backup).
  chmodSync(paths.privateKey, 0o600);
  const privateKey = createPrivateKey(readFileSync(paths.privateKey));
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(paths.publicKey) || readFileSync(paths.publicKey, 'utf8') !== publicPem) writeAtomically(paths.publicKey, publicPem, 0o644);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * Reads a public key file (PEM, SPKI), e.g. a copy an auditor keeps.
 *
 * @example readPublicKey('/srv/audit/signing-key.pub.pem').keyId // '3f2a9c0d1e4b5a67'
 */
export function readPublicKey(file: string): { publicKey: KeyObject; keyId: string } {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(readFileSync(file));
  } catch (error) {
    throw new InputError(`cannot read a public key: ${(error as Error).message}`, { file }, 'pass the signing-key.pub.pem of the fleetpatch home');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new InputError(`not an Ed25519 key but ${publicKey.asymmetricKeyType ?? 'unknown'}`, { file });
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/** The log failed a check that must hold before it is signed; nothing was signed. */
export class AuditLogTampered extends Error {
  override readonly name = 'AuditLogTampered';
}

export interface CheckpointResult {
  checkpoint: SignedCheckpoint;
  /** False when this key had already signed the current size (no new entries). */
  created: boolean;
  file: string;
}

/**
 * Signs the log's current head, records it in the database, then writes its file (state before
 * side effects: a file never names a checkpoint the database lacks). Refuses to sign — throws
 * `AuditLogTampered` — a log whose entries do not match their hashes or that is not an extension
 * of this home's latest checkpoint file: a log must never sign a head inconsistent with its past.
 * Undefined for an empty log.
 *
 * @example await createCheckpoint(pool, '/var/lib/fleetpatch') // { checkpoint: { treeSize: 42, … }, created: true, file: '…/000000000042.json' }
 */
export async function createCheckpoint(pool: pg.Pool, home: string, now: () => Date = () => new Date()): Promise<CheckpointResult | undefined> {
  const key = loadOrCreateSigningKey(home);
  const paths = auditPaths(home);
  const result = await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHECKPOINT_LOCK_KEY]);
    const rows = await readAuditRows(client);
    if (rows.length === 0) return undefined;
    const encoder = new TextEncoder();
    const leaves = rows.map((row, index) => {
      if (row.seq !== index + 1) throw new AuditLogTampered(`not signing: entry ${index + 1} is missing from the audit log`);
      const leaf = auditHasher.leaf(encoder.encode(row.entry));
      if (!equalBytes(leaf, row.leafHash)) throw new AuditLogTampered(`not signing: entry ${row.seq} does not match its leaf hash`);
      return leaf;
    });
    const tree = new MerkleTree(auditHasher, leaves);
    const root = tree.root();
    const latest = latestTrustedFile(paths.checkpoints, key);
    if (latest) {
      const claimed = bytesOfHex(latest.rootHash)!;
      if (latest.treeSize > tree.size || !verifyConsistency(auditHasher, latest.treeSize, tree.size, claimed, root, tree.consistencyProof(latest.treeSize))) {
        throw new AuditLogTampered(`not signing: the log is not an extension of checkpoint ${checkpointFileName(latest.treeSize)} (run fleetpatch audit verify)`);
      }
    }
    const existing = (await client.query<{ root_hash: Buffer; signed_at: Date; signature: Buffer }>(
      'SELECT root_hash, signed_at, signature FROM audit_checkpoints WHERE tree_size = $1 AND key_id = $2',
      [tree.size, key.keyId],
    )).rows[0];
    if (existing) {
      return { created: false, checkpoint: { origin: CHECKPOINT_ORIGIN, treeSize: tree.size, rootHash: hexOf(existing.root_hash), signedAt: existing.signed_at.toISOString(), keyId: key.keyId, signature: existing.signature.toString('base64') } };
    }
    const body = { origin: CHECKPOINT_ORIGIN, treeSize: tree.size, rootHash: hexOf(root), signedAt: now().toISOString() };
    const signature = sign(null, Buffer.from(checkpointSignedText(body)), key.privateKey);
    await client.query('INSERT INTO audit_checkpoints (tree_size, key_id, root_hash, signed_at, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)', [
      tree.size,
      key.keyId,
      Buffer.from(root),
      body.signedAt,
      key.publicKey.export({ type: 'spki', format: 'der' }),
      signature,
    ]);
    return { created: true, checkpoint: { ...body, keyId: key.keyId, signature: signature.toString('base64') } };
  });
  if (!result) return undefined;
  const file = join(paths.checkpoints, checkpointFileName(result.checkpoint.treeSize));
  // Also rewrites a file lost after an earlier commit (a crash between the two).
  if (!existsSync(file)) {
    mkdirSync(paths.checkpoints, { recursive: true, mode: 0o700 });
    writeAtomically(file, `${JSON.stringify(result.checkpoint, null, 2)}\n`, 0o644);
  }
  return { ...result, file };
}

/** A checkpoint file read back: the checkpoint, or why it could not be read. */
export interface CheckpointFile {
  file: string;
  checkpoint?: SignedCheckpoint;
  problem?: string;
}

/**
 * Every `*.json` in a checkpoints directory, in name order (missing directory: none).
 *
 * @example readCheckpointFiles('/var/lib/fleetpatch/audit/checkpoints') // [{ file: '000000000042.json', checkpoint: { … } }]
 */
export function readCheckpointFiles(directory: string): CheckpointFile[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      try {
        const parsed = signedCheckpointSchema.safeParse(JSON.parse(readFileSync(join(directory, file), 'utf8')));
        return parsed.success ? { file, checkpoint: parsed.data } : { file, problem: `not a checkpoint (${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')})` };
      } catch (error) {
        return { file, problem: `unreadable (${(error as Error).message})` };
      }
    });
}

/**
 * Why `checkpoint` does not verify under `publicKey`, or undefined when it does.
 *
 * @example checkpointSignatureProblem(checkpoint, key.publicKey, key.keyId) // undefined
 */
export function checkpointSignatureProblem(checkpoint: SignedCheckpoint, publicKey: KeyObject, keyId: string): string | undefined {
  if (checkpoint.keyId !== keyId) return `signed by key ${checkpoint.keyId}, not the trusted key ${keyId}`;
  const signed = Buffer.from(checkpointSignedText(checkpoint));
  return verify(null, signed, publicKey, Buffer.from(checkpoint.signature, 'base64')) ? undefined : 'its signature does not verify (the checkpoint was altered or forged)';
}

export interface AuditVerifyOptions {
  home: string;
  /** Default `<home>/audit/checkpoints`; point it at the copy kept elsewhere. */
  checkpointsDirectory?: string;
  /** Default `<home>/audit/signing-key.pub.pem`. */
  publicKeyFile?: string;
}

export interface AuditVerifyReport extends AuditVerification {
  trustedKeyId?: string;
  checkpointsDirectory: string;
}

/**
 * `fleetpatch audit verify`: the rows, the head, the checkpoint files (under the trusted key) and
 * the checkpoints recorded in the database (under the key recorded beside each, which proves only
 * that some key signed it; the files are what a superuser cannot rewrite).
 *
 * @example (await verifyAuditLog(pool, { home })).ok // true on an untouched log
 */
export async function verifyAuditLog(db: Queryable, options: AuditVerifyOptions): Promise<AuditVerifyReport> {
  const paths = auditPaths(options.home);
  const checkpointsDirectory = options.checkpointsDirectory ?? paths.checkpoints;
  const publicKeyFile = options.publicKeyFile ?? paths.publicKey;
  const trusted = options.publicKeyFile !== undefined || existsSync(publicKeyFile) ? readPublicKey(publicKeyFile) : undefined;
  const claims: CheckpointClaim[] = [];
  for (const file of readCheckpointFiles(checkpointsDirectory)) {
    const source = `file ${file.file}`;
    if (!file.checkpoint) {
      claims.push({ source, treeSize: 0, rootHash: '', signatureProblem: file.problem ?? 'unreadable', outsideDatabase: true });
      continue;
    }
    const signatureProblem = trusted ? checkpointSignatureProblem(file.checkpoint, trusted.publicKey, trusted.keyId) : `no public key to check it with (${publicKeyFile} is missing)`;
    claims.push({ source, treeSize: file.checkpoint.treeSize, rootHash: file.checkpoint.rootHash, outsideDatabase: true, ...(signatureProblem ? { signatureProblem } : {}) });
  }
  const recorded = await db.query<{ tree_size: string; key_id: string; root_hash: Buffer; signed_at: Date; public_key: Buffer; signature: Buffer }>(
    'SELECT tree_size, key_id, root_hash, signed_at, public_key, signature FROM audit_checkpoints ORDER BY tree_size, key_id',
  );
  for (const row of recorded.rows) {
    const checkpoint: SignedCheckpoint = { origin: CHECKPOINT_ORIGIN, treeSize: Number(row.tree_size), rootHash: hexOf(row.root_hash), signedAt: row.signed_at.toISOString(), keyId: row.key_id, signature: row.signature.toString('base64') };
    let signatureProblem: string | undefined;
    try {
      const publicKey = createPublicKey({ key: row.public_key, format: 'der', type: 'spki' });
      signatureProblem = checkpointSignatureProblem(checkpoint, publicKey, keyIdOf(publicKey));
    } catch (error) {
      signatureProblem = `its recorded public key is unreadable (${(error as Error).message})`;
    }
    claims.push({ source: `database, key ${row.key_id}`, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, outsideDatabase: false, ...(signatureProblem ? { signatureProblem } : {}) });
  }
  const rows = await readAuditRows(db);
  const headSize = await auditHeadSize(db);
  return { ...verifyAuditRows(auditHasher, rows, headSize, claims), checkpointsDirectory, ...(trusted ? { trustedKeyId: trusted.keyId } : {}) };
}

export interface CheckpointScheduleOptions {
  home: string;
  /** Sign when this long has passed since the last checkpoint and entries were added; default 15 minutes. */
  everyMs?: number;
  /** Sign when this many entries were added since the last checkpoint; default 1000. */
  everyEntries?: number;
  /** How often the head is looked at; default 30 seconds. */
  pollMs?: number;
  log: (message: string) => void;
}

export interface CheckpointSchedule {
  /** Signs the current head now (on demand); undefined for an empty log. */
  checkpointNow(): Promise<CheckpointResult | undefined>;
  stop(): Promise<void>;
}

/**
 * What the server runs: a checkpoint whenever `everyEntries` entries were added or `everyMs` passed
 * with entries added. One check at a time; a failure is logged and retried at the next poll.
 *
 * @example const checkpoints = scheduleCheckpoints(pool, { home, log: console.log }); … await checkpoints.stop();
 */
export function scheduleCheckpoints(pool: pg.Pool, options: CheckpointScheduleOptions): CheckpointSchedule {
  const everyMs = options.everyMs ?? 15 * 60_000;
  const everyEntries = options.everyEntries ?? 1000;
  let last: { size: number; at: number } | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work);
    running = next.catch(() => undefined);
    return next;
  };
  const checkpointNow = () => serialised(async () => {
    const result = await createCheckpoint(pool, options.home);
    if (result) last = { size: result.checkpoint.treeSize, at: Date.now() };
    if (result?.created) options.log(`audit checkpoint ${result.checkpoint.treeSize} signed: ${result.file}`);
    return result;
  });
  const poll = () => serialised(async () => {
    const size = await auditHeadSize(pool);
    if (!last) {
      const key = loadOrCreateSigningKey(options.home);
      const latest = (await pool.query<{ tree_size: string; signed_at: Date }>('SELECT tree_size, signed_at FROM audit_checkpoints WHERE key_id = $1 ORDER BY tree_size DESC LIMIT 1', [key.keyId])).rows[0];
      last = latest ? { size: Number(latest.tree_size), at: latest.signed_at.getTime() } : { size: 0, at: 0 };
    }
    return size > last.size && (size - last.size >= everyEntries || Date.now() - last.at >= everyMs);
  }).then(async (due) => {
    if (due) await checkpointNow();
  }).catch((error: unknown) => options.log(`audit checkpoint failed: ${error instanceof Error ? error.message : String(error)}`));
  const timer = setInterval(() => void poll(), options.pollMs ?? 30_000);
  timer.unref();
  return {
    checkpointNow,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

function latestTrustedFile(directory: string, key: AuditSigningKey): SignedCheckpoint | undefined {
  const good = readCheckpointFiles(directory)
    .map((file) => file.checkpoint)
    .filter((checkpoint): checkpoint is SignedCheckpoint => checkpoint !== undefined && checkpointSignatureProblem(checkpoint, key.publicKey, key.keyId) === undefined);
  return good.sort((left, right) => left.treeSize - right.treeSize).at(-1);
}

/** Temporary file and rename: a reader never sees half a file. */
function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  renameSync(temporary, file);
}
