import { SelfTradePrevention, Side } from '../ops.ts'
import { isLots, isPriceTicks } from '../units.ts'
import { BookSide } from './bookSide.ts'
import type { MatchPlan } from './matchPlan.ts'
import type { Order } from './order.ts'
import { PriceLevel } from './priceLevel.ts'

/** Free levels kept for reuse; beyond this they are left to the garbage collector. */
const LEVEL_POOL_MAX = 4096

export interface DepthLevel {
  priceTicks: number
  sizeLots: number
}

/**
 * The resting limit orders of one market, in price-time priority: better price first, then earlier
 * insertion (the tail of a level is its newest order). Matching is split in two, as the engine needs it:
 * `match` computes a plan without mutating anything, then the caller applies it with `fillMaker` and `remove`.
 *
 * Misuse (removing an order that does not rest here, shrinking by a wrong amount) throws: in the engine an
 * exception is a broken invariant, never a business rejection.
 */
export class OrderBook {
  readonly marketId: number
  private readonly bids = new BookSide(Side.Buy)
  private readonly asks = new BookSide(Side.Sell)
  private readonly levelPool: PriceLevel[] = []

  constructor(marketId: number) {
    this.marketId = marketId
  }

  /** Best resting bid price in ticks; 0 when that side is empty. */
  bestBidTicks(): number {
    return this.bids.best()?.priceTicks ?? 0
  }

  /** Best resting ask price in ticks; 0 when that side is empty. */
  bestAskTicks(): number {
    return this.asks.best()?.priceTicks ?? 0
  }

  /** Number of resting orders on both sides. */
  get size(): number {
    return this.bids.orderCount + this.asks.orderCount
  }

  /** Number of non-empty price levels on one side. */
  levelCount(side: Side): number {
    return this.sideOf(side).levels.length
  }

  /** Rest `order` at the tail of its price level (order.side, order.priceTicks, order.remainingLots > 0). */
  insert(order: Order): void {
    if (order.level !== null) throw new Error(`OrderBook.insert: order ${order.orderId} already rests`)
    if (order.marketId !== this.marketId) {
      throw new Error(
        `OrderBook.insert: order ${order.orderId} is for market ${order.marketId}, not ${this.marketId}`,
      )
    }
    if (!isPriceTicks(order.priceTicks) || !isLots(order.remainingLots)) {
      throw new Error(`OrderBook.insert: order ${order.orderId} has a bad price or size`)
    }
    const bookSide = this.sideOf(order.side)
    let level = bookSide.byPrice.get(order.priceTicks)
    if (level === undefined) {
      level = this.levelPool.pop() ?? new PriceLevel()
      level.priceTicks = order.priceTicks
      level.key = bookSide.keyOf(order.priceTicks)
      bookSide.addLevel(level)
    }
    const tail = level.tail
    order.prev = tail
    order.next = null
    if (tail === null) level.head = order
    else tail.next = order
    level.tail = order
    level.totalLots += order.remainingLots
    if (level.totalLots > Number.MAX_SAFE_INTEGER) throw new Error('OrderBook.insert: level size overflows')
    level.orderCount++
    order.level = level
    bookSide.orderCount++
  }

  /** Remove a resting order. O(1): no scan of the level or the book (an emptied level is unlinked as in `insert`). */
  remove(order: Order): void {
    const level = this.levelOf(order, 'remove')
    const prev = order.prev
    const next = order.next
    if (prev === null) level.head = next
    else prev.next = next
    if (next === null) level.tail = prev
    else next.prev = prev
    order.prev = null
    order.next = null
    order.level = null
    level.totalLots -= order.remainingLots
    level.orderCount--
    const bookSide = this.sideOf(order.side)
    bookSide.orderCount--
    if (level.orderCount === 0) {
      bookSide.removeLevel(level)
      if (this.levelPool.length < LEVEL_POOL_MAX) this.levelPool.push(level)
    }
  }

  /** Shrink a resting order in place and keep its time priority (0 < lots < order.remainingLots). */
  reduce(order: Order, newRemainingLots: number): void {
    const level = this.levelOf(order, 'reduce')
    if (
      !Number.isSafeInteger(newRemainingLots) ||
      newRemainingLots <= 0 ||
      newRemainingLots >= order.remainingLots
    ) {
      throw new Error(
        `OrderBook.reduce: order ${order.orderId} cannot go from ${order.remainingLots} to ${newRemainingLots} lots`,
      )
    }
    level.totalLots -= order.remainingLots - newRemainingLots
    order.remainingLots = newRemainingLots
  }

  /**
   * Apply one fill of a plan to a maker: reduce, or remove when it reaches zero (its `remainingLots` is then 0).
   * Returns true if removed.
   */
  fillMaker(order: Order, lots: number): boolean {
    if (lots === order.remainingLots) {
      this.remove(order)
      order.remainingLots = 0
      return true
    }
    this.reduce(order, order.remainingLots - lots)
    return false
  }

  /**
   * Compute, without mutating the book, how an incoming order would match: walk the opposite side from the best
   * price while the maker price is within `limitPriceTicks` (buy: maker price <= limit; sell: maker price >= limit)
   * until `sizeLots` are matched. For each maker, in priority order:
   * 1. expired (`expiresAtMs !== 0 && expiresAtMs <= nowMs`): cancel it ('expired'), go on;
   * 2. same account as the taker: by `stp`, 0 cancel it ('selfTrade') and go on, 1 stop the taker,
   *    2 cancel it and stop the taker;
   * 3. otherwise fill min(remaining, maker.remainingLots) at the maker's price.
   */
  match(
    takerAccountId: number,
    takerSide: Side,
    limitPriceTicks: number,
    sizeLots: number,
    stp: SelfTradePrevention,
    nowMs: number,
    out: MatchPlan,
  ): void {
    out.reset()
    let remainingLots = sizeLots
    if (!(remainingLots > 0)) return
    const makerSide = takerSide === Side.Buy ? this.asks : this.bids
    // A maker level is within the limit iff its key >= the limit's key on the maker side.
    const limitKey = makerSide.keyOf(limitPriceTicks)
    const keys = makerSide.keys
    const levels = makerSide.levels
    walk: for (let i = levels.length - 1; i >= 0; i--) {
      if (keys[i]! < limitKey) break
      let maker = levels[i]!.head
      while (maker !== null) {
        if (maker.expiresAtMs !== 0 && maker.expiresAtMs <= nowMs) {
          out.addCancel(maker, 'expired')
        } else if (maker.accountId === takerAccountId) {
          if (stp === SelfTradePrevention.ExpireTaker) {
            out.takerStopped = true
            break walk
          }
          out.addCancel(maker, 'selfTrade')
          if (stp === SelfTradePrevention.ExpireBoth) {
            out.takerStopped = true
            break walk
          }
        } else {
          const lots = Math.min(remainingLots, maker.remainingLots)
          out.addFill(maker, lots)
          remainingLots -= lots
          if (remainingLots === 0) break walk
        }
        maker = maker.next
      }
    }
  }

  /**
   * Impact price for funding: walking `side` from the best level (0: bids, the impact bid; 1: asks, the impact ask),
   * the price of the first level at which the cumulative notional, sum of lots * priceTicks * quantumsPerLotTick,
   * reaches `notionalQuantums`. 0 if the side lacks that depth. Counts every resting order.
   */
  impactPriceTicks(side: Side, notionalQuantums: bigint, quantumsPerLotTick: bigint): number {
    const levels = this.sideOf(side).levels
    let cumulativeQuantums = 0n
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!
      cumulativeQuantums += BigInt(level.totalLots) * BigInt(level.priceTicks) * quantumsPerLotTick
      if (cumulativeQuantums >= notionalQuantums) return level.priceTicks
    }
    return 0
  }

  /** Aggregated depth, best first: up to maxLevels entries. For the API and the demo. */
  depth(side: Side, maxLevels: number): DepthLevel[] {
    const levels = this.sideOf(side).levels
    const out: DepthLevel[] = []
    for (let i = levels.length - 1; i >= 0 && out.length < maxLevels; i--) {
      const level = levels[i]!
      out.push({ priceTicks: level.priceTicks, sizeLots: level.totalLots })
    }
    return out
  }

  /**
   * Every resting order of one side in priority order (best price first, then time). Used by snapshots and
   * invariants. Lazy: do not mutate the book while iterating.
   */
  *ordersInPriority(side: Side): Iterable<Order> {
    const levels = this.sideOf(side).levels
    for (let i = levels.length - 1; i >= 0; i--) {
      for (let order = levels[i]!.head; order !== null; order = order.next) yield order
    }
  }

  /** Checks every structural invariant in O(orders); returns the first violation, or null. For tests and audits. */
  checkInvariants(): string | null {
    for (const bookSide of [this.bids, this.asks]) {
      const { keys, levels, byPrice, side } = bookSide
      if (keys.length !== levels.length || byPrice.size !== levels.length)
        return `side ${side}: index sizes differ`
      let orders = 0
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i]!
        if (keys[i] !== level.key || level.key !== bookSide.keyOf(level.priceTicks))
          return `side ${side}: bad key`
        if (i > 0 && !(keys[i - 1]! < keys[i]!)) return `side ${side}: keys not strictly ascending`
        if (byPrice.get(level.priceTicks) !== level) return `side ${side}: map misses ${level.priceTicks}`
        let count = 0
        let lots = 0
        let prev: Order | null = null
        for (let order = level.head; order !== null; order = order.next) {
          if (order.prev !== prev || order.level !== level) return `order ${order.orderId}: bad links`
          if (order.side !== side || order.priceTicks !== level.priceTicks)
            return `order ${order.orderId}: misplaced`
          if (!(order.remainingLots > 0)) return `order ${order.orderId}: no lots`
          // Snapshots restore a level by inserting in ascending order id, so time order must be id order.
          if (prev !== null && !(prev.orderId < order.orderId))
            return `order ${order.orderId}: behind a later order`
          count++
          lots += order.remainingLots
          prev = order
        }
        if (level.tail !== prev) return `level ${level.priceTicks}: bad tail`
        if (count === 0 || count !== level.orderCount || lots !== level.totalLots) {
          return `level ${level.priceTicks}: bad totals`
        }
        orders += count
      }
      if (orders !== bookSide.orderCount) return `side ${side}: bad order count`
    }
    const bid = this.bestBidTicks()
    const ask = this.bestAskTicks()
    if (bid !== 0 && ask !== 0 && bid >= ask) return `crossed: bid ${bid} >= ask ${ask}`
    return null
  }

  private sideOf(side: Side): BookSide {
    return side === Side.Buy ? this.bids : this.asks
  }

  private levelOf(order: Order, what: string): PriceLevel {
    const level = order.level
    if (!(level instanceof PriceLevel) || order.marketId !== this.marketId) {
      throw new Error(`OrderBook.${what}: order ${order.orderId} does not rest in market ${this.marketId}`)
    }
    return level
  }
}
