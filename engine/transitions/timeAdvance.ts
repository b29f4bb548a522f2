import type { Order } from '../book/order.ts'
import { CancelReason, OrderStatus } from '../events.ts'
import { advanceFunding } from '../funding/advanceFunding.ts'
import type { Tx } from './context.ts'
import { collectCrossed, flushLiquidationIndex } from './liquidate.ts'
import { closeOrder, expiryAccountId } from './openOrders.ts'
import { refreshMarketMode } from './oracleUpdate.ts'
import type { OpResult } from './result.ts'

/**
 * The sequencer's own operation: at `ctx.timestampMs`, expire GTT orders that are due (in order of
 * expiry, then order id), refresh each market's stale-price mode, and advance funding. Markets are
 * processed in id order. Triggers and liquidations then run as after every operation.
 */
export function applyTimeAdvance(tx: Tx): OpResult {
  const state = tx.state
  // Before any funding index moves: index entries are set at the values the accounts were checked at.
  flushLiquidationIndex(state)
  const now = tx.ctx.timestampMs
  const queue = state.expiryQueue
  let due = 0
  while (due < queue.length && queue[due]!.expiresAtMs <= now) due++
  if (due > 0) {
    const entries = queue.splice(0, due)
    // Resolve every entry before closing any: closing drops the on-demand order index, which entries
    // made by restore are looked up in.
    const expired: Order[] = []
    for (const e of entries) {
      const accountId = expiryAccountId(e)
      const order =
        accountId === undefined
          ? state.ordersById.get(e.orderId)
          : state.accounts[accountId]?.orders?.get(e.orderId)
      // Entries of orders that were cancelled, filled or replaced are skipped.
      if (order !== undefined && order.level !== null && order.expiresAtMs === e.expiresAtMs)
        expired.push(order)
    }
    for (const order of expired) closeOrder(tx, order, OrderStatus.Expired, CancelReason.Expired)
  }
  for (const market of state.markets) {
    refreshMarketMode(tx, market)
    const indexBefore = market.fundingIndexNanoQuantumsPerLot
    advanceFunding(market, now, tx.events)
    if (market.fundingIndexNanoQuantumsPerLot !== indexBefore) collectCrossed(tx, market)
  }
  return { ok: true }
}
