/**
 * Verification of the audit log as read back from the database: every entry re-parsed and
 * re-hashed, the positions contiguous, the tree rebuilt from the entries' own text, and every
 * checkpoint's signature (checked by the caller, who holds the keys) and consistency with that
 * tree. The first bad entry is named, so an auditor knows where the record stops being trustworthy.
 */
import { parseAuditEntry } from './audit-entry.js';
import { bytesOfHex, equalBytes, hexOf, MerkleTree, verifyConsistency, type MerkleHasher } from './merkle.js';

/** One row of `audit_log` as stored. */
export interface StoredAuditRow {
  seq: number;
  /** The canonical JSON that was hashed. */
  entry: string;
  leafHash: Uint8Array;
  /** The denormalised columns the listing filters on; they must agree with the entry. */
  action: string;
  actor: string;
  recordedAt: Date;
}

/** A checkpoint to hold the log against, from a file or the database. */
export interface CheckpointClaim {
  /** Where it came from, for messages: `file 000000000012.json`, `database`. */
  source: string;
  treeSize: number;
  rootHash: string;
  /** Undefined when the signature verified under a trusted key; otherwise why not. */
  signatureProblem?: string;
  /** Kept outside the database (a file), so a database superuser could not have rewritten it. */
  outsideDatabase: boolean;
}

export interface AuditProblem {
  /** The first entry the problem concerns, when it concerns entries. */
  seq?: number;
  /** The checkpoint's source, when it concerns a checkpoint. */
  checkpoint?: string;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries present. */
  size: number;
  /** The tree head recomputed from the entries' text, hex. */
  rootHash: string;
  checkpointsChecked: number;
  /** The largest tree size a good checkpoint kept outside the database covers; entries after it are not yet anchored. */
  anchoredSize: number;
  /** The first entry that cannot be trusted, if any. */
  firstBadSeq?: number;
  problems: AuditProblem[];
}

/**
 * Verifies `rows` (ordered by seq) against `checkpoints`; `headSize` is the count the append head
 * claims, so entries deleted at the end show even without a checkpoint.
 *
 * @example verifyAuditRows(hasher, rows, rows.length, []) // { ok: true, size: rows.length, … }
 */
export function verifyAuditRows(hasher: MerkleHasher, rows: readonly StoredAuditRow[], headSize: number, checkpoints: readonly CheckpointClaim[]): AuditVerification {
  const problems: AuditProblem[] = [];
  const encoder = new TextEncoder();
  const leaves = rows.map((row, index) => {
    const expected = index + 1;
    if (row.seq !== expected) {
      problems.push({ seq: Math.min(row.seq, expected), message: row.seq > expected ? `entries ${expected}–${row.seq - 1} are missing (the next entry present is ${row.seq})` : `entry ${row.seq} appears twice or out of order` });
    }
    const problem = rowProblem(row);
    if (problem) problems.push({ seq: row.seq, message: `entry ${row.seq}: ${problem}` });
    const leaf = hasher.leaf(encoder.encode(row.entry));
    if (!equalBytes(leaf, row.leafHash)) problems.push({ seq: row.seq, message: `entry ${row.seq}: its leaf hash does not match its text (the entry or its hash was changed after it was written)` });
    return leaf;
  });
  if (headSize !== rows.length) {
    problems.push(headSize > rows.length
      ? { seq: rows.length + 1, message: `${headSize} entries were appended but ${rows.length} are present: entries after ${rows.length} were deleted` }
      : { message: `${rows.length} entries are present but the append head says ${headSize}: entries were inserted around the append lock` });
  }

  const tree = new MerkleTree(hasher, leaves);
  const root = tree.root();
  // goodSize: the largest good checkpoint of any source, which bounds where a change can be.
  let goodSize = 0;
  let anchoredSize = 0;
  const ranges = new Map<AuditProblem, [number, number]>();
  // Smallest first, so a mismatch can be narrowed to the entries after the last good checkpoint.
  for (const checkpoint of [...checkpoints].sort((left, right) => left.treeSize - right.treeSize)) {
    const where = `checkpoint at size ${checkpoint.treeSize} (${checkpoint.source})`;
    if (checkpoint.signatureProblem) {
      problems.push({ checkpoint: checkpoint.source, message: `${where}: ${checkpoint.signatureProblem}` });
      continue;
    }
    if (checkpoint.treeSize > tree.size) {
      problems.push({ checkpoint: checkpoint.source, seq: tree.size + 1, message: `${where}: the log has only ${tree.size} entries: entries ${tree.size + 1}–${checkpoint.treeSize} were removed` });
      continue;
    }
    const claimed = bytesOfHex(checkpoint.rootHash);
    const consistent = claimed !== undefined && verifyConsistency(hasher, checkpoint.treeSize, tree.size, claimed, root, tree.consistencyProof(checkpoint.treeSize));
    if (!consistent) {
      const problem = {
        checkpoint: checkpoint.source,
        seq: goodSize + 1,
        message: `${where}: the log is not an extension of it: an entry between ${goodSize + 1} and ${checkpoint.treeSize} was changed after it was signed`,
      };
      problems.push(problem);
      ranges.set(problem, [goodSize + 1, checkpoint.treeSize]);
      continue;
    }
    goodSize = Math.max(goodSize, checkpoint.treeSize);
    if (checkpoint.outsideDatabase) anchoredSize = Math.max(anchoredSize, checkpoint.treeSize);
  }

  // A checkpoint mismatch only bounds where the change is; an entry found bad inside that range
  // explains it, otherwise the range's first entry is the first that cannot be trusted.
  const definite = problems.filter((problem) => problem.seq !== undefined && !ranges.has(problem)).map((problem) => problem.seq!);
  const unexplained = [...ranges].filter(([, [first, last]]) => !definite.some((seq) => seq >= first && seq <= last)).map(([, [first]]) => first);
  const bad = [...definite, ...unexplained];
  const verification: AuditVerification = { ok: problems.length === 0, size: tree.size, rootHash: hexOf(root), checkpointsChecked: checkpoints.length, anchoredSize, problems };
  if (bad.length > 0) verification.firstBadSeq = bad.reduce((lowest, seq) => Math.min(lowest, seq));
  return verification;
}

function rowProblem(row: StoredAuditRow): string | undefined {
  const parsed = parseAuditEntry(row.entry);
  if ('problem' in parsed) return parsed.problem;
  const { entry } = parsed;
  if (entry.seq !== row.seq) return `its text says it is entry ${entry.seq} (moved)`;
  if (entry.action !== row.action) return `its action column (${row.action}) differs from its text (${entry.action})`;
  if (entry.actor !== row.actor) return `its actor column (${row.actor}) differs from its text (${entry.actor})`;
  if (entry.at !== row.recordedAt.toISOString()) return `its time column (${row.recordedAt.toISOString()}) differs from its text (${entry.at})`;
  return undefined;
}
