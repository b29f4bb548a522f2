import { MatchPlan } from '../engine/book/matchPlan.ts'
import { Order } from '../engine/book/order.ts'
import { OrderBook } from '../engine/book/orderBook.ts'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../engine/ops.ts'
import { MAX_PRICE_TICKS } from '../engine/units.ts'

/**
 * A seeded order-flow mix for the matching benchmarks, as plain data so that any book (ours, a peer's, the
 * full engine) can replay exactly the same operations:
 * - 70% passive GTC limit orders at a price near the current mid (never crossing when generated),
 * - 20% cancels of an order that is live at that point of the sequence,
 * - 10% marketable orders: half GTC limit orders priced through the best opposite price, half market orders.
 * All takers use self-trade prevention "expire maker". Order ids start at 1 and increase by one per order.
 *
 * With fixed sizes this mix only ever grows the book (70 orders in, at most 20 cancelled per 100 ops), into
 * thousands of orders per level. Real books are held steady by their flow, so marketable sizes scale with
 * the book: uniform in 1..max(maxLots, 10 * maxLots * resting / targetRestingOrders), which keeps the book near
 * `targetRestingOrders`. `targetRestingOrders: Infinity` gives fixed sizes 1..maxLots.
 */

export type WorkloadOp =
  | { type: 'limit'; orderId: number; accountId: number; side: Side; priceTicks: number; sizeLots: number }
  | { type: 'market'; orderId: number; accountId: number; side: Side; sizeLots: number }
  | { type: 'cancel'; orderId: number }

export interface WorkloadOptions {
  /** Mid price used while a side of the book is empty. */
  startMidTicks: number
  /** Passive orders rest 0..maxOffsetTicks-1 ticks behind the touch. */
  maxOffsetTicks: number
  /** Passive order sizes are uniform in 1..maxLots. */
  maxLots: number
  /** The book size that marketable order sizes steer towards. */
  targetRestingOrders: number
  /** Crossing limit orders reach 0..maxCrossTicks-1 ticks beyond the best opposite price. */
  maxCrossTicks: number
  accounts: number
}

export const DEFAULT_WORKLOAD_OPTIONS: WorkloadOptions = {
  startMidTicks: 1_000_000,
  maxOffsetTicks: 50,
  maxLots: 100,
  targetRestingOrders: 20_000,
  maxCrossTicks: 3,
  accounts: 1000,
}

/** mulberry32: a 32-bit state PRNG, returns a uint32 per call. Deterministic for a seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

export interface Workload {
  seed: number
  ops: WorkloadOp[]
  /** Highest order id used. */
  maxOrderId: number
  /** What a correct replay must end with: resting orders, price levels and lots traded. */
  restingOrdersAtEnd: number
  levelsAtEnd: number
  tradedLots: number
}

/**
 * Builds the mix while replaying it into a reference book, so that cancels always target a live order and
 * passive prices follow the book's real mid.
 */
export function generateWorkload(seed: number, count: number, opts: Partial<WorkloadOptions> = {}): Workload {
  const o: WorkloadOptions = { ...DEFAULT_WORKLOAD_OPTIONS, ...opts }
  const next = mulberry32(seed)
  // uniform in [0, n) for n << 2^32; the modulo bias is irrelevant for a benchmark
  const below = (n: number): number => next() % n
  const book = new OrderBook(1)
  const plan = new MatchPlan()
  const live: Order[] = []
  const livePos = new Map<number, number>()
  const ops: WorkloadOp[] = []
  let orderId = 0
  let tradedLots = 0

  const dropLive = (order: Order): void => {
    const at = livePos.get(order.orderId)
    if (at === undefined) return
    const last = live.pop()!
    if (last !== order) {
      live[at] = last
      livePos.set(last.orderId, at)
    }
    livePos.delete(order.orderId)
  }
  const take = (accountId: number, side: Side, limitTicks: number, sizeLots: number): number => {
    book.match(accountId, side, limitTicks, sizeLots, SelfTradePrevention.ExpireMaker, 0, plan)
    for (let i = 0; i < plan.cancelCount; i++) {
      const maker = plan.cancels[i]!
      book.remove(maker)
      dropLive(maker)
    }
    for (let i = 0; i < plan.fillCount; i++) {
      const maker = plan.makers[i]!
      if (book.fillMaker(maker, plan.lots[i]!)) dropLive(maker)
    }
    tradedLots += plan.filledLots
    return sizeLots - plan.filledLots
  }
  const rest = (id: number, accountId: number, side: Side, priceTicks: number, lots: number): void => {
    const order = new Order(
      id,
      accountId,
      1,
      side,
      OrderKind.Limit,
      TimeInForce.GTC,
      priceTicks,
      lots,
      false,
      false,
      SelfTradePrevention.ExpireMaker,
      0n,
      0,
      0,
    )
    book.insert(order)
    livePos.set(id, live.length)
    live.push(order)
  }

  for (let n = 0; n < count; n++) {
    const roll = below(100)
    const bid = book.bestBidTicks()
    const ask = book.bestAskTicks()
    // floor of the midpoint; either side may be empty
    const mid =
      bid !== 0 && ask !== 0
        ? Math.floor((bid + ask) / 2)
        : bid !== 0
          ? bid + 1
          : ask !== 0
            ? ask - 1
            : o.startMidTicks
    const side: Side = below(2) === 0 ? Side.Buy : Side.Sell
    const accountId = 1 + below(o.accounts)
    if (roll < 20 && live.length > 0) {
      const order = live[below(live.length)]!
      book.remove(order)
      dropLive(order)
      ops.push({ type: 'cancel', orderId: order.orderId })
    } else if (roll < 90) {
      const sizeLots = 1 + below(o.maxLots)
      const offset = below(o.maxOffsetTicks)
      const top = side === Side.Buy ? (ask !== 0 ? Math.min(mid, ask - 1) : mid) : Math.max(mid + 1, bid + 1)
      const priceTicks = side === Side.Buy ? Math.max(1, top - offset) : top + offset
      const id = ++orderId
      rest(id, accountId, side, priceTicks, sizeLots)
      ops.push({ type: 'limit', orderId: id, accountId, side, priceTicks, sizeLots })
    } else {
      // floor: sizes are whole lots
      const maxSizeLots = Math.max(
        o.maxLots,
        Math.floor((10 * o.maxLots * book.size) / o.targetRestingOrders),
      )
      const sizeLots = 1 + below(maxSizeLots)
      const id = ++orderId
      if (below(2) === 0) {
        const cross = below(o.maxCrossTicks)
        const priceTicks =
          side === Side.Buy ? (ask !== 0 ? ask : mid) + cross : Math.max(1, (bid !== 0 ? bid : mid) - cross)
        const leftLots = take(accountId, side, priceTicks, sizeLots)
        if (leftLots > 0) rest(id, accountId, side, priceTicks, leftLots)
        ops.push({ type: 'limit', orderId: id, accountId, side, priceTicks, sizeLots })
      } else {
        take(accountId, side, side === Side.Buy ? MAX_PRICE_TICKS : 1, sizeLots)
        ops.push({ type: 'market', orderId: id, accountId, side, sizeLots })
      }
    }
  }
  return {
    seed,
    ops,
    maxOrderId: orderId,
    restingOrdersAtEnd: book.size,
    levelsAtEnd: book.levelCount(Side.Buy) + book.levelCount(Side.Sell),
    tradedLots,
  }
}
