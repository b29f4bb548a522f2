import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SelfTradePrevention, Side } from '../ops.ts'
import { makeOrder } from './makeOrder.ts'
import { MatchPlan } from './matchPlan.ts'
import type { Order } from './order.ts'
import { OrderBook } from './orderBook.ts'

/**
 * The book against a naive reference: flat arrays sorted by price priority, then orderId, matched by a plain
 * loop of the documented rule. Orders are driven through the book the way the engine does: match, apply the
 * plan (cancels, then fills), and rest the remainder of a GTC taker unless self-trade prevention stopped it.
 */

interface RefOrder {
  orderId: number
  accountId: number
  side: Side
  priceTicks: number
  lots: number
  expiresAtMs: number
}

interface PlanView {
  fills: [number, number, number][]
  cancels: [number, string, number][]
  filledLots: number
  takerStopped: boolean
}

class ReferenceBook {
  orders: RefOrder[] = []

  sorted(side: Side): RefOrder[] {
    return this.orders
      .filter((o) => o.side === side)
      .sort((a, b) =>
        a.priceTicks !== b.priceTicks
          ? side === Side.Buy
            ? b.priceTicks - a.priceTicks
            : a.priceTicks - b.priceTicks
          : a.orderId - b.orderId,
      )
  }

  match(
    accountId: number,
    side: Side,
    limitTicks: number,
    lots: number,
    stp: SelfTradePrevention,
    nowMs: number,
  ): PlanView {
    const plan: PlanView = { fills: [], cancels: [], filledLots: 0, takerStopped: false }
    let left = lots
    for (const m of this.sorted(side === Side.Buy ? Side.Sell : Side.Buy)) {
      if (left === 0) break
      if (side === Side.Buy ? m.priceTicks > limitTicks : m.priceTicks < limitTicks) break
      if (m.expiresAtMs !== 0 && m.expiresAtMs <= nowMs) {
        plan.cancels.push([m.orderId, 'expired', plan.fills.length])
        continue
      }
      if (m.accountId === accountId) {
        if (stp === SelfTradePrevention.ExpireTaker) {
          plan.takerStopped = true
          break
        }
        plan.cancels.push([m.orderId, 'selfTrade', plan.fills.length])
        if (stp === SelfTradePrevention.ExpireBoth) {
          plan.takerStopped = true
          break
        }
        continue
      }
      const n = Math.min(left, m.lots)
      plan.fills.push([m.orderId, m.priceTicks, n])
      plan.filledLots += n
      left -= n
    }
    return plan
  }

  apply(plan: PlanView): void {
    for (const [id] of plan.cancels) this.orders = this.orders.filter((o) => o.orderId !== id)
    for (const [id, , n] of plan.fills) {
      const o = this.orders.find((x) => x.orderId === id)!
      o.lots -= n
      if (o.lots === 0) this.orders = this.orders.filter((x) => x !== o)
    }
  }
}

function viewOf(plan: MatchPlan): PlanView {
  const fills: [number, number, number][] = []
  for (let i = 0; i < plan.fillCount; i++) {
    fills.push([plan.makers[i]!.orderId, plan.makers[i]!.priceTicks, plan.lots[i]!])
  }
  const cancels: [number, string, number][] = []
  for (let i = 0; i < plan.cancelCount; i++) {
    cancels.push([plan.cancels[i]!.orderId, plan.cancelReasons[i]!, plan.cancelAfterFills[i]!])
  }
  return { fills, cancels, filledLots: plan.filledLots, takerStopped: plan.takerStopped }
}

function bookView(book: OrderBook, side: Side): [number, number, number][] {
  return [...book.ordersInPriority(side)].map((o) => [o.orderId, o.priceTicks, o.remainingLots])
}

function refView(ref: ReferenceBook, side: Side): [number, number, number][] {
  return ref.sorted(side).map((o) => [o.orderId, o.priceTicks, o.lots])
}

type Command =
  | {
      kind: 'place'
      accountId: number
      side: Side
      priceTicks: number
      lots: number
      gtc: boolean
      stp: SelfTradePrevention
      ttlMs: number
    }
  | { kind: 'cancel'; pick: number }
  | { kind: 'reduce'; pick: number; keepPpm: number }
  | { kind: 'advance'; ms: number }

const side = fc.constantFrom<Side>(Side.Buy, Side.Sell)
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('place' as const),
      accountId: fc.integer({ min: 1, max: 3 }),
      side,
      priceTicks: fc.integer({ min: 95, max: 105 }),
      lots: fc.integer({ min: 1, max: 12 }),
      gtc: fc.boolean(),
      stp: fc.constantFrom<SelfTradePrevention>(0, 1, 2),
      ttlMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reduce' as const),
      pick: fc.nat(),
      keepPpm: fc.integer({ min: 0, max: 999_999 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6 }) }),
  },
)

function runCommands(commands: Command[]): void {
  const book = new OrderBook(7)
  const ref = new ReferenceBook()
  const plan = new MatchPlan()
  const live = new Map<number, Order>()
  let nowMs = 100
  let nextId = 1
  for (const c of commands) {
    if (c.kind === 'advance') {
      nowMs += c.ms
    } else if (c.kind === 'cancel' || c.kind === 'reduce') {
      const all = [...live.values()]
      if (all.length === 0) continue
      const order = all[c.pick % all.length]!
      const r = ref.orders.find((o) => o.orderId === order.orderId)!
      if (c.kind === 'cancel') {
        book.remove(order)
        live.delete(order.orderId)
        ref.orders = ref.orders.filter((o) => o !== r)
      } else {
        // floor: keep a whole number of lots, at least one
        const keep = Math.max(1, Math.floor((order.remainingLots * c.keepPpm) / 1_000_000))
        if (keep >= order.remainingLots) continue
        book.reduce(order, keep)
        r.lots = keep
      }
    } else {
      const before = [
        bookView(book, Side.Buy),
        bookView(book, Side.Sell),
        book.depth(0, 100),
        book.depth(1, 100),
      ]
      book.match(c.accountId, c.side, c.priceTicks, c.lots, c.stp, nowMs, plan)
      const after = [
        bookView(book, Side.Buy),
        bookView(book, Side.Sell),
        book.depth(0, 100),
        book.depth(1, 100),
      ]
      expect(after).toEqual(before)
      const expected = ref.match(c.accountId, c.side, c.priceTicks, c.lots, c.stp, nowMs)
      expect(viewOf(plan)).toEqual(expected)

      for (let i = 0; i < plan.cancelCount; i++) {
        book.remove(plan.cancels[i]!)
        live.delete(plan.cancels[i]!.orderId)
      }
      for (let i = 0; i < plan.fillCount; i++) {
        if (book.fillMaker(plan.makers[i]!, plan.lots[i]!)) live.delete(plan.makers[i]!.orderId)
      }
      ref.apply(expected)

      const orderId = nextId++
      const left = c.lots - plan.filledLots
      if (c.gtc && left > 0 && !plan.takerStopped) {
        // The remainder of a taker that was not stopped never crosses: every maker within its limit is gone.
        const opposite = c.side === Side.Buy ? book.bestAskTicks() : book.bestBidTicks()
        if (opposite !== 0)
          expect(c.side === Side.Buy ? opposite > c.priceTicks : opposite < c.priceTicks).toBe(true)
        const expiresAtMs = c.ttlMs === 0 ? 0 : nowMs + c.ttlMs
        const order = makeOrder({
          orderId,
          accountId: c.accountId,
          side: c.side,
          priceTicks: c.priceTicks,
          lots: left,
          expiresAtMs,
          marketId: 7,
        })
        book.insert(order)
        live.set(orderId, order)
        ref.orders.push({
          orderId,
          accountId: c.accountId,
          side: c.side,
          priceTicks: c.priceTicks,
          lots: left,
          expiresAtMs,
        })
      }
    }
    expect(book.checkInvariants()).toBeNull()
    expect(book.size).toBe(ref.orders.length)
    for (const s of [Side.Buy, Side.Sell]) {
      const orders = bookView(book, s)
      expect(orders).toEqual(refView(ref, s))
      // Price-time priority, stated directly.
      for (let i = 1; i < orders.length; i++) {
        const [prevId, prevPrice] = orders[i - 1]!
        const [id, price] = orders[i]!
        const better = s === Side.Buy ? prevPrice > price : prevPrice < price
        expect(better || (prevPrice === price && prevId < id)).toBe(true)
      }
    }
    const bid = book.bestBidTicks()
    const ask = book.bestAskTicks()
    if (bid !== 0 && ask !== 0) expect(bid).toBeLessThan(ask)
  }
}

describe('OrderBook against a naive reference', () => {
  it('produces the same plans and the same book for random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 120 }), (commands) => runCommands(commands)),
      { numRuns: 300 },
    )
  })

  it('impact price equals a cumulative walk of the reference', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            side,
            priceTicks: fc.integer({ min: 1, max: 40 }),
            lots: fc.integer({ min: 1, max: 9 }),
          }),
          {
            maxLength: 40,
          },
        ),
        side,
        fc.bigInt({ min: 0n, max: 5000n }),
        fc.bigInt({ min: 1n, max: 3n }),
        (specs, walkSide, notional, perLotTick) => {
          // Bids 1..40, asks 101..140, so the book is never crossed.
          const book = new OrderBook(1)
          const ref: RefOrder[] = []
          specs.forEach((s, i) => {
            const priceTicks = s.side === Side.Buy ? s.priceTicks : s.priceTicks + 100
            book.insert(makeOrder({ orderId: i + 1, accountId: 1, side: s.side, priceTicks, lots: s.lots }))
            ref.push({ orderId: i + 1, accountId: 1, side: s.side, priceTicks, lots: s.lots, expiresAtMs: 0 })
          })
          const rb = new ReferenceBook()
          rb.orders = ref
          let cumulative = 0n
          let expected = 0
          for (const o of rb.sorted(walkSide)) {
            cumulative += BigInt(o.lots * o.priceTicks) * perLotTick
            if (cumulative >= notional) {
              expected = o.priceTicks
              break
            }
          }
          // A level is reached as a whole: the reference may stop inside a level, at that level's price.
          expect(book.impactPriceTicks(walkSide, notional, perLotTick)).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
  })
})
