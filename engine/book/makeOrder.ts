import { OrderKind, SelfTradePrevention, type Side, TimeInForce } from '../ops.ts'
import { Order } from './order.ts'

export interface RestingOrderSpec {
  orderId: number
  accountId: number
  side: Side
  priceTicks: number
  lots: number
  /** 0 (default) never expires. */
  expiresAtMs?: number
  marketId?: number
}

/** A plain GTC (or GTT when `expiresAtMs` is set) limit order, for tests, vectors and benchmarks. */
export function makeOrder(spec: RestingOrderSpec): Order {
  const expiresAtMs = spec.expiresAtMs ?? 0
  return new Order(
    spec.orderId,
    spec.accountId,
    spec.marketId ?? 1,
    spec.side,
    OrderKind.Limit,
    expiresAtMs === 0 ? TimeInForce.GTC : TimeInForce.GTT,
    spec.priceTicks,
    spec.lots,
    false,
    false,
    SelfTradePrevention.ExpireMaker,
    0n,
    0,
    expiresAtMs,
  )
}
