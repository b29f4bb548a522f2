import type { ForcedWithdrawalOp, WithdrawOp } from '../ops.ts'
import { RejectCode, reject } from '../rejections.ts'
import { accountRisk } from '../risk/margin.ts'
import type { Account } from '../state/account.ts'
import { maxBig, minBig } from '../units.ts'
import { authorize, isRejection } from './authorize.ts'
import type { Tx } from './context.ts'
import { consumeInbox } from './deposit.ts'
import type { OpResult } from './result.ts'

const UINT64_MAX = (1n << 64n) - 1n

/** A batch's withdrawals tree has depth 16. */
export const MAX_WITHDRAWALS_PER_BATCH = 1 << 16

/** What the account may withdraw now: equity above initial margin, and never more than equity. */
export function withdrawableQuantums(tx: Tx, account: Account): bigint {
  const risk = accountRisk(tx.state, account)
  return maxBig(0n, risk.equityQuantums - risk.initialMarginQuantums)
}

function payOut(tx: Tx, account: Account, amountQuantums: bigint, forced: boolean): void {
  const state = tx.state
  account.collateralQuantums -= amountQuantums
  state.totalWithdrawnQuantums += amountQuantums
  const withdrawalIndex = state.pendingWithdrawals.length
  state.pendingWithdrawals.push({
    accountId: account.accountId,
    account: account.address,
    amountQuantums,
    forced,
  })
  state.dirtyAccounts.add(account.accountId)
  tx.touched.add(account.accountId)
  tx.events.push({
    type: 'withdrawal',
    accountId: account.accountId,
    account: account.address,
    amountQuantums,
    withdrawalIndex,
    forced,
  })
  tx.events.push({
    type: 'collateral',
    accountId: account.accountId,
    collateralQuantums: account.collateralQuantums,
  })
}

export function applyWithdraw(tx: Tx, op: WithdrawOp): OpResult {
  // The codec carries amounts as uint64, so every accepted withdrawal is encodable.
  if (typeof op.amountQuantums !== 'bigint' || op.amountQuantums <= 0n || op.amountQuantums > UINT64_MAX) {
    return reject(RejectCode.BAD_AMOUNT)
  }
  const account = authorize(tx, op, false)
  if (isRejection(account)) return account
  if (tx.state.pendingWithdrawals.length >= MAX_WITHDRAWALS_PER_BATCH)
    return reject(RejectCode.WITHDRAWAL_LIMIT)
  const free = withdrawableQuantums(tx, account)
  if (op.amountQuantums > free)
    return reject(RejectCode.INSUFFICIENT_COLLATERAL, `at most ${free} quantums now`)
  payOut(tx, account, op.amountQuantums, false)
  return { ok: true }
}

/**
 * A forced withdrawal from the L1 inbox is always consumed, so the freeze deadline is met. It pays
 * what margin allows, up to the amount asked; if that is nothing, it is recorded as rejected.
 */
export function applyForcedWithdrawal(tx: Tx, op: ForcedWithdrawalOp): OpResult {
  const state = tx.state
  consumeInbox(state, op.inboxIndex)
  const account = state.accountByAddress(op.account)
  let code: RejectCode | null = null
  if (account === undefined || account.accountId === 0) code = RejectCode.UNKNOWN_ACCOUNT
  else if (op.amountQuantums <= 0n) code = RejectCode.BAD_AMOUNT
  else if (state.pendingWithdrawals.length >= MAX_WITHDRAWALS_PER_BATCH) code = RejectCode.WITHDRAWAL_LIMIT
  if (code === null && account !== undefined) {
    const amount = minBig(op.amountQuantums, withdrawableQuantums(tx, account))
    if (amount > 0n) {
      payOut(tx, account, amount, true)
      return { ok: true }
    }
    code = RejectCode.INSUFFICIENT_COLLATERAL
  }
  tx.events.push({
    type: 'forcedWithdrawalRejected',
    account: op.account,
    inboxIndex: op.inboxIndex,
    code: code!,
  })
  return reject(code!)
}
