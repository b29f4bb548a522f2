import type { UserOp } from '../ops.ts'
import { RejectCode, type Rejection, reject } from '../rejections.ts'
import { checkNonce, recordNonce } from '../signing/nonceWindow.ts'
import type { Account } from '../state/account.ts'
import { INSURANCE_FUND_ACCOUNT_ID } from '../state/engineState.ts'
import type { Tx } from './context.ts'

/**
 * Checks that `op.signer` may act for `op.account` and consumes the nonce.
 *
 * INVARIANT: a signed operation that passes authentication consumes its nonce even if it is then
 * rejected for a business reason. Otherwise anyone holding a rejected signed intent could have it
 * sequenced again later, when it might succeed.
 */
export function authorize(tx: Tx, op: UserOp, tradeOnly: boolean): Account | Rejection {
  const state = tx.state
  const account = state.accountByAddress(op.account)
  if (account === undefined || account.accountId === INSURANCE_FUND_ACCOUNT_ID) return reject(RejectCode.UNKNOWN_ACCOUNT)
  if (op.signer !== account.address) {
    const expiresAtMs = account.agents?.get(op.signer)
    if (expiresAtMs === undefined) return reject(RejectCode.BAD_SIGNER)
    if (!tradeOnly) return reject(RejectCode.AGENT_NOT_ALLOWED)
    if (expiresAtMs <= tx.ctx.timestampMs) return reject(RejectCode.AGENT_EXPIRED)
  }
  if (account.nonces === null) account.nonces = new Map()
  let window = account.nonces.get(op.signer)
  const bad = checkNonce(window ?? [], op.nonce, tx.ctx.timestampMs, state.config.nonceWindow)
  if (bad !== null) return reject(bad)
  if (window === undefined) {
    window = []
    account.nonces.set(op.signer, window)
  }
  recordNonce(window, op.nonce, state.config.nonceWindow)
  state.dirtyAccounts.add(account.accountId)
  return account
}

export function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && (x as { ok?: unknown }).ok === false
}
