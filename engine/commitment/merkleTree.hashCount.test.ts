import fc from 'fast-check'
import { beforeEach, describe, expect, it, vi } from 'vitest'

// Counts the pairs the tree hashes, to check that root() does only the work of the dirty paths.
const counter = vi.hoisted(() => ({ pairs: 0 }))
vi.mock('./keccak256.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('./keccak256.ts')>()
  return {
    ...original,
    keccak256PairsInto: (
      src: Uint8Array,
      srcOffset: number,
      count: number,
      dst: Uint8Array,
      dstOffset: number,
    ) => {
      counter.pairs += count
      original.keccak256PairsInto(src, srcOffset, count, dst, dstOffset)
    },
  }
})

const { IncrementalMerkleTree } = await import('./merkleTree.ts')
const { refRoot } = await import('./vectors/reference.ts')

describe('IncrementalMerkleTree work per root', () => {
  beforeEach(() => {
    counter.pairs = 0
  })

  it('hashes each distinct dirty ancestor exactly once', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(1023), { minLength: 1, maxLength: 60 }),
        fc.nat(255),
        fc.constantFrom(2, 16, 2 ** 15),
        (touched, fill, pageNodes) => {
          const depth = 12
          const tree = new IncrementalMerkleTree(depth, 0, pageNodes)
          const leaves = new Map<number, Uint8Array>()
          for (let i = 0; i < 1024; i++) {
            const leaf = new Uint8Array(32).fill(i % 256)
            tree.setLeaf(i, leaf)
            leaves.set(i, leaf)
          }
          tree.root()
          counter.pairs = 0
          // Each index twice: a repeated setLeaf must not add work.
          for (const i of [...touched, ...touched]) {
            const leaf = new Uint8Array(32).fill(fill)
            tree.setLeaf(i, leaf)
            leaves.set(i, leaf)
          }
          const root = tree.root()
          const ancestors = new Set<string>()
          for (const i of touched) for (let l = 1; l <= depth; l++) ancestors.add(`${l}:${i >> l}`)
          expect(counter.pairs).toBe(ancestors.size)
          expect(root).toEqual(refRoot(depth, leaves))
          counter.pairs = 0
          tree.root()
          expect(counter.pairs).toBe(0)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('hashes every used node once when most leaves changed', () => {
    const depth = 20
    const tree = new IncrementalMerkleTree(depth)
    const n = 1000
    for (let i = 0; i < n; i++) tree.setLeaf(i, new Uint8Array(32).fill(i % 256))
    tree.root()
    let expected = 0
    for (let w = n, l = 0; l < depth; l++) {
      w = Math.ceil(w / 2)
      expected += w
    }
    expect(counter.pairs).toBe(expected)
  })
})
