/**
 * The RFC 6962 Merkle tree over the audit log: leaf and node hashing with the 0x00/0x01 prefixes
 * (a leaf can never pass for a node), tree heads of any prefix, and inclusion and consistency
 * proofs with their verification (RFC 6962 §2.1, verification as in RFC 9162 §2.1.3–2.1.4).
 * SHA-256 is passed in, because the domain imports no Node built-ins; every caller passes
 * node:crypto's (see `sha256` in src/store/audit-log.ts).
 */

/** SHA-256 of a byte string: 32 bytes out. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** The three hashes RFC 6962 defines, over one SHA-256. */
export interface MerkleHasher {
  /** MTH({}) = SHA-256(""), the head of an empty log. */
  readonly emptyRoot: Uint8Array;
  /** SHA-256(0x00 || entry). */
  leaf(entry: Uint8Array): Uint8Array;
  /** SHA-256(0x01 || left || right). */
  node(left: Uint8Array, right: Uint8Array): Uint8Array;
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/**
 * The RFC 6962 hashes over `sha256`.
 *
 * @example const hasher = rfc6962Hasher((data) => createHash('sha256').update(data).digest());
 */
export function rfc6962Hasher(sha256: Sha256): MerkleHasher {
  return {
    emptyRoot: sha256(new Uint8Array(0)),
    leaf: (entry) => sha256(concatBytes(LEAF_PREFIX, entry)),
    node: (left, right) => sha256(concatBytes(NODE_PREFIX, left, right)),
  };
}

/**
 * A tree over a list of leaf hashes. Every perfect, aligned subtree is hashed once when the tree is
 * built (n − 1 node hashes), so the head of any prefix and any proof cost O(log n) more hashes:
 * `audit verify` checks many checkpoints against one tree without rehashing the log for each.
 *
 * @example new MerkleTree(hasher, leaves).root(5) // the tree head when the log had 5 entries
 */
export class MerkleTree {
  /** levels[h][i] is the hash of the perfect subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: Uint8Array[][];

  constructor(
    private readonly hasher: MerkleHasher,
    leafHashes: readonly Uint8Array[],
  ) {
    this.levels = [leafHashes.slice()];
    for (let below = this.levels[0]!; below.length >= 2; ) {
      const level: Uint8Array[] = [];
      for (let index = 0; index + 1 < below.length; index += 2) level.push(hasher.node(below[index]!, below[index + 1]!));
      this.levels.push(level);
      below = level;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  /**
   * MTH of the first `size` leaves (the whole tree by default).
   *
   * @example tree.root(0) // the empty tree's head, SHA-256("")
   */
  root(size = this.size): Uint8Array {
    this.checkSize(size);
    return size === 0 ? this.hasher.emptyRoot : this.subtree(0, size);
  }

  /**
   * PATH(index, D[0:size]) of RFC 6962 §2.1.1: the sibling hashes from leaf `index` up to the head
   * of the tree of `size` leaves.
   *
   * @example verifyInclusion(hasher, 3, 8, leaves[3], tree.inclusionProof(3, 8), tree.root(8)) // true
   */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
    return this.path(index, 0, size);
  }

  /**
   * PROOF(oldSize, D[0:newSize]) of RFC 6962 §2.1.2: the hashes that prove the tree of `oldSize`
   * leaves is a prefix of the tree of `newSize` leaves. Empty when either size is 0 or they are equal.
   *
   * @example verifyConsistency(hasher, 6, 8, tree.root(6), tree.root(8), tree.consistencyProof(6, 8)) // true
   */
  consistencyProof(oldSize: number, newSize = this.size): Uint8Array[] {
    this.checkSize(newSize);
    if (!Number.isInteger(oldSize) || oldSize < 0 || oldSize > newSize) throw new RangeError(`no consistency proof from ${oldSize} to ${newSize}`);
    if (oldSize === 0 || oldSize === newSize) return [];
    return this.subproof(oldSize, 0, newSize, true);
  }

  private path(index: number, start: number, end: number): Uint8Array[] {
    if (end - start === 1) return [];
    const split = largestPowerOfTwoBelow(end - start);
    return index < split
      ? [...this.path(index, start, start + split), this.subtree(start + split, end)]
      : [...this.path(index - split, start + split, end), this.subtree(start, start + split)];
  }

  private subproof(oldSize: number, start: number, end: number, complete: boolean): Uint8Array[] {
    if (oldSize === end - start) return complete ? [] : [this.subtree(start, end)];
    const split = largestPowerOfTwoBelow(end - start);
    return oldSize <= split
      ? [...this.subproof(oldSize, start, start + split, complete), this.subtree(start + split, end)]
      : [...this.subproof(oldSize - split, start + split, end, false), this.subtree(start, start + split)];
  }

  /** MTH(D[start:end]); the ranges RFC 6962's recursion asks for are always aligned, so cached. */
  private subtree(start: number, end: number): Uint8Array {
    const width = end - start;
    if (isPowerOfTwo(width) && start % width === 0) return this.levels[Math.log2(width)]![start / width]!;
    const split = largestPowerOfTwoBelow(width);
    return this.hasher.node(this.subtree(start, start + split), this.subtree(start + split, end));
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) throw new RangeError(`the tree has ${this.size} leaves, not ${size}`);
  }
}

/**
 * Whether `proof` shows that leaf `index` with hash `leafHash` is in the tree of `size` leaves whose
 * head is `root` (RFC 9162 §2.1.3.2).
 *
 * @example verifyInclusion(hasher, 0, 1, leafHash, [], leafHash) // true: a one-leaf tree's head is its leaf
 */
export function verifyInclusion(hasher: MerkleHasher, index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  // Halving by division, not bit shifts: JavaScript's shifts truncate to 32 bits.
  let node = index;
  let last = size - 1;
  let hash = leafHash;
  for (const sibling of proof) {
    if (last === 0) return false;
    if (node % 2 === 1 || node === last) {
      hash = hasher.node(sibling, hash);
      while (node % 2 === 0 && node !== 0) {
        node /= 2;
        last = Math.floor(last / 2);
      }
    } else {
      hash = hasher.node(hash, sibling);
    }
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  return last === 0 && equalBytes(hash, root);
}

/**
 * Whether `proof` shows that the tree of `oldSize` leaves with head `oldRoot` is a prefix of the
 * tree of `newSize` leaves with head `newRoot` (RFC 9162 §2.1.4.2). A checkpoint passes this
 * against today's log only if none of the entries it covered was changed or removed.
 *
 * @example verifyConsistency(hasher, 6, 8, root6, root8, tree.consistencyProof(6, 8)) // true
 */
export function verifyConsistency(hasher: MerkleHasher, oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === 0) return proof.length === 0 && equalBytes(oldRoot, hasher.emptyRoot);
  if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // When the old tree is a perfect subtree, its head is the proof's implicit first element.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let node = oldSize - 1;
  let last = newSize - 1;
  while (node % 2 === 1) {
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  let oldHash = path[0]!;
  let newHash = path[0]!;
  for (const sibling of path.slice(1)) {
    if (last === 0) return false;
    if (node % 2 === 1 || node === last) {
      oldHash = hasher.node(sibling, oldHash);
      newHash = hasher.node(sibling, newHash);
      while (node % 2 === 0 && node !== 0) {
        node /= 2;
        last = Math.floor(last / 2);
      }
    } else {
      newHash = hasher.node(newHash, sibling);
    }
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  return last === 0 && equalBytes(oldHash, oldRoot) && equalBytes(newHash, newRoot);
}

/**
 * Byte-wise equality (hashes are public, so a constant-time comparison buys nothing here).
 *
 * @example equalBytes(Uint8Array.of(1), Uint8Array.of(1)) // true
 */
export function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

/**
 * Lower-case hex of a byte string, the form hashes are shown and stored in files.
 *
 * @example hexOf(Uint8Array.of(0, 255)) // '00ff'
 */
export function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The bytes of a hex string; undefined unless it is an even number of hex digits.
 *
 * @example bytesOfHex('00ff') // Uint8Array [0, 255]
 */
export function bytesOfHex(text: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) return undefined;
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

function isPowerOfTwo(value: number): boolean {
  return value >= 1 && Number.isInteger(Math.log2(value));
}

/** The k of RFC 6962's split: the largest power of two smaller than `value` (value ≥ 2). */
function largestPowerOfTwoBelow(value: number): number {
  let power = 1;
  while (power * 2 < value) power *= 2;
  return power;
}
