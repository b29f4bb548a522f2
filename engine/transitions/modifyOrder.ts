import { OrderStatus } from '../events.ts'
import { type ModifyOrderOp, Side } from '../ops.ts'
import { RejectCode, reject } from '../rejections.ts'
import { isLots, isPriceTicks } from '../units.ts'
import { authorize, isRejection } from './authorize.ts'
import { findOwnOrder } from './cancelOrder.ts'
import type { Tx } from './context.ts'
import { executeOrder } from './executeOrder.ts'
import { emitOrder } from './openOrders.ts'
import type { OpResult } from './result.ts'

/**
 * Modify: a pure size decrease at the same price keeps time priority and the order id. Anything else
 * re-queues: the order is replaced by a new one (new order id, same client order id) that is matched,
 * margin-checked and rested like a new order; if that is rejected, the old order stays untouched.
 * An untriggered stop or take-profit order is changed in place.
 */
export function applyModifyOrder(tx: Tx, op: ModifyOrderOp): OpResult {
  if (!isPriceTicks(op.newPriceTicks)) return reject(RejectCode.BAD_PRICE)
  if (!isLots(op.newSizeLots)) return reject(RejectCode.BAD_SIZE)
  if (!Number.isSafeInteger(op.orderId) || op.orderId <= 0) return reject(RejectCode.UNKNOWN_ORDER)
  const account = authorize(tx, op, true)
  if (isRejection(account)) return account
  const order = findOwnOrder(account, op.marketId, op.orderId, 0n)
  if (order === undefined) return reject(RejectCode.UNKNOWN_ORDER)
  const market = tx.state.markets[order.marketId]!
  const cfg = market.config

  if (order.level === null) {
    if (op.newSizeLots < cfg.minOrderLots || op.newSizeLots > cfg.maxOrderLots)
      return reject(RejectCode.BAD_SIZE)
    order.priceTicks = op.newPriceTicks
    order.remainingLots = op.newSizeLots
    tx.state.dirtyAccounts.add(account.accountId)
    emitOrder(tx, order, OrderStatus.Untriggered)
    return { ok: true, orderId: order.orderId }
  }

  if (op.newPriceTicks === order.priceTicks && op.newSizeLots < order.remainingLots) {
    const am = account.market(order.marketId)
    const shrink = order.remainingLots - op.newSizeLots
    market.book.reduce(order, op.newSizeLots)
    if (order.side === Side.Buy) am.openBidLots -= shrink
    else am.openAskLots -= shrink
    tx.state.dirtyAccounts.add(account.accountId)
    emitOrder(tx, order, OrderStatus.Open)
    return { ok: true, orderId: order.orderId }
  }

  if (op.newSizeLots < cfg.minOrderLots || op.newSizeLots > cfg.maxOrderLots)
    return reject(RejectCode.BAD_SIZE)
  if (order.expiresAtMs !== 0 && order.expiresAtMs <= tx.ctx.timestampMs)
    return reject(RejectCode.ORDER_EXPIRED)
  return executeOrder(tx, {
    account,
    market,
    side: order.side,
    kind: order.kind,
    tif: order.tif,
    limitPriceTicks: op.newPriceTicks,
    sizeLots: op.newSizeLots,
    reduceOnly: order.reduceOnly,
    postOnly: order.postOnly,
    stp: order.stp,
    clientOrderId: order.clientOrderId,
    expiresAtMs: order.expiresAtMs,
    triggerPriceTicks: order.triggerPriceTicks,
    liquidation: false,
    fromTrigger: false,
    replacing: order,
  })
}
