// RFC 6962 hashing and proofs, against the Certificate Transparency reference vectors (data only,
// as published with transparency-dev/merkle's testonly constants) and by exhaustive small trees.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesOfHex, hexOf, MerkleTree, rfc6962Hasher, verifyConsistency, verifyInclusion } from './merkle.js';

const hasher = rfc6962Hasher((data) => createHash('sha256').update(data).digest());
const hex = (text: string) => bytesOfHex(text)!;

const ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const leaves = ENTRIES.map((entry) => hasher.leaf(entry));
const tree = new MerkleTree(hasher, leaves);

describe('RFC 6962 Merkle tree', () => {
  it('hashes the empty tree, leaves and nodes with the RFC prefixes', () => {
    expect(hexOf(hasher.emptyRoot)).toBe(ROOTS[0]);
    expect(hexOf(hasher.leaf(new Uint8Array(0)))).toBe(createHash('sha256').update(Uint8Array.of(0)).digest('hex'));
    expect(hexOf(hasher.node(leaves[0]!, leaves[1]!))).toBe(ROOTS[2]);
  });

  it('gives the reference tree head for every size 0..8', () => {
    for (let size = 0; size <= 8; size++) expect(hexOf(tree.root(size)), `size ${size}`).toBe(ROOTS[size]);
    for (let size = 0; size <= 8; size++) expect(hexOf(new MerkleTree(hasher, leaves.slice(0, size)).root())).toBe(ROOTS[size]);
  });

  it('gives the reference inclusion proofs', () => {
    expect(tree.inclusionProof(0, 8).map(hexOf)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(tree.inclusionProof(5, 8).map(hexOf)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
  });

  it('gives the reference consistency proofs', () => {
    expect(tree.consistencyProof(2, 8).map(hexOf)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(tree.consistencyProof(6, 8).map(hexOf)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(tree.consistencyProof(2, 5).map(hexOf)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
    expect(verifyConsistency(hasher, 6, 8, hex(ROOTS[6]!), hex(ROOTS[8]!), tree.consistencyProof(6, 8))).toBe(true);
  });

  // Every shape of the recursion up to 40 leaves: the proofs verify, and nothing tampered does.
  const many = Array.from({ length: 40 }, (_, index) => hasher.leaf(Uint8Array.of(index, index * 7 % 256)));
  const big = new MerkleTree(hasher, many);
  const flip = (proof: Uint8Array[], at: number) => proof.map((hash, index) => (index === at ? Uint8Array.from(hash, (byte, position) => (position === 0 ? byte ^ 1 : byte)) : hash));

  it('verifies every inclusion proof of every size and rejects altered ones', () => {
    for (let size = 1; size <= many.length; size++) {
      const root = big.root(size);
      for (let index = 0; index < size; index++) {
        const proof = big.inclusionProof(index, size);
        expect(verifyInclusion(hasher, index, size, many[index]!, proof, root)).toBe(true);
        expect(verifyInclusion(hasher, index, size, many[(index + 1) % many.length]!, proof, root)).toBe(false);
        if (proof.length > 0) {
          expect(verifyInclusion(hasher, index, size, many[index]!, flip(proof, proof.length - 1), root)).toBe(false);
          expect(verifyInclusion(hasher, index, size, many[index]!, proof.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(hasher, index, size, many[index]!, [...proof, root], root)).toBe(false);
      }
    }
  });

  it('verifies every consistency proof between sizes and rejects altered ones', () => {
    for (let newSize = 0; newSize <= many.length; newSize++) {
      for (let oldSize = 0; oldSize <= newSize; oldSize++) {
        const proof = big.consistencyProof(oldSize, newSize);
        const [oldRoot, newRoot] = [big.root(oldSize), big.root(newSize)];
        expect(verifyConsistency(hasher, oldSize, newSize, oldRoot, newRoot, proof), `${oldSize} → ${newSize}`).toBe(true);
        if (oldSize === 0 || oldSize === newSize) continue;
        expect(verifyConsistency(hasher, oldSize, newSize, oldRoot, newRoot, flip(proof, 0))).toBe(false);
        expect(verifyConsistency(hasher, oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(hasher, oldSize, newSize, oldRoot, newRoot, [...proof, newRoot])).toBe(false);
        // A different old tree (one leaf changed) is not a prefix of the new one.
        const forged = new MerkleTree(hasher, [hasher.leaf(Uint8Array.of(255, 255)), ...many.slice(1, oldSize)]).root();
        expect(verifyConsistency(hasher, oldSize, newSize, forged, newRoot, proof)).toBe(false);
      }
    }
    expect(verifyConsistency(hasher, 5, 4, big.root(4), big.root(4), [])).toBe(false);
  });

  it('refuses proofs for sizes the tree does not have', () => {
    expect(() => tree.root(9)).toThrow(RangeError);
    expect(() => tree.inclusionProof(8, 8)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 3)).toThrow(RangeError);
  });
});
