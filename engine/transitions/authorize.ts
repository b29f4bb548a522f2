import type { NonceWindowConfig } from '../config.ts'
import type { UserOp } from '../ops.ts'
import { RejectCode, type Rejection, reject } from '../rejections.ts'
import { checkNonce, recordNonce } from '../signing/nonceWindow.ts'
import type { Account } from '../state/account.ts'
import { INSURANCE_FUND_ACCOUNT_ID } from '../state/engineState.ts'
import type { Tx } from './context.ts'

const NO_NONCES: readonly number[] = []

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
  if (account === undefined || account.accountId === INSURANCE_FUND_ACCOUNT_ID)
    return reject(RejectCode.UNKNOWN_ACCOUNT)
  if (op.signer !== account.address) {
    const expiresAtMs = account.agents?.get(op.signer)
    if (expiresAtMs === undefined) return reject(RejectCode.BAD_SIGNER)
    if (!tradeOnly) return reject(RejectCode.AGENT_NOT_ALLOWED)
    if (expiresAtMs <= tx.ctx.timestampMs) return reject(RejectCode.AGENT_EXPIRED)
  }
  if (account.nonces === null) account.nonces = new Map()
  const own = op.signer === account.address
  let window = own ? (account.ownNonceWindow ?? undefined) : undefined
  if (window === undefined) {
    window = account.nonces.get(op.signer)
    if (own && window !== undefined) account.ownNonceWindow = window
  }
  const cfg = state.config.nonceWindow
  if (window !== undefined && takeNewestNonce(window, op.nonce, tx.ctx.timestampMs, cfg)) {
    state.dirtyAccounts.add(account.accountId)
    return account
  }
  const bad = checkNonce(window ?? NO_NONCES, op.nonce, tx.ctx.timestampMs, cfg)
  if (bad !== null) return reject(bad)
  if (window === undefined) {
    window = []
    account.nonces.set(op.signer, window)
  }
  recordNonce(window, op.nonce, cfg)
  state.dirtyAccounts.add(account.accountId)
  return account
}

/**
 * The common case of checkNonce and recordNonce together: a nonce above every nonce in the window, inside
 * the time window. Records it exactly as recordNonce would (appended, the smallest dropped when full) and
 * returns true; returns false, changing nothing, in every other case, which the general functions decide.
 */
export function takeNewestNonce(
  window: number[],
  nonce: number,
  timestampMs: number,
  cfg: NonceWindowConfig,
): boolean {
  const n = window.length
  const size = cfg.size
  if (n === 0 || n > size || !Number.isSafeInteger(size) || !Number.isSafeInteger(nonce)) return false
  if (!(nonce > window[n - 1]!) || nonce < timestampMs - cfg.pastMs || nonce > timestampMs + cfg.futureMs)
    return false
  if (n === size) {
    for (let i = 1; i < n; i++) window[i - 1] = window[i]!
    window[n - 1] = nonce
  } else {
    window.push(nonce)
  }
  return true
}

export function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && (x as { ok?: unknown }).ok === false
}
