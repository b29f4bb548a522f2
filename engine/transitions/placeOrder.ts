import { Order } from '../book/order.ts'
import { OrderStatus } from '../events.ts'
import { OrderKind, type OrderParams, type PlaceOrderOp, TimeInForce } from '../ops.ts'
import { RejectCode, type Rejection, reject } from '../rejections.ts'
import type { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { isLots, isPriceTicks } from '../units.ts'
import { authorize, isRejection } from './authorize.ts'
import type { Tx } from './context.ts'
import { type ExecuteSpec, executeOrder } from './executeOrder.ts'
import { emitOrder, registerOrder } from './openOrders.ts'
import type { OpResult } from './result.ts'

const UINT64_MAX = (1n << 64n) - 1n

export function isTriggerKind(kind: OrderKind): boolean {
  return kind >= OrderKind.StopMarket
}

function isMarketKind(kind: OrderKind): boolean {
  return kind === OrderKind.Market || kind === OrderKind.StopMarket || kind === OrderKind.TakeProfitMarket
}

function isEnum(x: unknown, max: number): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max
}

/**
 * The order type table (docs/protocol.md):
 * - market kinds (market, stop-market, take-profit-market) are IOC or FOK; `priceTicks` is the worst price;
 * - post-only needs GTC or GTT and a limit kind;
 * - reduce-only needs IOC or FOK (or a trigger kind, which executes as IOC once triggered);
 * - GTT needs `expiresAtMs` in the future, every other time in force needs 0;
 * - trigger kinds need a trigger price, other kinds need 0.
 */
export function validateOrderParams(state: EngineState, p: OrderParams, nowMs: number): Rejection | null {
  const market = state.markets[p.marketId]
  if (!Number.isInteger(p.marketId) || market === undefined) return reject(RejectCode.UNKNOWN_MARKET)
  if (!isEnum(p.side, 1) || !isEnum(p.kind, 5) || !isEnum(p.tif, 3) || !isEnum(p.stp, 2))
    return reject(RejectCode.BAD_ORDER_TYPE)
  if (typeof p.reduceOnly !== 'boolean' || typeof p.postOnly !== 'boolean')
    return reject(RejectCode.BAD_ORDER_TYPE)
  if (!isPriceTicks(p.priceTicks)) return reject(RejectCode.BAD_PRICE)
  if (
    !isLots(p.sizeLots) ||
    p.sizeLots < market.config.minOrderLots ||
    p.sizeLots > market.config.maxOrderLots
  ) {
    return reject(
      RejectCode.BAD_SIZE,
      `between ${market.config.minOrderLots} and ${market.config.maxOrderLots} lots`,
    )
  }
  if (typeof p.clientOrderId !== 'bigint' || p.clientOrderId < 0n || p.clientOrderId > UINT64_MAX)
    return reject(RejectCode.BAD_ORDER_TYPE, 'client order id must be a uint64')
  const trigger = isTriggerKind(p.kind)
  if (trigger ? !isPriceTicks(p.triggerPriceTicks) : p.triggerPriceTicks !== 0)
    return reject(RejectCode.BAD_ORDER_TYPE, 'trigger price')
  const immediate = p.tif === TimeInForce.IOC || p.tif === TimeInForce.FOK
  if (isMarketKind(p.kind) && !immediate)
    return reject(RejectCode.BAD_ORDER_TYPE, 'market orders are IOC or FOK')
  if (p.postOnly && (immediate || isMarketKind(p.kind)))
    return reject(RejectCode.BAD_ORDER_TYPE, 'post-only needs a resting limit order')
  if (p.reduceOnly && !immediate && !trigger)
    return reject(RejectCode.BAD_ORDER_TYPE, 'reduce-only orders are IOC or FOK')
  if (p.tif === TimeInForce.GTT) {
    if (!Number.isSafeInteger(p.expiresAtMs) || p.expiresAtMs <= 0)
      return reject(RejectCode.BAD_ORDER_TYPE, 'GTT needs an expiry')
    if (p.expiresAtMs <= nowMs) return reject(RejectCode.ORDER_EXPIRED)
  } else if (p.expiresAtMs !== 0) {
    return reject(RejectCode.BAD_ORDER_TYPE, 'only GTT orders carry an expiry')
  }
  return null
}

/** Reused by every placement: executeOrder reads it only during the call, and never places an order itself. */
const placeSpec: Omit<ExecuteSpec, 'account' | 'market'> & {
  account: Account | null
  market: MarketState | null
} = {
  account: null,
  market: null,
  side: 0,
  kind: 0,
  tif: 0,
  limitPriceTicks: 0,
  sizeLots: 0,
  reduceOnly: false,
  postOnly: false,
  stp: 0,
  clientOrderId: 0n,
  expiresAtMs: 0,
  triggerPriceTicks: 0,
  liquidation: false,
  fromTrigger: false,
  replacing: null,
}

export function applyPlaceOrder(tx: Tx, op: PlaceOrderOp): OpResult {
  const state = tx.state
  const p = op.order
  const invalid = validateOrderParams(state, p, tx.ctx.timestampMs)
  if (invalid !== null) return invalid
  const account = authorize(tx, op, true)
  if (isRejection(account)) return account
  const market = state.markets[p.marketId]!
  if (p.clientOrderId !== 0n && account.clientOrderIds?.has(p.clientOrderId) === true) {
    return reject(RejectCode.DUPLICATE_CLIENT_ORDER_ID, `client order id ${p.clientOrderId}`)
  }
  if (account.openOrderCount >= state.config.maxOpenOrdersPerAccount)
    return reject(RejectCode.TOO_MANY_OPEN_ORDERS)
  if (market.markPriceTicks === 0)
    return reject(RejectCode.MARKET_REDUCE_ONLY, 'the market has no oracle price yet')

  if (isTriggerKind(p.kind)) {
    const order = new Order(
      state.nextOrderId++,
      account.accountId,
      p.marketId,
      p.side,
      p.kind,
      p.tif,
      p.priceTicks,
      p.sizeLots,
      p.reduceOnly,
      p.postOnly,
      p.stp,
      p.clientOrderId,
      p.triggerPriceTicks,
      p.expiresAtMs,
    )
    registerOrder(tx, account, order)
    market.untriggered.set(order.orderId, order)
    emitOrder(tx, order, OrderStatus.Untriggered)
    return { ok: true, orderId: order.orderId }
  }

  const spec = placeSpec
  spec.account = account
  spec.market = market
  spec.side = p.side
  spec.kind = p.kind
  spec.tif = p.tif
  spec.limitPriceTicks = p.priceTicks
  spec.sizeLots = p.sizeLots
  spec.reduceOnly = p.reduceOnly
  spec.postOnly = p.postOnly
  spec.stp = p.stp
  spec.clientOrderId = p.clientOrderId
  spec.expiresAtMs = p.expiresAtMs
  const result = executeOrder(tx, spec as ExecuteSpec)
  // Holds no state between operations.
  spec.account = null
  spec.market = null
  return result
}
