import type { Order } from '../book/order.ts'
import { CancelReason, OrderStatus } from '../events.ts'
import type { CancelAllOp, CancelOrderOp } from '../ops.ts'
import { RejectCode, reject } from '../rejections.ts'
import type { Account } from '../state/account.ts'
import { authorize, isRejection } from './authorize.ts'
import type { Tx } from './context.ts'
import { closeOrder } from './openOrders.ts'
import type { OpResult } from './result.ts'

/** Finds an open order of `account` in `marketId` by exactly one of order id and client order id. */
export function findOwnOrder(
  account: Account,
  marketId: number,
  orderId: number,
  clientOrderId: bigint,
): Order | undefined {
  const order = orderId !== 0 ? account.orders?.get(orderId) : account.clientOrderIds?.get(clientOrderId)
  return order !== undefined && order.marketId === marketId ? order : undefined
}

export function applyCancelOrder(tx: Tx, op: CancelOrderOp): OpResult {
  if ((op.orderId === 0) === (op.clientOrderId === 0n)) {
    return reject(RejectCode.UNKNOWN_ORDER, 'give exactly one of order id and client order id')
  }
  const account = authorize(tx, op, true)
  if (isRejection(account)) return account
  const order = findOwnOrder(account, op.marketId, op.orderId, op.clientOrderId)
  if (order === undefined) return reject(RejectCode.UNKNOWN_ORDER)
  closeOrder(tx, order, OrderStatus.Cancelled, CancelReason.User)
  return { ok: true, orderId: order.orderId }
}

/** Cancels every open order of an account, in one market or all, in ascending order id. */
export function cancelAllOrders(
  tx: Tx,
  account: Account,
  marketId: number | null,
  reason: CancelReason,
): number {
  if (account.orders === null || account.orders.size === 0) return 0
  const victims: Order[] = []
  for (const order of account.orders.values())
    if (marketId === null || order.marketId === marketId) victims.push(order)
  victims.sort((a, b) => a.orderId - b.orderId)
  for (const order of victims) closeOrder(tx, order, OrderStatus.Cancelled, reason)
  return victims.length
}

export function applyCancelAll(tx: Tx, op: CancelAllOp): OpResult {
  if (op.marketId !== null && tx.state.markets[op.marketId] === undefined)
    return reject(RejectCode.UNKNOWN_MARKET)
  const account = authorize(tx, op, true)
  if (isRejection(account)) return account
  cancelAllOrders(tx, account, op.marketId, CancelReason.User)
  return { ok: true }
}
