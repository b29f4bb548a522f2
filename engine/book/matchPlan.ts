import type { Order } from './order.ts'

export type MakerCancelReason = 'selfTrade' | 'expired'

/**
 * The outcome of `OrderBook.match`, computed without touching the book. The engine applies it:
 * `fillMaker` for each fill, `remove` for each cancel. Reused between calls: arrays only grow, and the
 * entries past `fillCount` / `cancelCount` are stale.
 */
export class MatchPlan {
  /** Fills in execution order; only the first `fillCount` entries are valid. Each fill is at `makers[i].priceTicks`. */
  readonly makers: Order[] = []
  readonly lots: number[] = []
  fillCount = 0
  /** Sum of the valid `lots`. */
  filledLots = 0
  /** Makers to cancel (self-trade or expired), with the reason; first `cancelCount` valid. */
  readonly cancels: Order[] = []
  readonly cancelReasons: MakerCancelReason[] = []
  /** How many fills precede each cancel, so fills and cancels can be reported in execution order. */
  readonly cancelAfterFills: number[] = []
  cancelCount = 0
  /** Self-trade prevention stopped the taker (modes 1 and 2): its remainder must not rest. */
  takerStopped = false

  reset(): void {
    this.fillCount = 0
    this.filledLots = 0
    this.cancelCount = 0
    this.takerStopped = false
  }

  addFill(maker: Order, lots: number): void {
    const n = this.fillCount
    this.makers[n] = maker
    this.lots[n] = lots
    this.fillCount = n + 1
    this.filledLots += lots
  }

  addCancel(maker: Order, reason: MakerCancelReason): void {
    const n = this.cancelCount
    this.cancels[n] = maker
    this.cancelReasons[n] = reason
    this.cancelAfterFills[n] = this.fillCount
    this.cancelCount = n + 1
  }
}
