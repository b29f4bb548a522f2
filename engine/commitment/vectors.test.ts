import { readdirSync, readFileSync } from 'node:fs'
import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { describe, expect, it } from 'vitest'
import { accountLeafHash } from './accountLeaf.ts'
import { IncrementalMerkleTree } from './merkleTree.ts'
import { stateRoot } from './stateRoot.ts'
import {
  refAccountLeaf,
  refProof,
  refRoot,
  refStateRoot,
  refWithdrawalLeaf,
  refZeroHashes,
} from './vectors/reference.ts'
import {
  WITHDRAWALS_TREE_DEPTH,
  withdrawalLeafHash,
  withdrawalProof,
  withdrawalsRoot,
} from './withdrawalsTree.ts'
import { MAX_TREE_DEPTH, zeroHash } from './zeroHashes.ts'

// Every vector is checked twice: against the engine, and against the slow reference built on viem and
// @noble/hashes, so a vector file cannot simply agree with a bug that wrote it.

const b = (h: string): Uint8Array => hexToBytes(h as Hex)
const hex = bytesToHex

interface VectorFile {
  kind: string
  cases: Record<string, unknown>[]
}

// biome-ignore lint/suspicious/noExplicitAny: vector cases are untyped JSON, checked field by field below
type Case = any

const checkers: Record<string, (c: Case) => void> = {
  accountLeaf(c) {
    const equity = BigInt(c.escapeEquityQuantums)
    expect(hex(accountLeafHash(c.address, equity, b(c.accountDataHash)))).toBe(c.leaf)
    expect(hex(refAccountLeaf(c.address, equity, b(c.accountDataHash)))).toBe(c.leaf)
  },
  withdrawalLeaf(c) {
    const w = {
      chainId: BigInt(c.chainId),
      settlement: c.settlement as Address,
      batchIndex: BigInt(c.batchIndex),
      withdrawalIndex: c.withdrawalIndex as number,
      account: c.account as Address,
      amountQuantums: BigInt(c.amountQuantums),
    }
    expect(hex(withdrawalLeafHash(w))).toBe(c.leaf)
    expect(hex(refWithdrawalLeaf(w))).toBe(c.leaf)
  },
  merkleTree(c) {
    const tree = new IncrementalMerkleTree(c.depth)
    const leaves = new Map<number, Uint8Array>()
    for (const l of c.leaves) {
      tree.setLeaf(l.index, b(l.leaf))
      leaves.set(l.index, b(l.leaf))
    }
    expect(hex(tree.root())).toBe(c.root)
    expect(hex(refRoot(c.depth, leaves))).toBe(c.root)
    for (const l of c.leaves) {
      expect(tree.proof(l.index).map((x) => hex(x))).toEqual(l.proof)
      expect(refProof(c.depth, leaves, l.index).map((x) => hex(x))).toEqual(l.proof)
      expect(IncrementalMerkleTree.verifyProof(b(l.leaf), l.index, l.proof.map(b), b(c.root))).toBe(true)
    }
  },
  withdrawalsRoot(c) {
    const leaves = c.withdrawals.map((w: Case) =>
      withdrawalLeafHash({
        chainId: BigInt(c.chainId),
        settlement: c.settlement,
        batchIndex: BigInt(c.batchIndex),
        withdrawalIndex: w.withdrawalIndex,
        account: w.account,
        amountQuantums: BigInt(w.amountQuantums),
      }),
    )
    expect(hex(withdrawalsRoot(leaves))).toBe(c.root)
    expect(
      hex(refRoot(WITHDRAWALS_TREE_DEPTH, new Map(leaves.map((l: Uint8Array, i: number) => [i, l])))),
    ).toBe(c.root)
    expect(c.proofs).toHaveLength(leaves.length)
    leaves.forEach((leaf: Uint8Array, i: number) => {
      expect(withdrawalProof(leaves, i).map((x) => hex(x))).toEqual(c.proofs[i])
      expect(IncrementalMerkleTree.verifyProof(leaf, i, c.proofs[i].map(b), b(c.root))).toBe(true)
    })
  },
  stateRoot(c) {
    const parts = [b(c.accountsRoot), b(c.marketsHash), b(c.globalsHash)] as const
    expect(hex(stateRoot(...parts))).toBe(c.stateRoot)
    expect(hex(refStateRoot(...parts))).toBe(c.stateRoot)
  },
  zeroHashes(c) {
    expect(c.hashes).toHaveLength(MAX_TREE_DEPTH + 1)
    expect(c.hashes).toEqual(refZeroHashes(MAX_TREE_DEPTH).map((x) => hex(x)))
    c.hashes.forEach((h: string, l: number) => {
      expect(hex(zeroHash(l))).toBe(h)
    })
  },
}

const dir = new URL('./vectors/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.json'))

describe('commitment vectors', () => {
  it('has a vector file for every kind', () => {
    const kinds = files.map((f) => (JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as VectorFile).kind)
    expect(new Set(kinds)).toEqual(new Set(Object.keys(checkers)))
  })

  for (const file of files) {
    const vectors = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as VectorFile
    describe(file, () => {
      it('is of a known kind and has cases', () => {
        expect(Object.keys(checkers), `unknown vector kind ${vectors.kind}`).toContain(vectors.kind)
        expect(vectors.cases.length).toBeGreaterThan(0)
      })
      for (const c of vectors.cases) {
        it(String(c.name), () => {
          const check = checkers[vectors.kind]
          if (check === undefined) throw new Error(`unknown vector kind ${vectors.kind} in ${file}`)
          check(c)
        })
      }
    })
  }
})
