import type { Address } from 'viem'
import type { DepositOp } from '../ops.ts'
import { EngineInvariantError } from '../rejections.ts'
import { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { Tx } from './context.ts'
import type { OpResult } from './result.ts'

/** The account for an L1 address, created on first deposit. Account ids are leaf indexes, assigned in sequence. */
export function getOrCreateAccount(state: EngineState, address: Address): Account {
  const existing = state.accountByAddress(address)
  if (existing !== undefined) return existing
  const accountId = state.accounts.length
  // INVARIANT: L1 deposits cannot be refused, so the tree must have room; the sequencer halts instead.
  if (accountId >= 2 ** state.config.accountTreeDepth) {
    throw new EngineInvariantError('account tree full', `depth ${state.config.accountTreeDepth}`)
  }
  const account = new Account(accountId, address)
  state.accounts.push(account)
  state.accountIdByAddress.set(address, accountId)
  state.dirtyAccounts.add(accountId)
  return account
}

/** INVARIANT: inbox items are consumed exactly once and strictly in L1 order. */
export function consumeInbox(state: EngineState, inboxIndex: number): void {
  if (inboxIndex !== state.inboxConsumed) {
    throw new EngineInvariantError(
      'inbox order',
      `expected inbox item ${state.inboxConsumed}, got ${inboxIndex}`,
    )
  }
  state.inboxConsumed++
}

export function applyDeposit(tx: Tx, op: DepositOp): OpResult {
  const state = tx.state
  if (op.amountQuantums <= 0n) throw new EngineInvariantError('deposit amount', `${op.amountQuantums} <= 0`)
  consumeInbox(state, op.inboxIndex)
  const account = getOrCreateAccount(state, op.account)
  account.collateralQuantums += op.amountQuantums
  state.totalDepositedQuantums += op.amountQuantums
  state.dirtyAccounts.add(account.accountId)
  tx.touched.add(account.accountId)
  tx.events.push({
    type: 'deposit',
    accountId: account.accountId,
    account: account.address,
    amountQuantums: op.amountQuantums,
    inboxIndex: op.inboxIndex,
  })
  tx.events.push({
    type: 'collateral',
    accountId: account.accountId,
    collateralQuantums: account.collateralQuantums,
  })
  return { ok: true }
}
