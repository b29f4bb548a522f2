import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { IncrementalMerkleTree } from './merkleTree.ts'
import { refProof, refRoot, refZeroHashes } from './vectors/reference.ts'
import { MAX_TREE_DEPTH, zeroHash } from './zeroHashes.ts'

const arbLeaf = fc.uint8Array({ minLength: 32, maxLength: 32 })

type Op = { kind: 'set'; index: number; leaf: Uint8Array } | { kind: 'root' }

/** A depth, a storage page size, and a sequence of setLeaf/root operations on a tree of that depth. */
const arbScript = fc.integer({ min: 1, max: 8 }).chain((depth) =>
  fc.record({
    depth: fc.constant(depth),
    // Tiny pages put most trees across many pages; 2^15 is the default.
    pageNodes: fc.constantFrom(2, 4, 8, 32, 2 ** 15),
    ops: fc.array(
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            kind: fc.constant('set' as const),
            index: fc.nat(2 ** depth - 1),
            leaf: arbLeaf,
          }),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'root' as const }) },
      ),
      { maxLength: 80 },
    ),
  }),
)

function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice()
  copy[at % 32] = copy[at % 32]! ^ 0x01
  return copy
}

describe('zeroHash', () => {
  it('chains from 32 zero bytes, and level 1 is the published keccak256 of 64 zero bytes', () => {
    const ref = refZeroHashes(MAX_TREE_DEPTH)
    for (let l = 0; l <= MAX_TREE_DEPTH; l++) expect(zeroHash(l)).toEqual(ref[l])
    expect(bytesToHex(zeroHash(1))).toBe('0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5')
    expect(() => zeroHash(MAX_TREE_DEPTH + 1)).toThrow()
    expect(() => zeroHash(-1)).toThrow()
  })

  it('returns copies that callers may not use to corrupt the table', () => {
    zeroHash(3).fill(1)
    expect(zeroHash(3)).toEqual(refZeroHashes(3)[3])
  })
})

describe('IncrementalMerkleTree', () => {
  it('has the zero hash of its depth as the root of an empty tree', () => {
    for (const depth of [1, 2, 16, 24, MAX_TREE_DEPTH]) {
      const tree = new IncrementalMerkleTree(depth)
      expect(tree.root()).toEqual(zeroHash(depth))
      expect(tree.leafCount).toBe(0)
    }
  })

  it('after any sequence of setLeaf calls, has the root a from-scratch tree has', () => {
    fc.assert(
      fc.property(arbScript, ({ depth, pageNodes, ops }) => {
        const tree = new IncrementalMerkleTree(depth, 0, pageNodes)
        const leaves = new Map<number, Uint8Array>()
        for (const op of [...ops, { kind: 'root' } as Op]) {
          if (op.kind === 'set') {
            tree.setLeaf(op.index, op.leaf)
            leaves.set(op.index, op.leaf)
          } else {
            expect(tree.root()).toEqual(refRoot(depth, leaves))
          }
        }
        const highest = Math.max(-1, ...leaves.keys())
        expect(tree.leafCount).toBe(highest + 1)
      }),
      { numRuns: 300 },
    )
  })

  it('gives proofs that equal the reference, verify, and fail once tampered with', () => {
    fc.assert(
      fc.property(arbScript, fc.nat(), fc.nat(), ({ depth, ops }, pick, tamper) => {
        const tree = new IncrementalMerkleTree(depth)
        const leaves = new Map<number, Uint8Array>()
        for (const op of ops) {
          if (op.kind === 'set') {
            tree.setLeaf(op.index, op.leaf)
            leaves.set(op.index, op.leaf)
          }
        }
        const root = tree.root()
        // Any index proves, including empty ones (their leaf is 32 zero bytes).
        const index = pick % 2 ** depth
        const leaf = leaves.get(index) ?? new Uint8Array(32)
        const proof = tree.proof(index)
        expect(proof).toHaveLength(depth)
        expect(proof).toEqual(refProof(depth, leaves, index))
        expect(IncrementalMerkleTree.verifyProof(leaf, index, proof, root)).toBe(true)

        const level = tamper % depth
        const tampered = proof.map((s, l) => (l === level ? flipByte(s, tamper) : s))
        expect(IncrementalMerkleTree.verifyProof(leaf, index, tampered, root)).toBe(false)
        expect(IncrementalMerkleTree.verifyProof(flipByte(leaf, tamper), index, proof, root)).toBe(false)
        // The wrong position swaps left and right at height 0, which matters unless both are equal.
        if (bytesToHex(proof[0]!) !== bytesToHex(leaf)) {
          expect(IncrementalMerkleTree.verifyProof(leaf, index ^ 1, proof, root)).toBe(false)
        }
        expect(IncrementalMerkleTree.verifyProof(leaf, index, proof, flipByte(root, tamper))).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it.each([2 ** 15, 8])(
    'recomputes shared ancestors when dirty paths overlap (sparse path, pages of %i)',
    (pageNodes) => {
      const depth = 10
      const tree = new IncrementalMerkleTree(depth, 0, pageNodes)
      const leaves = new Map<number, Uint8Array>()
      for (let i = 0; i < 600; i++) {
        const leaf = new Uint8Array(32).fill(i & 0xff)
        leaf[0] = i >> 8
        tree.setLeaf(i, leaf)
        leaves.set(i, leaf)
      }
      expect(tree.root()).toEqual(refRoot(depth, leaves))
      // Siblings, cousins, the same leaf twice and a far one: few enough for per-path rehashing.
      for (const [i, fill] of [
        [4, 1],
        [5, 2],
        [6, 3],
        [5, 4],
        [511, 5],
        [512, 6],
        [599, 7],
      ] as const) {
        const leaf = new Uint8Array(32).fill(fill)
        tree.setLeaf(i, leaf)
        leaves.set(i, leaf)
      }
      expect(tree.root()).toEqual(refRoot(depth, leaves))
      // A second root with nothing changed is the same, and a proof after further changes sees them.
      expect(tree.root()).toEqual(refRoot(depth, leaves))
      const late = new Uint8Array(32).fill(0xab)
      tree.setLeaf(6, late)
      leaves.set(6, late)
      expect(IncrementalMerkleTree.verifyProof(late, 6, tree.proof(6), refRoot(depth, leaves))).toBe(true)
    },
  )

  it('grows from a high first index down, and across many capacity steps and pages', () => {
    const depth = 16
    const tree = new IncrementalMerkleTree(depth, 0, 1024)
    const leaves = new Map<number, Uint8Array>()
    const order = [3000, 0, 1, 2999, 17, 5000, 5001, 40_000]
    for (const i of order) {
      const leaf = new Uint8Array(32).fill((i % 251) + 1)
      tree.setLeaf(i, leaf)
      leaves.set(i, leaf)
      expect(tree.root()).toEqual(refRoot(depth, leaves))
    }
    expect(tree.leafCount).toBe(40_001)
  })

  it('stays under 100 bytes per leaf when filled in order, and near 64 across many pages', () => {
    const leaf = new Uint8Array(32).fill(1)
    const tree = new IncrementalMerkleTree(24)
    for (let i = 0; i < 100_000; i++) tree.setLeaf(i, leaf)
    tree.root()
    expect(tree.byteLength / tree.leafCount).toBeLessThan(100)
    const paged = new IncrementalMerkleTree(24, 0, 4096)
    for (let i = 0; i < 100_000; i++) paged.setLeaf(i, leaf)
    expect(paged.root()).toEqual(tree.root())
    expect(paged.byteLength / paged.leafCount).toBeLessThan(70)
  })

  it('honours a reserved size without changing the root', () => {
    const a = new IncrementalMerkleTree(12, 3000)
    const b = new IncrementalMerkleTree(12)
    for (const i of [0, 7, 2999]) {
      a.setLeaf(i, new Uint8Array(32).fill(i % 256))
      b.setLeaf(i, new Uint8Array(32).fill(i % 256))
    }
    expect(a.root()).toEqual(b.root())
    expect(() => new IncrementalMerkleTree(4, 17)).toThrow(/does not fit/)
    for (const pageNodes of [0, 1, 3, 6, 2 ** 25]) {
      expect(() => new IncrementalMerkleTree(4, 0, pageNodes)).toThrow(/page size/)
    }
  })

  it('treats a leaf set to 32 zero bytes as empty', () => {
    const tree = new IncrementalMerkleTree(5)
    tree.setLeaf(9, new Uint8Array(32).fill(1))
    tree.setLeaf(9, new Uint8Array(32))
    expect(tree.root()).toEqual(zeroHash(5))
  })

  it('copies leaves in and roots and proofs out', () => {
    const tree = new IncrementalMerkleTree(3)
    const leaf = new Uint8Array(32).fill(5)
    tree.setLeaf(2, leaf)
    const root = tree.root()
    leaf.fill(6)
    tree.root().fill(0)
    tree.proof(2)[0]!.fill(0)
    expect(tree.root()).toEqual(root)
    expect(tree.root()).toEqual(refRoot(3, new Map([[2, new Uint8Array(32).fill(5)]])))
  })

  it('rejects bad depths, indices and leaves', () => {
    expect(() => new IncrementalMerkleTree(0)).toThrow(/depth/)
    expect(() => new IncrementalMerkleTree(MAX_TREE_DEPTH + 1)).toThrow(/depth/)
    expect(() => new IncrementalMerkleTree(2.5)).toThrow(/depth/)
    const tree = new IncrementalMerkleTree(4)
    expect(() => tree.setLeaf(16, new Uint8Array(32))).toThrow(/outside/)
    expect(() => tree.setLeaf(-1, new Uint8Array(32))).toThrow(/outside/)
    expect(() => tree.setLeaf(1.5, new Uint8Array(32))).toThrow(/outside/)
    expect(() => tree.setLeaf(1, new Uint8Array(33))).toThrow(/32 bytes/)
    expect(() => tree.proof(16)).toThrow(/outside/)
  })

  it('verifyProof rejects malformed inputs instead of throwing', () => {
    const tree = new IncrementalMerkleTree(4)
    tree.setLeaf(3, new Uint8Array(32).fill(1))
    const root = tree.root()
    const proof = tree.proof(3)
    const leaf = new Uint8Array(32).fill(1)
    expect(IncrementalMerkleTree.verifyProof(leaf, 3, proof, root)).toBe(true)
    expect(IncrementalMerkleTree.verifyProof(leaf, 3 + 16, proof, root)).toBe(false)
    expect(IncrementalMerkleTree.verifyProof(leaf, -1, proof, root)).toBe(false)
    expect(IncrementalMerkleTree.verifyProof(leaf, 3, [], root)).toBe(false)
    expect(IncrementalMerkleTree.verifyProof(leaf, 3, proof.slice(0, 3), root)).toBe(false)
    expect(IncrementalMerkleTree.verifyProof(leaf, 3, [...proof.slice(0, 3), new Uint8Array(31)], root)).toBe(
      false,
    )
    expect(IncrementalMerkleTree.verifyProof(leaf.subarray(1), 3, proof, root)).toBe(false)
  })
})
