import type { Address } from 'viem'
import { withdrawalLeafHash, withdrawalsRoot } from '../commitment/withdrawalsTree.ts'
import { assertInvariants } from '../invariants/checkInvariants.ts'
import type { StateCommitment } from '../state/commitState.ts'
import type { PendingWithdrawal } from '../state/engineState.ts'

export interface SealedBatch {
  batchIndex: bigint
  /** Root of the state after the batch, with its withdrawals taken out of the open batch. */
  stateRoot: Uint8Array
  /** Root of this batch's withdrawals tree (depth 16; leaf i is withdrawal i). */
  withdrawalsRoot: Uint8Array
  withdrawals: readonly PendingWithdrawal[]
  /** The leaves, in order, so claim proofs can be built without recomputing them. */
  withdrawalLeaves: readonly Uint8Array[]
  lastSeq: number
  /** L1 inbox items consumed so far, this batch included. */
  inboxConsumed: number
}

export interface SealBatchParameters {
  batchIndex: bigint
  chainId: bigint
  settlement: Address
}

/**
 * Closes the open batch. The invariant gate runs first: conservation, open interest, uncrossed books,
 * no negative equity. A violation throws EngineInvariantError, and the batcher must halt rather than
 * post a root built on a broken state.
 */
export function sealBatch(commitment: StateCommitment, params: SealBatchParameters): SealedBatch {
  const state = commitment.state
  assertInvariants(state)
  const withdrawals = state.pendingWithdrawals
  const withdrawalLeaves = withdrawals.map((w, withdrawalIndex) =>
    withdrawalLeafHash({
      chainId: params.chainId,
      settlement: params.settlement,
      batchIndex: params.batchIndex,
      withdrawalIndex,
      account: w.account,
      amountQuantums: w.amountQuantums,
    }),
  )
  state.pendingWithdrawals = []
  return {
    batchIndex: params.batchIndex,
    stateRoot: commitment.root(),
    withdrawalsRoot: withdrawalsRoot(withdrawalLeaves),
    withdrawals,
    withdrawalLeaves,
    lastSeq: state.seq,
    inboxConsumed: state.inboxConsumed,
  }
}
