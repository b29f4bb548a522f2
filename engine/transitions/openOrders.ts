import { Order } from '../book/order.ts'
import { type CancelReason, OrderStatus } from '../events.ts'
import { Side, TimeInForce } from '../ops.ts'
import type { Account } from '../state/account.ts'
import type { MarketState } from '../state/marketState.ts'
import type { Tx } from './context.ts'

/** Registers a new open order with its account (not with the book); the global order index is rebuilt on demand. */
export function registerOrder(tx: Tx, account: Account, order: Order): void {
  if (account.orders === null) account.orders = new Map()
  account.orders.set(order.orderId, order)
  if (order.clientOrderId !== 0n) {
    if (account.clientOrderIds === null) account.clientOrderIds = new Map()
    account.clientOrderIds.set(order.clientOrderId, order)
  }
  account.market(order.marketId).openOrderCount++
  tx.state.orderIndexCache = null
  tx.state.dirtyAccounts.add(account.accountId)
}

/** Forgets an open order in the account; the caller has taken it out of its book or trigger list. */
export function unregisterOrder(tx: Tx, account: Account, order: Order): void {
  account.orders?.delete(order.orderId)
  if (order.clientOrderId !== 0n) account.clientOrderIds?.delete(order.clientOrderId)
  account.market(order.marketId).openOrderCount--
  tx.state.orderIndexCache = null
  tx.state.dirtyAccounts.add(account.accountId)
}

/** Rests a registered order in its book and counts its exposure for initial margin. */
export function restOrder(tx: Tx, account: Account, market: MarketState, order: Order): void {
  market.book.insert(order)
  const am = account.market(order.marketId)
  if (order.side === Side.Buy) am.openBidLots += order.remainingLots
  else am.openAskLots += order.remainingLots
  if (order.tif === TimeInForce.GTT) insertExpiry(tx, order)
  emitOrder(tx, order, OrderStatus.Open)
}

/**
 * The account of each expiry-queue entry the engine made, so that expiry finds the order through its
 * account, without a global order index. Entries built by restore are not here.
 */
const expiryAccounts = new WeakMap<object, number>()

/** The account of an expiry-queue entry, if the engine made it. */
export function expiryAccountId(entry: { expiresAtMs: number; orderId: number }): number | undefined {
  return expiryAccounts.get(entry)
}

function insertExpiry(tx: Tx, order: Order): void {
  const q = tx.state.expiryQueue
  // Binary search for the first entry after (expiresAtMs, orderId); order ids only grow, so this is usually the tail.
  let lo = 0
  let hi = q.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const e = q[mid]!
    if (
      e.expiresAtMs < order.expiresAtMs ||
      (e.expiresAtMs === order.expiresAtMs && e.orderId < order.orderId)
    )
      lo = mid + 1
    else hi = mid
  }
  const entry = { expiresAtMs: order.expiresAtMs, orderId: order.orderId }
  expiryAccounts.set(entry, order.accountId)
  q.splice(lo, 0, entry)
}

/** Removes an open order wherever it is (book or trigger list) and emits its final status. */
export function closeOrder(
  tx: Tx,
  order: Order,
  status: OrderStatus,
  reason: CancelReason | undefined,
): void {
  const state = tx.state
  const account = state.accounts[order.accountId]!
  const market = state.markets[order.marketId]!
  if (order.level !== null) {
    market.book.remove(order)
    const am = account.market(order.marketId)
    if (order.side === Side.Buy) am.openBidLots -= order.remainingLots
    else am.openAskLots -= order.remainingLots
  } else {
    market.untriggered.delete(order.orderId)
  }
  unregisterOrder(tx, account, order)
  if (status === OrderStatus.Filled) order.remainingLots = 0
  emitOrder(tx, order, status, reason)
}

/** A maker's resting order traded `lots`; shrinks or removes it. */
export function fillRestingOrder(tx: Tx, order: Order, lots: number): void {
  const account = tx.state.accounts[order.accountId]!
  const am = account.market(order.marketId)
  if (order.side === Side.Buy) am.openBidLots -= lots
  else am.openAskLots -= lots
  const market = tx.state.markets[order.marketId]!
  const removed = market.book.fillMaker(order, lots)
  if (removed) {
    unregisterOrder(tx, account, order)
    emitOrder(tx, order, OrderStatus.Filled)
  } else {
    tx.state.dirtyAccounts.add(account.accountId)
    emitOrder(tx, order, OrderStatus.Open)
  }
}

export function emitOrder(tx: Tx, order: Order, status: OrderStatus, reason?: CancelReason): void {
  emitOrderOf(
    tx,
    order.orderId,
    order.accountId,
    order.marketId,
    order.clientOrderId,
    status,
    order.remainingLots,
    reason,
  )
}

/** An order event from its fields, for an order that never became an `Order` (a taker that does not rest). */
export function emitOrderOf(
  tx: Tx,
  orderId: number,
  accountId: number,
  marketId: number,
  clientOrderId: bigint,
  status: OrderStatus,
  remainingLots: number,
  reason: CancelReason | undefined,
): void {
  tx.events.push(
    reason === undefined
      ? { type: 'order', orderId, accountId, marketId, clientOrderId, status, remainingLots }
      : { type: 'order', orderId, accountId, marketId, clientOrderId, status, remainingLots, reason },
  )
}

export { Order }
