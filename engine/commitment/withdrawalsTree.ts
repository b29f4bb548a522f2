import type { Address } from 'viem'
import { writeAddressWord, writeUint256Word, writeUint256WordFromNumber } from './abiWords.ts'
import { keccak256Twice } from './keccak256.ts'
import { IncrementalMerkleTree } from './merkleTree.ts'
import { zeroHash } from './zeroHashes.ts'

/** Each batch's withdrawals are the leaves of a tree of this fixed depth. */
export const WITHDRAWALS_TREE_DEPTH = 16
/** 2^16: the engine rejects a withdrawal that would not fit in its batch's tree. */
export const MAX_WITHDRAWALS_PER_BATCH = 2 ** WITHDRAWALS_TREE_DEPTH

export interface WithdrawalLeafParameters {
  chainId: bigint
  /** The settlement contract that pays the withdrawal. */
  settlement: Address
  batchIndex: bigint
  /** Position of the withdrawal within its batch, 0-based; also its leaf index. */
  withdrawalIndex: number
  /** The L1 address paid. */
  account: Address
  amountQuantums: bigint
}

// abi.encode of six static words.
const encoded = new Uint8Array(192)
const encodedView = new DataView(encoded.buffer)

/**
 * keccak256(bytes.concat(keccak256(abi.encode(uint256 chainId, address settlement, uint256 batchIndex,
 * uint256 withdrawalIndex, address account, uint256 amountQuantums)))).
 *
 * INVARIANT: the leaf binds the chain, the contract, the batch and the position, so a proof for one
 * withdrawal claims that withdrawal only; the contract's spent bitmap stops a second claim.
 */
export function withdrawalLeafHash(w: WithdrawalLeafParameters): Uint8Array {
  if (w.withdrawalIndex >= MAX_WITHDRAWALS_PER_BATCH) {
    throw new Error(`commitment: withdrawal index ${w.withdrawalIndex} exceeds the batch tree`)
  }
  writeUint256Word(encodedView, 0, w.chainId)
  writeAddressWord(encoded, 32, w.settlement)
  writeUint256Word(encodedView, 64, w.batchIndex)
  writeUint256WordFromNumber(encodedView, 96, w.withdrawalIndex)
  writeAddressWord(encoded, 128, w.account)
  writeUint256Word(encodedView, 160, w.amountQuantums)
  return keccak256Twice(encoded)
}

function buildTree(leaves: readonly Uint8Array[]): IncrementalMerkleTree {
  if (leaves.length > MAX_WITHDRAWALS_PER_BATCH) {
    throw new Error(`commitment: ${leaves.length} withdrawals exceed ${MAX_WITHDRAWALS_PER_BATCH} per batch`)
  }
  const tree = new IncrementalMerkleTree(WITHDRAWALS_TREE_DEPTH, leaves.length)
  for (let i = 0; i < leaves.length; i++) tree.setLeaf(i, leaves[i]!)
  return tree
}

/** Root of the depth-16 tree whose leaf i is `leaves[i]`; absent leaves are empty. No withdrawals: zeroHash(16). */
export function withdrawalsRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return zeroHash(WITHDRAWALS_TREE_DEPTH)
  return buildTree(leaves).root()
}

/** The 16 bottom-up siblings proving `leaves[index]` against `withdrawalsRoot(leaves)`. */
export function withdrawalProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new Error(`commitment: no withdrawal at index ${index} of ${leaves.length}`)
  }
  return buildTree(leaves).proof(index)
}

/** Every withdrawal's proof, building the tree once: what a batcher publishes for claims. */
export function withdrawalProofs(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) return []
  const tree = buildTree(leaves)
  return leaves.map((_, i) => tree.proof(i))
}
