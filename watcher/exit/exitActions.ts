import type { Address } from 'viem'
import { withdrawalProof } from '../../engine/commitment/withdrawalsTree.ts'
import {
  type InboxItem,
  InboxKind,
  type SentTransaction,
  type SettlementClient,
} from '../../settlement-contracts/ts/client.ts'
import type { FinalizedState } from './finalizedState.ts'

/**
 * What a user does on L1 when the operator does not: see what the finalized state owes them, claim their
 * finalized withdrawals, freeze the contract when a forced withdrawal is overdue or nothing finalizes,
 * and escape with their escape equity once it is frozen (docs/watcher.md, "Leaving without the operator").
 */

export interface OwedWithdrawal {
  batchIndex: number
  withdrawalIndex: number
  amountQuantums: bigint
  claimed: boolean
}

export interface ExitStatus {
  account: Address
  frozen: boolean
  finalizedBatch: number
  /** Null when the account has no leaf in the finalized state (it never deposited before it). */
  accountId: number | null
  escapeEquityQuantums: bigint
  escaped: boolean
  /** Withdrawals of finalized batches from this one on (earlier ones were not replayed). */
  withdrawalsFrom: number
  withdrawals: OwedWithdrawal[]
}

export class ExitRefused extends Error {
  override name = 'ExitRefused'
  constructor(
    /** A stable code: NOT_FROZEN, NO_ACCOUNT, ALREADY_ESCAPED, NOTHING_TO_CLAIM, FREEZE_NOT_DUE. */
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

export async function exitStatus(
  state: FinalizedState,
  client: SettlementClient,
  account: Address,
): Promise<ExitStatus> {
  const lower = account.toLowerCase() as Address
  const read = client.settlement.read
  const entry = state.engine.state.accountByAddress(lower)
  const accountId = entry === undefined ? null : entry.accountId
  const proof = accountId === null ? null : state.engine.accountProof(accountId)
  const withdrawals: OwedWithdrawal[] = []
  for (const [batchIndex, batch] of state.withdrawals) {
    for (const [withdrawalIndex, w] of batch.withdrawals.entries()) {
      if (w.account.toLowerCase() !== lower) continue
      withdrawals.push({
        batchIndex,
        withdrawalIndex,
        amountQuantums: w.amountQuantums,
        claimed: await read.isWithdrawn([BigInt(batchIndex), BigInt(withdrawalIndex)]),
      })
    }
  }
  return {
    account: lower,
    frozen: await read.isFrozen(),
    finalizedBatch: state.batchIndex,
    accountId,
    escapeEquityQuantums: proof?.escapeEquityQuantums ?? 0n,
    escaped: accountId === null ? false : await read.hasEscaped([BigInt(accountId)]),
    withdrawalsFrom: state.firstReplayed,
    withdrawals,
  }
}

/** Escapes as `client`'s account with its escape equity at the finalized root. */
export async function escapeWithEquity(
  state: FinalizedState,
  client: SettlementClient,
): Promise<SentTransaction & { escapeEquityQuantums: bigint }> {
  const status = await exitStatus(state, client, client.account)
  if (!status.frozen) {
    throw new ExitRefused(
      'NOT_FROZEN',
      'the settlement is not frozen, so escape is closed: claim finalized withdrawals, or request a forced ' +
        'withdrawal on L1 and freeze the contract once it is overdue (the freeze command)',
    )
  }
  if (status.accountId === null) {
    throw new ExitRefused(
      'NO_ACCOUNT',
      `${status.account} has no account in the state finalized at batch ${status.finalizedBatch}`,
    )
  }
  if (status.escaped) throw new ExitRefused('ALREADY_ESCAPED', `${status.account} has escaped already`)
  const proof = state.engine.accountProof(status.accountId)
  const sent = await client.escape({
    ...state.engine.commitment.rootParts(),
    accountId: BigInt(status.accountId),
    escapeEquityQuantums: proof.escapeEquityQuantums,
    accountDataHash: proof.accountDataHash,
    proof: proof.proof,
  })
  return { ...sent, escapeEquityQuantums: proof.escapeEquityQuantums }
}

/** Claims every unclaimed withdrawal of `account` in the finalized batches; anyone may send these. */
export async function claimWithdrawals(
  state: FinalizedState,
  client: SettlementClient,
  account: Address,
): Promise<(OwedWithdrawal & { transactionHash: string })[]> {
  const status = await exitStatus(state, client, account)
  const open = status.withdrawals.filter((w) => !w.claimed)
  if (open.length === 0) {
    throw new ExitRefused(
      'NOTHING_TO_CLAIM',
      `no unclaimed withdrawal of ${status.account} in batches ${status.withdrawalsFrom} to ${status.finalizedBatch}` +
        (status.withdrawalsFrom > 1
          ? ' (earlier batches were not replayed: leave out --watcher-data for them)'
          : ''),
    )
  }
  const claimed: (OwedWithdrawal & { transactionHash: string })[] = []
  for (const w of open) {
    const batch = state.withdrawals.get(w.batchIndex)!
    const sent = await client.claimWithdrawal({
      batchIndex: BigInt(w.batchIndex),
      withdrawalIndex: BigInt(w.withdrawalIndex),
      account: status.account,
      amountQuantums: w.amountQuantums,
      proof: withdrawalProof(batch.leaves, w.withdrawalIndex),
    })
    claimed.push({ ...w, claimed: true, transactionHash: sent.hash })
  }
  return claimed
}

/**
 * Freezes the settlement when the contract allows it: no batch finalized for `LIVENESS_TIMEOUT`, or a
 * forced withdrawal not consumed by a finalized batch within `FORCED_INCLUSION_DEADLINE`.
 */
export async function freeze(
  client: SettlementClient,
  fromBlock: bigint,
): Promise<SentTransaction & { reason: 'liveness' | 'forcedWithdrawal'; inboxIndex?: bigint }> {
  const read = client.settlement.read
  const latest = await client.client.getBlock({ blockTag: 'latest' })
  const now = latest.timestamp
  const [frozen, lastFinalizedAt, liveness, deadline, consumed] = await Promise.all([
    read.isFrozen(),
    read.lastFinalizedAt(),
    read.LIVENESS_TIMEOUT(),
    read.FORCED_INCLUSION_DEADLINE(),
    read.finalizedInboxConsumed(),
  ])
  if (frozen) throw new ExitRefused('ALREADY_FROZEN', 'the settlement is frozen already: escape')
  if (now >= lastFinalizedAt + liveness) return { ...(await client.freezeForLiveness()), reason: 'liveness' }
  let overdue: InboxItem | undefined
  let soonest: bigint | undefined
  for (let from = fromBlock; from <= latest.number; from += 2_000n) {
    const to = from + 1_999n < latest.number ? from + 1_999n : latest.number
    for (const { item } of await client.inboxItems({ fromBlock: from, toBlock: to })) {
      if (item.kind !== InboxKind.ForcedWithdrawal || item.index < consumed) continue
      const due = item.timestamp + deadline
      if (now >= due) overdue ??= item
      else if (soonest === undefined || due < soonest) soonest = due
    }
  }
  if (overdue !== undefined) {
    return {
      ...(await client.freezeForForcedWithdrawal(overdue)),
      reason: 'forcedWithdrawal',
      inboxIndex: overdue.index,
    }
  }
  const livenessDue = lastFinalizedAt + liveness
  const next = soonest === undefined || livenessDue < soonest ? livenessDue : soonest
  throw new ExitRefused(
    'FREEZE_NOT_DUE',
    `nothing allows a freeze yet: the earliest is at L1 time ${next} (in ${next - now} s), ` +
      (next === livenessDue
        ? 'when no batch has finalized for LIVENESS_TIMEOUT'
        : 'when a forced withdrawal is overdue'),
  )
}
