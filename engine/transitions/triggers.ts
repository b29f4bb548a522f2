import type { Order } from '../book/order.ts'
import { CancelReason, OrderStatus } from '../events.ts'
import { OrderKind, Side, TimeInForce } from '../ops.ts'
import type { MarketState } from '../state/marketState.ts'
import type { Tx } from './context.ts'
import { executeOrder } from './executeOrder.ts'
import { emitOrder, unregisterOrder } from './openOrders.ts'

/**
 * Whether a stop or take-profit order fires at mark `markTicks`:
 * - stop buy and take-profit sell fire when the mark is at or above the trigger;
 * - stop sell and take-profit buy fire when the mark is at or below it.
 */
export function fires(order: Order, markTicks: number): boolean {
  const isStop = order.kind === OrderKind.StopMarket || order.kind === OrderKind.StopLimit
  const firesAbove = isStop === (order.side === Side.Buy)
  return firesAbove ? markTicks >= order.triggerPriceTicks : markTicks <= order.triggerPriceTicks
}

/**
 * Fires every untriggered order of the market whose trigger the mark has reached, in ascending order id
 * (the order they were placed in). Each executes at once as its kind says: market kinds as IOC at their
 * worst price, limit kinds with their time in force (reduce-only ones as IOC), under a new order id with
 * the same client order id: the old id ends with status `triggered`, and time priority starts now. An
 * order that cannot execute (margin, nothing left to reduce) ends `cancelled` instead. Expired
 * untriggered GTT orders are expired here.
 */
export function evaluateTriggers(tx: Tx, market: MarketState): void {
  if (market.untriggered.size === 0 || market.markPriceTicks === 0) return
  const now = tx.ctx.timestampMs
  const fired: Order[] = []
  for (const order of market.untriggered.values()) {
    if ((order.expiresAtMs !== 0 && order.expiresAtMs <= now) || fires(order, market.markPriceTicks))
      fired.push(order)
  }
  for (const order of fired) {
    const account = tx.state.accounts[order.accountId]!
    market.untriggered.delete(order.orderId)
    unregisterOrder(tx, account, order)
    if (order.expiresAtMs !== 0 && order.expiresAtMs <= now) {
      emitOrder(tx, order, OrderStatus.Expired, CancelReason.Expired)
      continue
    }
    emitOrder(tx, order, OrderStatus.Triggered)
    const isMarketKind = order.kind === OrderKind.StopMarket || order.kind === OrderKind.TakeProfitMarket
    const result = executeOrder(tx, {
      account,
      market,
      side: order.side,
      kind: order.kind,
      tif: isMarketKind || order.reduceOnly ? TimeInForce.IOC : order.tif,
      limitPriceTicks: order.priceTicks,
      sizeLots: order.remainingLots,
      reduceOnly: order.reduceOnly,
      postOnly: order.postOnly,
      stp: order.stp,
      clientOrderId: order.clientOrderId,
      expiresAtMs: order.expiresAtMs,
      triggerPriceTicks: order.triggerPriceTicks,
      liquidation: false,
      fromTrigger: true,
      replacing: null,
    })
    if (!result.ok) {
      emitOrder(
        tx,
        order,
        OrderStatus.Cancelled,
        order.reduceOnly ? CancelReason.ReduceOnly : CancelReason.MarginOnTrigger,
      )
    }
  }
}
