import { keccak_256 } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { type Address, bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { IncrementalMerkleTree } from './merkleTree.ts'
import { refProof, refRoot, refWithdrawalLeaf } from './vectors/reference.ts'
import {
  MAX_WITHDRAWALS_PER_BATCH,
  WITHDRAWALS_TREE_DEPTH,
  withdrawalLeafHash,
  withdrawalProof,
  withdrawalProofs,
  withdrawalsRoot,
} from './withdrawalsTree.ts'
import { zeroHash } from './zeroHashes.ts'

const MAX_UINT256 = (1n << 256n) - 1n
const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b) as Address)
const arbUint256 = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 70n }), fc.bigInt({ min: 0n, max: MAX_UINT256 }))
const arbWithdrawal = fc.record({
  chainId: arbUint256,
  settlement: arbAddress,
  batchIndex: arbUint256,
  withdrawalIndex: fc.integer({ min: 0, max: MAX_WITHDRAWALS_PER_BATCH - 1 }),
  account: arbAddress,
  amountQuantums: arbUint256,
})

describe('withdrawalLeafHash', () => {
  it('equals the double hash of abi.encode(uint256, address, uint256, uint256, address, uint256) built with viem', () => {
    fc.assert(
      fc.property(arbWithdrawal, (w) => {
        expect(bytesToHex(withdrawalLeafHash(w))).toBe(bytesToHex(refWithdrawalLeaf(w)))
      }),
      { numRuns: 200 },
    )
  })

  it('binds chain, contract, batch and index', () => {
    const w = {
      chainId: 1n,
      settlement: '0x52908400098527886e0f7030069857d2e4169ee7' as Address,
      batchIndex: 3n,
      withdrawalIndex: 2,
      account: '0x0000000000000000000000000000000000000001' as Address,
      amountQuantums: 10n,
    }
    const base = bytesToHex(withdrawalLeafHash(w))
    for (const changed of [
      { ...w, chainId: 2n },
      { ...w, settlement: '0x52908400098527886e0f7030069857d2e4169ee8' as Address },
      { ...w, batchIndex: 4n },
      { ...w, withdrawalIndex: 3 },
    ]) {
      expect(bytesToHex(withdrawalLeafHash(changed))).not.toBe(base)
    }
  })

  it('rejects an index outside the batch tree and unsafe numbers', () => {
    const w = {
      chainId: 1n,
      settlement: '0x52908400098527886e0f7030069857d2e4169ee7' as Address,
      batchIndex: 3n,
      withdrawalIndex: MAX_WITHDRAWALS_PER_BATCH,
      account: '0x0000000000000000000000000000000000000001' as Address,
      amountQuantums: 10n,
    }
    expect(() => withdrawalLeafHash(w)).toThrow(/exceeds/)
    expect(() => withdrawalLeafHash({ ...w, withdrawalIndex: -1 })).toThrow()
    expect(() => withdrawalLeafHash({ ...w, withdrawalIndex: 1.5 })).toThrow()
    expect(() => withdrawalLeafHash({ ...w, withdrawalIndex: 0, amountQuantums: -1n })).toThrow(
      /out of range/,
    )
  })
})

describe('withdrawalsRoot', () => {
  it('is the depth-16 zero hash for an empty batch', () => {
    expect(withdrawalsRoot([])).toEqual(zeroHash(WITHDRAWALS_TREE_DEPTH))
    expect(withdrawalProofs([])).toEqual([])
  })

  it('equals the reference tree, and every proof verifies against it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 }),
        (leaves) => {
          const root = withdrawalsRoot(leaves)
          const map = new Map(leaves.map((leaf, i) => [i, leaf]))
          expect(root).toEqual(refRoot(WITHDRAWALS_TREE_DEPTH, map))
          const i = leaves.length - 1
          const proof = withdrawalProof(leaves, i)
          expect(proof).toHaveLength(WITHDRAWALS_TREE_DEPTH)
          expect(proof).toEqual(refProof(WITHDRAWALS_TREE_DEPTH, map, i))
          expect(IncrementalMerkleTree.verifyProof(leaves[i]!, i, proof, root)).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('holds exactly 65536 withdrawals and no more', () => {
    const leaf = new Uint8Array(32).fill(7)
    const full = Array.from({ length: MAX_WITHDRAWALS_PER_BATCH }, () => leaf)
    // A full tree of equal leaves: each level is the hash of two copies of the one below.
    let expected: Uint8Array = leaf
    for (let l = 0; l < WITHDRAWALS_TREE_DEPTH; l++) {
      const both = new Uint8Array(64)
      both.set(expected)
      both.set(expected, 32)
      expected = keccak_256(both)
    }
    expect(withdrawalsRoot(full)).toEqual(expected)
    expect(() => withdrawalsRoot([...full, leaf])).toThrow(/exceed/)
    expect(() => withdrawalProof([leaf], 1)).toThrow(/no withdrawal/)
  })
})
