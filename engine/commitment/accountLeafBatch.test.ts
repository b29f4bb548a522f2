import fc from 'fast-check'
import { type Address, bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { accountLeafHash } from './accountLeaf.ts'
import { AccountLeafBatch } from './accountLeafBatch.ts'
import {
  keccak256,
  keccak256AccountLeaves,
  keccak256Twice,
  MAX_ACCOUNT_RECORDS,
  MAX_ACCOUNT_RECORDS_BYTES,
} from './keccak256.ts'
import { IncrementalMerkleTree } from './merkleTree.ts'

const hex = bytesToHex
const DEPTH = 12

interface LeafInput {
  index: number
  address: Address
  equity: bigint
  data: Uint8Array
}

/** The single-leaf path: each leaf hashed on its own and set in call order. */
function singleRoot(inputs: readonly LeafInput[]): string {
  const tree = new IncrementalMerkleTree(DEPTH)
  for (const x of inputs) tree.setLeaf(x.index, accountLeafHash(x.address, x.equity, keccak256(x.data)))
  return hex(tree.root())
}

function batchedRoot(inputs: readonly LeafInput[], maxBatchBytes?: number): string {
  const tree = new IncrementalMerkleTree(DEPTH)
  const batch = new AccountLeafBatch(tree, maxBatchBytes)
  for (const x of inputs) {
    batch.begin(x.index, x.address, x.equity).raw(x.data)
    batch.end()
  }
  batch.flush()
  return hex(tree.root())
}

const addressArb = fc
  .tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean())
  .map(([b, upper]) => {
    const digits = bytesToHex(b).slice(2)
    return `0x${upper ? digits.toUpperCase() : digits}` as Address
  })

// Lengths around the 136-byte block boundaries, where the padding takes a block of its own.
const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 700 }),
  fc
    .constantFrom(0, 1, 135, 136, 137, 271, 272, 273, 408)
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
)

const inputArb = fc.record({
  index: fc.nat(2 ** DEPTH - 1),
  address: addressArb,
  equity: fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  ),
  data: dataArb,
})

describe('AccountLeafBatch', () => {
  it('builds the same tree as one accountLeafHash per account, whatever the batch size', () => {
    fc.assert(
      fc.property(
        fc.array(inputArb, { maxLength: 40 }),
        // 1 byte: every record is too large for a call; 500: a few records per call; the default.
        fc.constantFrom(1, 500, 2_000, MAX_ACCOUNT_RECORDS_BYTES),
        (inputs, maxBatchBytes) => {
          expect(batchedRoot(inputs, maxBatchBytes)).toBe(singleRoot(inputs))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('fills calls by count and by bytes, and keeps the last leaf of an index set twice', () => {
    const inputs: LeafInput[] = []
    for (let i = 0; i < 2 * MAX_ACCOUNT_RECORDS + 7; i++) {
      inputs.push({
        index: (i * 7) % 2 ** DEPTH,
        address: `0x${(0xabc000 + i).toString(16).padStart(40, '0')}`,
        equity: BigInt(i) * 1_000_003n,
        // Mostly one block, every ninth account 4 blocks: calls end on both limits.
        data: new Uint8Array(i % 9 === 0 ? 500 : 60).fill(i & 0xff),
      })
    }
    // Index 7 again, later, with other data: the later leaf must win on both paths.
    inputs.push({ ...inputs[1]!, data: new Uint8Array([1, 2, 3]) })
    expect(batchedRoot(inputs)).toBe(singleRoot(inputs))
    expect(batchedRoot(inputs, 3_000)).toBe(singleRoot(inputs))
  })

  it('hashes an account too large for one call by streaming, between batched neighbours', () => {
    const big = new Uint8Array(MAX_ACCOUNT_RECORDS_BYTES + 1_000).map((_, i) => (i * 31) & 0xff)
    const inputs: LeafInput[] = [0, 1, 2].map((i) => ({
      index: i,
      address: `0x${'0'.repeat(39)}${i}`,
      equity: 5n,
      data: i === 1 ? big : new Uint8Array([i]),
    }))
    expect(batchedRoot(inputs)).toBe(singleRoot(inputs))
  })

  it('refuses a negative equity and misuse of begin, end and flush', () => {
    const tree = new IncrementalMerkleTree(DEPTH)
    const batch = new AccountLeafBatch(tree)
    const address: Address = '0x00000000000000000000000000000000000000a1'
    expect(() => batch.begin(1, address, -1n)).toThrow(/negative escape equity/)
    expect(() => batch.begin(1, '0x1234' as Address, 0n)).toThrow(/address/)
    expect(() => batch.end()).toThrow(/end without begin/)
    batch.begin(1, address, 0n)
    expect(() => batch.begin(2, address, 0n)).toThrow(/open/)
    expect(() => batch.flush()).toThrow(/open/)
    // A caller whose encoder threw discards the batch; nothing reaches the tree.
    const empty = hex(tree.root())
    batch.discard()
    batch.flush()
    expect(hex(tree.root())).toBe(empty)
    expect(() => new AccountLeafBatch(tree, MAX_ACCOUNT_RECORDS_BYTES + 1)).toThrow(/batch size/)
  })
})

describe('keccak256AccountLeaves', () => {
  /** One record by hand: header, the two words, the data padded with 0x01 … 0x80. */
  function record(
    words: Uint8Array,
    data: Uint8Array,
    blocks = Math.floor(data.length / 136) + 1,
  ): Uint8Array {
    const r = new Uint8Array(72 + 136 * blocks)
    new DataView(r.buffer).setUint32(0, blocks, true)
    new DataView(r.buffer).setUint32(4, data.length, true)
    r.set(words, 8)
    r.set(data, 72)
    r[72 + data.length] = 0x01
    r[r.length - 1]! |= 0x80
    return r
  }

  it('is keccak256(keccak256(words ‖ keccak256(data))) per record', () => {
    // Pairs of 1 and 3 blocks, 3 and 1, 2 and 1, then an odd one alone.
    const datas = [0, 300, 300, 0, 136, 10, 135].map((n, i) => new Uint8Array(n).fill(i + 1))
    const wordsOf = (k: number) => Uint8Array.from({ length: 64 }, (_, i) => (i * 3 + k) & 0xff)
    const records = datas.map((d, k) => record(wordsOf(k), d))
    const all = new Uint8Array(records.reduce((n, r) => n + r.length, 0))
    let at = 0
    for (const r of records) {
      all.set(r, at)
      at += r.length
    }
    const leaves = new Uint8Array(32 * datas.length)
    keccak256AccountLeaves(all, all.length, datas.length, leaves)
    datas.forEach((d, k) => {
      const preimage = new Uint8Array(96)
      preimage.set(wordsOf(k))
      preimage.set(keccak256(d), 64)
      expect(hex(leaves.subarray(32 * k, 32 * k + 32))).toBe(hex(keccak256Twice(preimage)))
    })
  })

  it('refuses records that do not tile the bytes it is given', () => {
    const words = new Uint8Array(64)
    const one = record(words, new Uint8Array(10))
    const leaves = new Uint8Array(64)
    expect(() => keccak256AccountLeaves(one, one.length, 2, leaves)).toThrow(/runs past|no data block/)
    expect(() => keccak256AccountLeaves(one, one.length - 1, 1, leaves)).toThrow(/runs past/)
    const zero = one.slice()
    zero[0] = 0
    expect(() => keccak256AccountLeaves(zero, zero.length, 1, leaves)).toThrow(/no data block/)
    const padded = new Uint8Array(one.length + 8)
    padded.set(one)
    expect(() => keccak256AccountLeaves(padded, padded.length, 1, leaves)).toThrow(/do not fill/)
    expect(() => keccak256AccountLeaves(one, MAX_ACCOUNT_RECORDS_BYTES + 1, 1, leaves)).toThrow(/larger/)
  })
})
