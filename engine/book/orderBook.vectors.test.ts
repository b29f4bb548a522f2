import { describe, expect, it } from 'vitest'
import type { SelfTradePrevention, Side } from '../ops.ts'
import { makeOrder } from './makeOrder.ts'
import { MatchPlan } from './matchPlan.ts'
import { OrderBook } from './orderBook.ts'
import vectors from './vectors/matching.json' with { type: 'json' }

interface BookEntry {
  orderId: number
  accountId: number
  side: number
  priceTicks: number
  lots: number
  expiresAtMs?: number
}

function asSide(x: unknown): Side {
  if (x !== 0 && x !== 1) throw new Error(`bad side ${String(x)}`)
  return x
}

function decimal(x: unknown): bigint {
  if (typeof x !== 'string' || !/^[0-9]+$/.test(x)) throw new Error(`bad decimal ${String(x)}`)
  return BigInt(x)
}

function bookOf(entries: readonly BookEntry[]): OrderBook {
  const book = new OrderBook(1)
  for (const e of entries) {
    book.insert(
      makeOrder({
        orderId: e.orderId,
        accountId: e.accountId,
        side: asSide(e.side),
        priceTicks: e.priceTicks,
        lots: e.lots,
        expiresAtMs: e.expiresAtMs ?? 0,
      }),
    )
  }
  expect(book.checkInvariants()).toBeNull()
  return book
}

function depthPairs(book: OrderBook, side: Side): [number, number][] {
  return book.depth(side, Number.MAX_SAFE_INTEGER).map((l) => [l.priceTicks, l.sizeLots])
}

type Case = (typeof vectors.cases)[number]

function runMatch(c: Case): void {
  if (!('taker' in c)) throw new Error('match case without taker')
  const book = bookOf(c.book)
  const t = c.taker
  const plan = new MatchPlan()
  book.match(
    t.accountId,
    asSide(t.side),
    t.limitPriceTicks,
    t.sizeLots,
    t.stp as SelfTradePrevention,
    t.nowMs,
    plan,
  )
  const fills: [number, number, number][] = []
  for (let i = 0; i < plan.fillCount; i++)
    fills.push([plan.makers[i]!.orderId, plan.makers[i]!.priceTicks, plan.lots[i]!])
  const cancels: [number, string, number][] = []
  for (let i = 0; i < plan.cancelCount; i++) {
    cancels.push([plan.cancels[i]!.orderId, plan.cancelReasons[i]!, plan.cancelAfterFills[i]!])
  }
  expect({ fills, cancels, filledLots: plan.filledLots, takerStopped: plan.takerStopped }).toEqual({
    fills: c.expect.fills,
    cancels: c.expect.cancels,
    filledLots: c.expect.filledLots,
    takerStopped: c.expect.takerStopped,
  })
  for (let i = 0; i < plan.cancelCount; i++) book.remove(plan.cancels[i]!)
  for (let i = 0; i < plan.fillCount; i++) book.fillMaker(plan.makers[i]!, plan.lots[i]!)
  expect(book.checkInvariants()).toBeNull()
  expect(depthPairs(book, 0)).toEqual(c.expect.bidsAfter)
  expect(depthPairs(book, 1)).toEqual(c.expect.asksAfter)
}

function runImpact(c: Case): void {
  if (!('notionalQuantums' in c)) throw new Error('impactPrice case without notional')
  const book = bookOf(c.book)
  const got = book.impactPriceTicks(
    asSide(c.side),
    decimal(c.notionalQuantums),
    decimal(c.quantumsPerLotTick),
  )
  expect(got).toBe(c.expect.priceTicks)
}

function runDepth(c: Case): void {
  if (!('maxLevels' in c)) throw new Error('depth case without maxLevels')
  const book = bookOf(c.book)
  const got = book.depth(asSide(c.side), c.maxLevels).map((l) => [l.priceTicks, l.sizeLots])
  expect(got).toEqual(c.expect.levels)
}

describe('order book vectors (vectors/matching.json)', () => {
  it('has cases', () => {
    expect(vectors.cases.length).toBeGreaterThan(10)
  })
  for (const c of vectors.cases) {
    it(`${c.type}: ${c.name}`, () => {
      switch (c.type) {
        case 'match':
          return runMatch(c)
        case 'impactPrice':
          return runImpact(c)
        case 'depth':
          return runDepth(c)
        default:
          throw new Error(`unknown vector type ${c.type}: add a runner or remove the case`)
      }
    })
  }
})
