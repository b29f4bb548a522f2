import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IncrementalMerkleTree } from './merkleTree.ts'
import { refRoot } from './vectors/reference.ts'

function leafOf(i: number, version = 0): Uint8Array {
  const leaf = new Uint8Array(32)
  new DataView(leaf.buffer).setUint32(0, i)
  new DataView(leaf.buffer).setUint32(4, version)
  leaf[31] = 1
  return leaf
}

describe('IncrementalMerkleTree.setLeaves', () => {
  it('equals setLeaf of each leaf in order, duplicates included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }).chain((depth) =>
          fc.record({
            depth: fc.constant(depth),
            pageNodes: fc.constantFrom(2, 8, 2 ** 15),
            batches: fc.array(fc.array(fc.nat(2 ** depth - 1), { maxLength: 40 }), { maxLength: 4 }),
          }),
        ),
        ({ depth, pageNodes, batches }) => {
          const bulk = new IncrementalMerkleTree(depth, 0, pageNodes)
          const single = new IncrementalMerkleTree(depth, 0, pageNodes)
          const expected = new Map<number, Uint8Array>()
          batches.forEach((indices, b) => {
            const leaves = new Uint8Array(32 * indices.length)
            indices.forEach((index, k) => {
              const leaf = leafOf(index, b * 100 + k)
              leaves.set(leaf, 32 * k)
              single.setLeaf(index, leaf)
              expected.set(index, leaf)
            })
            bulk.setLeaves(Uint32Array.from(indices), indices.length, leaves)
            expect(bulk.root()).toEqual(single.root())
          })
          expect(bulk.root()).toEqual(refRoot(depth, expected))
          expect(bulk.leafCount).toBe(single.leafCount)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('refuses indices outside the tree, too few leaves, and a misaligned leaf buffer', () => {
    const tree = new IncrementalMerkleTree(4)
    expect(() => tree.setLeaves(Uint32Array.of(16), 1, new Uint8Array(32))).toThrow(/outside a tree/)
    expect(() => tree.setLeaves(Uint32Array.of(1, 2), 2, new Uint8Array(32))).toThrow(/count/)
    expect(() => tree.setLeaves(Uint32Array.of(1), 2, new Uint8Array(64))).toThrow(/count/)
    expect(() => tree.setLeaves(Uint32Array.of(1), 1, new Uint8Array(40).subarray(1, 33))).toThrow(/count/)
  })

  it('past the dirty-list limit rehashes everything, then goes back to dirty paths', () => {
    const depth = 18
    const n = 70_000
    const tree = new IncrementalMerkleTree(depth)
    // The reference takes a root every 30,000 leaves, so its dirty list never reaches the limit.
    const reference = new IncrementalMerkleTree(depth)
    const leaves = new Uint8Array(32 * n)
    const indices = new Uint32Array(n)
    for (let i = 0; i < n; i++) {
      indices[i] = i
      leaves.set(leafOf(i), 32 * i)
      reference.setLeaf(i, leafOf(i))
      if (i % 30_000 === 0) reference.root()
    }
    tree.setLeaves(indices, n, leaves)
    // A leaf far past the others after the list was dropped: the full rehash covers the new width.
    tree.setLeaf(200_000, leafOf(200_000))
    reference.setLeaf(200_000, leafOf(200_000))
    expect(tree.root()).toEqual(reference.root())
    for (const i of [5, 69_999, 131_072]) {
      tree.setLeaf(i, leafOf(i, 1))
      reference.setLeaf(i, leafOf(i, 1))
    }
    expect(tree.root()).toEqual(reference.root())
    expect(tree.proof(131_072)).toEqual(reference.proof(131_072))
  })
})
