import type { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../ops.ts'

/**
 * An open order: resting in a book, or waiting for its trigger.
 * The book owns `prev`, `next` and `level`; nothing else writes them.
 */
export class Order {
  /** Global, sequential, never reused. Also the time priority within a price level. */
  readonly orderId: number
  readonly accountId: number
  readonly marketId: number
  readonly side: Side
  readonly kind: OrderKind
  readonly tif: TimeInForce
  readonly reduceOnly: boolean
  readonly postOnly: boolean
  readonly stp: SelfTradePrevention
  readonly clientOrderId: bigint
  readonly triggerPriceTicks: number
  /** 0 when the order never expires. */
  readonly expiresAtMs: number
  priceTicks: number
  remainingLots: number
  /** Set when the order triggered; stop and take-profit orders rest only after that. */
  triggered: boolean

  prev: Order | null = null
  next: Order | null = null
  /** The book's price level this order rests in, or null when not resting. */
  level: unknown = null

  constructor(
    orderId: number,
    accountId: number,
    marketId: number,
    side: Side,
    kind: OrderKind,
    tif: TimeInForce,
    priceTicks: number,
    remainingLots: number,
    reduceOnly: boolean,
    postOnly: boolean,
    stp: SelfTradePrevention,
    clientOrderId: bigint,
    triggerPriceTicks: number,
    expiresAtMs: number,
  ) {
    this.orderId = orderId
    this.accountId = accountId
    this.marketId = marketId
    this.side = side
    this.kind = kind
    this.tif = tif
    this.priceTicks = priceTicks
    this.remainingLots = remainingLots
    this.reduceOnly = reduceOnly
    this.postOnly = postOnly
    this.stp = stp
    this.clientOrderId = clientOrderId
    this.triggerPriceTicks = triggerPriceTicks
    this.expiresAtMs = expiresAtMs
    this.triggered = false
  }
}
