import type { Address } from 'viem'
import { withdrawalLeafHash, withdrawalsRoot } from '../commitment/withdrawalsTree.ts'
import { assertSealInvariants } from '../invariants/checkInvariants.ts'
import type { StateCommitment } from '../state/commitState.ts'
import type { EngineState, PendingWithdrawal } from '../state/engineState.ts'

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
 * Closes the open batch. The invariant gate runs first (`checkSealInvariants`): conservation, open
 * interest, uncrossed books, no negative equity over every account, and the order bookkeeping of every
 * account the batch changed. A violation throws EngineInvariantError, and the batcher must halt rather
 * than post a root built on a broken state.
 */
export function sealBatch(commitment: StateCommitment, params: SealBatchParameters): SealedBatch {
  const state = commitment.state
  assertSealInvariants(state, changedAccounts(state))
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
  const stateRoot = commitment.root()
  state.refreshedSinceSeal.clear()
  return {
    batchIndex: params.batchIndex,
    stateRoot,
    withdrawalsRoot: withdrawalsRoot(withdrawalLeaves),
    withdrawals,
    withdrawalLeaves,
    lastSeq: state.seq,
    inboxConsumed: state.inboxConsumed,
  }
}

/** Every account the open batch changed: dirty now, or refreshed by a root taken since the last seal. */
function changedAccounts(state: EngineState): Iterable<number> {
  const refreshed = state.refreshedSinceSeal
  if (refreshed.size === 0) return state.dirtyAccounts
  for (const accountId of state.dirtyAccounts) refreshed.add(accountId)
  return refreshed
}
