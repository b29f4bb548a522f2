import { describe, expect, it } from 'vitest'
import { SelfTradePrevention, Side } from '../ops.ts'
import { MAX_PRICE_TICKS } from '../units.ts'
import { makeOrder } from './makeOrder.ts'
import { MatchPlan } from './matchPlan.ts'
import type { Order } from './order.ts'
import { OrderBook } from './orderBook.ts'

const { Buy, Sell } = Side
const { ExpireMaker, ExpireTaker, ExpireBoth } = SelfTradePrevention

let nextId = 1
function rest(
  book: OrderBook,
  accountId: number,
  side: Side,
  priceTicks: number,
  lots: number,
  expiresAtMs = 0,
) {
  const order = makeOrder({ orderId: nextId++, accountId, side, priceTicks, lots, expiresAtMs })
  book.insert(order)
  return order
}

function ids(orders: Iterable<Order>): number[] {
  return [...orders].map((o) => o.orderId)
}

function fills(plan: MatchPlan): [number, number, number][] {
  const out: [number, number, number][] = []
  for (let i = 0; i < plan.fillCount; i++) {
    out.push([plan.makers[i]!.orderId, plan.makers[i]!.priceTicks, plan.lots[i]!])
  }
  return out
}

function cancels(plan: MatchPlan): [number, string, number][] {
  const out: [number, string, number][] = []
  for (let i = 0; i < plan.cancelCount; i++) {
    out.push([plan.cancels[i]!.orderId, plan.cancelReasons[i]!, plan.cancelAfterFills[i]!])
  }
  return out
}

function snapshot(book: OrderBook) {
  const side = (s: Side) => ({
    depth: book.depth(s, 1_000_000),
    orders: [...book.ordersInPriority(s)].map((o) => [
      o.orderId,
      o.priceTicks,
      o.remainingLots,
      o.prev,
      o.next,
    ]),
  })
  return {
    bid: book.bestBidTicks(),
    ask: book.bestAskTicks(),
    size: book.size,
    bids: side(Buy),
    asks: side(Sell),
  }
}

function ok(book: OrderBook): void {
  expect(book.checkInvariants()).toBeNull()
}

describe('OrderBook: empty', () => {
  it('reports nothing and matches nothing', () => {
    const book = new OrderBook(1)
    const plan = new MatchPlan()
    expect(book.marketId).toBe(1)
    expect(book.bestBidTicks()).toBe(0)
    expect(book.bestAskTicks()).toBe(0)
    expect(book.size).toBe(0)
    expect(book.depth(Buy, 10)).toEqual([])
    expect(book.depth(Sell, 10)).toEqual([])
    expect([...book.ordersInPriority(Buy)]).toEqual([])
    expect(book.impactPriceTicks(Buy, 1n, 1n)).toBe(0)
    expect(book.impactPriceTicks(Sell, 1n, 1n)).toBe(0)
    book.match(1, Buy, MAX_PRICE_TICKS, 10, ExpireMaker, 0, plan)
    expect([plan.fillCount, plan.filledLots, plan.cancelCount, plan.takerStopped]).toEqual([0, 0, 0, false])
    ok(book)
  })
})

describe('OrderBook: insert and priority', () => {
  it('orders bids high to low and asks low to high, then by time', () => {
    const book = new OrderBook(1)
    const b1 = rest(book, 1, Buy, 100, 5)
    const b2 = rest(book, 2, Buy, 102, 1)
    const b3 = rest(book, 3, Buy, 100, 2)
    const b4 = rest(book, 4, Buy, 98, 7)
    const a1 = rest(book, 1, Sell, 110, 4)
    const a2 = rest(book, 2, Sell, 105, 3)
    const a3 = rest(book, 3, Sell, 110, 6)
    expect(book.bestBidTicks()).toBe(102)
    expect(book.bestAskTicks()).toBe(105)
    expect(book.size).toBe(7)
    expect(book.levelCount(Buy)).toBe(3)
    expect(book.levelCount(Sell)).toBe(2)
    expect(ids(book.ordersInPriority(Buy))).toEqual([b2, b1, b3, b4].map((o) => o.orderId))
    expect(ids(book.ordersInPriority(Sell))).toEqual([a2, a1, a3].map((o) => o.orderId))
    expect(book.depth(Buy, 10)).toEqual([
      { priceTicks: 102, sizeLots: 1 },
      { priceTicks: 100, sizeLots: 7 },
      { priceTicks: 98, sizeLots: 7 },
    ])
    expect(book.depth(Sell, 1)).toEqual([{ priceTicks: 105, sizeLots: 3 }])
    expect(book.depth(Sell, 0)).toEqual([])
    ok(book)
  })

  it('keeps levels sorted when inserted in any order, far from the best and at 2^40', () => {
    const prices = [500, 1, 900, 250, 501, 499, MAX_PRICE_TICKS, 2, 750, 900]
    const asks = new OrderBook(1)
    const bids = new OrderBook(1)
    for (const p of prices) rest(asks, 1, Sell, p, 1)
    for (const p of prices) rest(bids, 2, Buy, p, 1)
    const distinct = [...new Set(prices)]
    expect(asks.depth(Sell, 100).map((l) => l.priceTicks)).toEqual([...distinct].sort((a, b) => a - b))
    expect(bids.depth(Buy, 100).map((l) => l.priceTicks)).toEqual([...distinct].sort((a, b) => b - a))
    expect(asks.depth(Sell, 100).find((l) => l.priceTicks === 900)).toEqual({ priceTicks: 900, sizeLots: 2 })
    ok(asks)
    ok(bids)
  })

  it('rejects an order that already rests, is for another market, or has no lots', () => {
    const book = new OrderBook(1)
    const order = rest(book, 1, Buy, 100, 5)
    expect(() => book.insert(order)).toThrow(/already rests/)
    expect(() =>
      book.insert(makeOrder({ orderId: 99, accountId: 1, side: Buy, priceTicks: 1, lots: 1, marketId: 2 })),
    ).toThrow(/market 2/)
    expect(() =>
      book.insert(makeOrder({ orderId: 98, accountId: 1, side: Buy, priceTicks: 1, lots: 0 })),
    ).toThrow(/bad/)
    expect(() =>
      book.insert(makeOrder({ orderId: 97, accountId: 1, side: Buy, priceTicks: 0, lots: 1 })),
    ).toThrow(/bad/)
    expect(() =>
      book.insert(makeOrder({ orderId: 96, accountId: 1, side: Buy, priceTicks: 1.5, lots: 1 })),
    ).toThrow(/bad/)
    expect(book.size).toBe(1)
    ok(book)
  })
})

describe('OrderBook: remove', () => {
  for (const [where, index] of [
    ['head', 0],
    ['middle', 2],
    ['tail', 4],
  ] as const) {
    it(`removes the ${where} of a level touching only its neighbours`, () => {
      const book = new OrderBook(1)
      const level = [1, 2, 3, 4, 5].map((a) => rest(book, a, Buy, 100, a))
      rest(book, 9, Buy, 99, 1)
      const target = level[index]!
      // Trap every order that is neither the target nor its neighbour: a scan would read their links.
      const trapped = level.filter((_o, i) => Math.abs(i - index) > 1)
      for (const o of trapped) {
        for (const field of ['prev', 'next'] as const) {
          const value = o[field]
          Object.defineProperty(o, field, {
            configurable: true,
            get() {
              throw new Error(`scanned order ${o.orderId}`)
            },
            set() {
              throw new Error(`wrote order ${o.orderId}`)
            },
          })
          ;(o as unknown as Record<string, unknown>)[`saved_${field}`] = value
        }
      }
      book.remove(target)
      for (const o of trapped) {
        for (const field of ['prev', 'next'] as const) {
          const saved = (o as unknown as Record<string, unknown>)[`saved_${field}`]
          Object.defineProperty(o, field, { configurable: true, writable: true, value: saved })
        }
      }
      expect([target.level, target.prev, target.next]).toEqual([null, null, null])
      expect(ids(book.ordersInPriority(Buy))).toEqual(
        level
          .filter((o) => o !== target)
          .map((o) => o.orderId)
          .concat(nextId - 1),
      )
      expect(book.depth(Buy, 1)).toEqual([{ priceTicks: 100, sizeLots: 15 - target.remainingLots }])
      ok(book)
    })
  }

  it('removes an emptied level and re-creates it at the tail of time priority', () => {
    const book = new OrderBook(1)
    const a = rest(book, 1, Sell, 100, 1)
    const b = rest(book, 1, Sell, 101, 1)
    book.remove(a)
    expect(book.bestAskTicks()).toBe(101)
    expect(book.levelCount(Sell)).toBe(1)
    const c = rest(book, 2, Sell, 100, 3)
    const d = rest(book, 3, Sell, 100, 4)
    expect(book.bestAskTicks()).toBe(100)
    expect(ids(book.ordersInPriority(Sell))).toEqual([c.orderId, d.orderId, b.orderId])
    book.remove(b)
    book.remove(c)
    book.remove(d)
    expect(book.size).toBe(0)
    expect(book.bestAskTicks()).toBe(0)
    ok(book)
    // A removed order may rest again (the engine re-inserts on modify).
    book.insert(a)
    expect(book.bestAskTicks()).toBe(100)
    ok(book)
  })

  it('removes a level deep in the book', () => {
    const book = new OrderBook(1)
    const deep = rest(book, 1, Buy, 50, 1)
    for (let p = 51; p <= 60; p++) rest(book, 1, Buy, p, 1)
    book.remove(deep)
    expect(book.depth(Buy, 100).map((l) => l.priceTicks)).toEqual([60, 59, 58, 57, 56, 55, 54, 53, 52, 51])
    ok(book)
  })

  it('throws for an order that does not rest here', () => {
    const book = new OrderBook(1)
    const order = makeOrder({ orderId: 1, accountId: 1, side: Buy, priceTicks: 10, lots: 1 })
    expect(() => book.remove(order)).toThrow(/does not rest/)
    book.insert(order)
    book.remove(order)
    expect(() => book.remove(order)).toThrow(/does not rest/)
    const other = new OrderBook(2)
    const foreign = makeOrder({ orderId: 2, accountId: 1, side: Buy, priceTicks: 10, lots: 1, marketId: 2 })
    other.insert(foreign)
    expect(() => book.remove(foreign)).toThrow(/does not rest/)
  })
})

describe('OrderBook: reduce and fillMaker', () => {
  it('reduce keeps time priority and updates the level size', () => {
    const book = new OrderBook(1)
    const a = rest(book, 1, Sell, 100, 10)
    const b = rest(book, 2, Sell, 100, 10)
    book.reduce(a, 3)
    expect(a.remainingLots).toBe(3)
    expect(ids(book.ordersInPriority(Sell))).toEqual([a.orderId, b.orderId])
    expect(book.depth(Sell, 1)).toEqual([{ priceTicks: 100, sizeLots: 13 }])
    for (const bad of [0, 3, 4, -1, 1.5, Number.NaN]) expect(() => book.reduce(a, bad)).toThrow(/cannot go/)
    ok(book)
  })

  it('fillMaker reduces on a partial fill and removes on an exact fill', () => {
    const book = new OrderBook(1)
    const a = rest(book, 1, Buy, 100, 10)
    const b = rest(book, 2, Buy, 100, 5)
    expect(book.fillMaker(a, 4)).toBe(false)
    expect(a.remainingLots).toBe(6)
    expect(book.fillMaker(a, 6)).toBe(true)
    expect([a.remainingLots, a.level]).toEqual([0, null])
    expect(() => book.fillMaker(b, 6)).toThrow()
    expect(() => book.fillMaker(b, 0)).toThrow()
    expect(book.fillMaker(b, 5)).toBe(true)
    expect(book.size).toBe(0)
    ok(book)
  })
})

describe('OrderBook: match', () => {
  it('fills exactly one maker', () => {
    const book = new OrderBook(1)
    const m = rest(book, 1, Sell, 100, 5)
    const plan = new MatchPlan()
    book.match(2, Buy, 100, 5, ExpireMaker, 0, plan)
    expect(fills(plan)).toEqual([[m.orderId, 100, 5]])
    expect(plan.filledLots).toBe(5)
  })

  it('walks levels best first at the maker price, with partial fill of the last maker', () => {
    const book = new OrderBook(1)
    const a = rest(book, 1, Sell, 101, 2)
    const b = rest(book, 2, Sell, 100, 3)
    const c = rest(book, 3, Sell, 101, 4)
    rest(book, 4, Sell, 103, 9)
    const plan = new MatchPlan()
    book.match(9, Buy, 102, 7, ExpireMaker, 0, plan)
    expect(fills(plan)).toEqual([
      [b.orderId, 100, 3],
      [a.orderId, 101, 2],
      [c.orderId, 101, 2],
    ])
    expect([plan.filledLots, plan.takerStopped, plan.cancelCount]).toEqual([7, false, 0])
  })

  it('treats the limit as inclusive on both sides and stops beyond it', () => {
    const book = new OrderBook(1)
    const ask = rest(book, 1, Sell, 100, 5)
    rest(book, 1, Sell, 101, 5)
    const bid = rest(book, 1, Buy, 90, 5)
    rest(book, 1, Buy, 89, 5)
    const plan = new MatchPlan()
    book.match(2, Buy, 100, 50, ExpireMaker, 0, plan)
    expect(fills(plan)).toEqual([[ask.orderId, 100, 5]])
    book.match(2, Buy, 99, 50, ExpireMaker, 0, plan)
    expect(plan.fillCount).toBe(0)
    book.match(2, Sell, 90, 50, ExpireMaker, 0, plan)
    expect(fills(plan)).toEqual([[bid.orderId, 90, 5]])
    book.match(2, Sell, 91, 50, ExpireMaker, 0, plan)
    expect(plan.fillCount).toBe(0)
    book.match(2, Sell, 1, 50, ExpireMaker, 0, plan)
    expect(plan.filledLots).toBe(10)
  })

  it('reports an unfilled remainder when liquidity runs out', () => {
    const book = new OrderBook(1)
    rest(book, 1, Buy, 90, 5)
    const plan = new MatchPlan()
    book.match(2, Sell, 1, 8, ExpireMaker, 0, plan)
    expect([plan.filledLots, plan.fillCount, plan.takerStopped]).toEqual([5, 1, false])
    book.match(2, Sell, 1, 0, ExpireMaker, 0, plan)
    expect(plan.fillCount).toBe(0)
  })

  describe('self-trade prevention', () => {
    function setup() {
      const book = new OrderBook(1)
      const other1 = rest(book, 2, Sell, 100, 1)
      const self = rest(book, 1, Sell, 100, 5)
      const other2 = rest(book, 3, Sell, 101, 4)
      return { book, other1, self, other2 }
    }
    it('0 expire maker: cancels the own maker and keeps matching', () => {
      const { book, other1, self, other2 } = setup()
      const plan = new MatchPlan()
      book.match(1, Buy, 101, 4, ExpireMaker, 0, plan)
      expect(fills(plan)).toEqual([
        [other1.orderId, 100, 1],
        [other2.orderId, 101, 3],
      ])
      expect(cancels(plan)).toEqual([[self.orderId, 'selfTrade', 1]])
      expect(plan.takerStopped).toBe(false)
    })
    it('1 expire taker: stops at the own maker and leaves it', () => {
      const { book, other1 } = setup()
      const plan = new MatchPlan()
      book.match(1, Buy, 101, 4, ExpireTaker, 0, plan)
      expect(fills(plan)).toEqual([[other1.orderId, 100, 1]])
      expect(cancels(plan)).toEqual([])
      expect([plan.takerStopped, plan.filledLots]).toEqual([true, 1])
    })
    it('2 expire both: cancels the own maker and stops', () => {
      const { book, other1, self } = setup()
      const plan = new MatchPlan()
      book.match(1, Buy, 101, 4, ExpireBoth, 0, plan)
      expect(fills(plan)).toEqual([[other1.orderId, 100, 1]])
      expect(cancels(plan)).toEqual([[self.orderId, 'selfTrade', 1]])
      expect(plan.takerStopped).toBe(true)
    })
    it('does not look at makers beyond the limit or after the taker is filled', () => {
      const { book } = setup()
      const plan = new MatchPlan()
      book.match(1, Buy, 101, 1, ExpireTaker, 0, plan)
      expect([plan.filledLots, plan.takerStopped]).toEqual([1, false])
    })
  })

  it('cancels expired makers (expiresAtMs <= now) instead of filling them, before self-trade checks', () => {
    const book = new OrderBook(1)
    const expired = rest(book, 2, Buy, 100, 5, 1000)
    const ownExpired = rest(book, 1, Buy, 100, 5, 999)
    const later = rest(book, 3, Buy, 100, 5, 1001)
    const never = rest(book, 4, Buy, 99, 5, 0)
    const plan = new MatchPlan()
    book.match(1, Sell, 99, 8, ExpireTaker, 1000, plan)
    expect(cancels(plan)).toEqual([
      [expired.orderId, 'expired', 0],
      [ownExpired.orderId, 'expired', 0],
    ])
    expect(fills(plan)).toEqual([
      [later.orderId, 100, 5],
      [never.orderId, 99, 3],
    ])
    expect(plan.takerStopped).toBe(false)
    book.match(1, Sell, 99, 8, ExpireTaker, 999, plan)
    expect(fills(plan)).toEqual([
      [expired.orderId, 100, 5],
      [later.orderId, 100, 3],
    ])
    expect(cancels(plan)).toEqual([[ownExpired.orderId, 'expired', 1]])
    expect(plan.takerStopped).toBe(false)
    book.match(1, Sell, 99, 8, ExpireTaker, 998, plan)
    expect(fills(plan)).toEqual([[expired.orderId, 100, 5]])
    expect(cancels(plan)).toEqual([])
    expect(plan.takerStopped).toBe(true)
  })

  it('does not mutate the book, and reuses the plan', () => {
    const book = new OrderBook(1)
    rest(book, 1, Sell, 100, 5, 10)
    rest(book, 2, Sell, 100, 5)
    rest(book, 3, Sell, 102, 5)
    rest(book, 4, Buy, 90, 5)
    const before = snapshot(book)
    const plan = new MatchPlan()
    book.match(2, Buy, 200, 100, ExpireMaker, 50, plan)
    expect([plan.fillCount, plan.cancelCount]).toEqual([1, 2])
    const makersArray = plan.makers
    book.match(3, Buy, 101, 1, ExpireMaker, 0, plan)
    expect([plan.fillCount, plan.cancelCount, plan.filledLots, plan.takerStopped]).toEqual([1, 0, 1, false])
    expect(plan.makers).toBe(makersArray)
    expect(snapshot(book)).toEqual(before)
  })

  it('applied the way the engine does, leaves a book that is not crossed', () => {
    const book = new OrderBook(1)
    rest(book, 1, Sell, 100, 5)
    rest(book, 2, Sell, 101, 5)
    const plan = new MatchPlan()
    book.match(3, Buy, 101, 12, ExpireMaker, 0, plan)
    for (let i = 0; i < plan.cancelCount; i++) book.remove(plan.cancels[i]!)
    for (let i = 0; i < plan.fillCount; i++) book.fillMaker(plan.makers[i]!, plan.lots[i]!)
    expect(book.bestAskTicks()).toBe(0)
    rest(book, 3, Buy, 101, 12 - plan.filledLots)
    expect([book.bestBidTicks(), book.depth(Buy, 1)[0]!.sizeLots]).toEqual([101, 2])
    ok(book)
  })
})

describe('OrderBook: impactPriceTicks', () => {
  it('returns the level where the cumulative notional first reaches the target', () => {
    const book = new OrderBook(1)
    rest(book, 1, Sell, 100, 2) // 200 * q
    rest(book, 1, Sell, 100, 1) // 300 * q cumulative
    rest(book, 1, Sell, 105, 4) // 720 * q
    rest(book, 1, Sell, 110, 1) // 830 * q
    rest(book, 1, Buy, 90, 3) // 270 * q
    rest(book, 1, Buy, 80, 1) // 350 * q
    const q = 7n
    expect(book.impactPriceTicks(Sell, 1n, q)).toBe(100)
    expect(book.impactPriceTicks(Sell, 300n * q, q)).toBe(100)
    expect(book.impactPriceTicks(Sell, 300n * q + 1n, q)).toBe(105)
    expect(book.impactPriceTicks(Sell, 720n * q, q)).toBe(105)
    expect(book.impactPriceTicks(Sell, 830n * q, q)).toBe(110)
    expect(book.impactPriceTicks(Sell, 830n * q + 1n, q)).toBe(0)
    expect(book.impactPriceTicks(Buy, 270n * q, q)).toBe(90)
    expect(book.impactPriceTicks(Buy, 271n * q, q)).toBe(80)
    expect(book.impactPriceTicks(Buy, 351n * q, q)).toBe(0)
  })

  it('is exact beyond 2^53', () => {
    const book = new OrderBook(1)
    const lots = 2 ** 40
    rest(book, 1, Buy, MAX_PRICE_TICKS, lots)
    rest(book, 1, Buy, MAX_PRICE_TICKS - 1, 1)
    const top = BigInt(lots) * BigInt(MAX_PRICE_TICKS) * 1000n
    expect(book.impactPriceTicks(Buy, top, 1000n)).toBe(MAX_PRICE_TICKS)
    expect(book.impactPriceTicks(Buy, top + 1n, 1000n)).toBe(MAX_PRICE_TICKS - 1)
  })
})

describe('OrderBook: level pool', () => {
  it('reuses level objects without leaking state between prices', () => {
    const book = new OrderBook(1)
    for (let round = 0; round < 3; round++) {
      const orders = [10, 20, 30].map((p) => rest(book, 1, Sell, p + round, 1 + round))
      expect(book.depth(Sell, 5)).toEqual(
        [10, 20, 30].map((p) => ({ priceTicks: p + round, sizeLots: 1 + round })),
      )
      for (const o of orders) book.remove(o)
      expect(book.levelCount(Sell)).toBe(0)
      const bid = rest(book, 1, Buy, 5, 2)
      expect(book.depth(Buy, 5)).toEqual([{ priceTicks: 5, sizeLots: 2 }])
      book.remove(bid)
      ok(book)
    }
  })
})
