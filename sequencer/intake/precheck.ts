import type { Address } from 'viem'
import type { UserOp } from '../../engine/ops.ts'
import { RejectCode, type Rejection, reject } from '../../engine/rejections.ts'
import { checkNonce, recordNonce } from '../../engine/signing/nonceWindow.ts'
import type { Account } from '../../engine/state/account.ts'
import { type EngineState, INSURANCE_FUND_ACCOUNT_ID } from '../../engine/state/engineState.ts'
import { validateOrderParams } from '../../engine/transitions/placeOrder.ts'
import { isLots, isPriceTicks } from '../../engine/units.ts'

const MAX_U64 = (1n << 64n) - 1n

/**
 * What the current group has sequenced but the engine has not applied yet (the group is applied
 * right after its commit). Prechecks read the live state through it.
 */
export class GroupOverlay {
  /** By account, then signer: the nonce window as the engine will hold it once this group's entries are applied. */
  readonly windows = new Map<Account, Map<Address, number[]>>()
  /** Accounts whose authorisation may change within the group (agent changes, deposits): left to the engine. */
  readonly unsettled = new Set<Address>()

  clear(): void {
    this.windows.clear()
    this.unsettled.clear()
  }
}

/**
 * The engine's own rejections that can be decided before sequencing, so that intents which would
 * change nothing (a bad signer, a used nonce, an expired agent or order, malformed order fields) never
 * take a seq or a log entry. Same codes and the same conditions as the engine, which stays the judge:
 * anything this lets through is applied and may still be rejected there.
 *
 * An accepted intent is recorded in the overlay: call this in sequence order, once per intent.
 *
 * INVARIANT: never rejects what the engine would accept at `nowMs` after the group's earlier entries.
 * (Accounts with an agent change or a deposit earlier in the group are checked only for fields.)
 */
export function precheckUserOp(
  state: EngineState,
  op: UserOp,
  nowMs: number,
  overlay: GroupOverlay,
): Rejection | null {
  const shape = precheckFields(state, op, nowMs)
  if (shape !== null) return shape
  if (overlay.unsettled.has(op.account)) return null

  const account = state.accountByAddress(op.account)
  if (account === undefined || account.accountId === INSURANCE_FUND_ACCOUNT_ID)
    return reject(RejectCode.UNKNOWN_ACCOUNT)
  if (op.signer !== account.address) {
    const expiresAtMs = account.agents?.get(op.signer)
    if (expiresAtMs === undefined) return reject(RejectCode.BAD_SIGNER)
    if (!isTradeOp(op)) return reject(RejectCode.AGENT_NOT_ALLOWED)
    if (expiresAtMs <= nowMs) return reject(RejectCode.AGENT_EXPIRED)
  }
  let windows = overlay.windows.get(account)
  if (windows === undefined) {
    windows = new Map()
    overlay.windows.set(account, windows)
  }
  let window = windows.get(op.signer)
  if (window === undefined) {
    window = account.nonces?.get(op.signer)?.slice() ?? []
    windows.set(op.signer, window)
  }
  const cfg = state.config.nonceWindow
  const bad = checkNonce(window, op.nonce, nowMs, cfg)
  if (bad !== null) return reject(bad)
  // Accepted: the engine will record this nonce when it applies the entry; so does the overlay.
  recordNonce(window, op.nonce, cfg)
  if (op.type === 'approveAgent' || op.type === 'revokeAgent') overlay.unsettled.add(op.account)
  return null
}

/** Checks the engine makes before authorisation (so they do not consume the nonce there either). */
function precheckFields(state: EngineState, op: UserOp, nowMs: number): Rejection | null {
  switch (op.type) {
    case 'placeOrder':
      return validateOrderParams(state, op.order, nowMs)
    case 'cancelOrder':
      return (op.orderId === 0) === (op.clientOrderId === 0n)
        ? reject(RejectCode.UNKNOWN_ORDER, 'give exactly one of order id and client order id')
        : null
    case 'cancelAll':
      return op.marketId !== null && state.markets[op.marketId] === undefined
        ? reject(RejectCode.UNKNOWN_MARKET)
        : null
    case 'modifyOrder':
      if (!isPriceTicks(op.newPriceTicks)) return reject(RejectCode.BAD_PRICE)
      if (!isLots(op.newSizeLots)) return reject(RejectCode.BAD_SIZE)
      if (!Number.isSafeInteger(op.orderId) || op.orderId <= 0) return reject(RejectCode.UNKNOWN_ORDER)
      return null
    case 'withdraw':
      return op.amountQuantums <= 0n || op.amountQuantums > MAX_U64 ? reject(RejectCode.BAD_AMOUNT) : null
    case 'approveAgent':
      if (op.agent === op.account) {
        return reject(RejectCode.BAD_AGENT, 'the agent must be a lowercase address other than the account')
      }
      return op.expiresAtMs <= nowMs
        ? reject(RejectCode.AGENT_EXPIRED, 'the expiry must lie in the future')
        : null
    case 'revokeAgent':
      return null
  }
}

function isTradeOp(op: UserOp): boolean {
  return (
    op.type === 'placeOrder' ||
    op.type === 'cancelOrder' ||
    op.type === 'cancelAll' ||
    op.type === 'modifyOrder'
  )
}
