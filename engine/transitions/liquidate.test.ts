import { describe, expect, it } from 'vitest'
import { Engine } from '../engine.ts'
import { OrderKind, TimeInForce } from '../ops.ts'
import { accountRisk, isLiquidatable } from '../risk/margin.ts'
import type { EngineState } from '../state/engineState.ts'
import { eventsOf, Harness } from '../testing/harness.ts'
import { testAddress } from '../testing/testConfig.ts'

const USDC = 1_000_000n
const P = 600_000
const A = testAddress(1)
const B = testAddress(2)
const C = testAddress(3)

function liquidatableAccounts(state: EngineState): number[] {
  return state.accounts
    .filter((a) => a.accountId !== 0 && isLiquidatable(accountRisk(state, a)))
    .map((a) => a.accountId)
}

describe('liquidation index upkeep', () => {
  it('finds an account that grew its position by trading since the last price move', () => {
    const h = new Harness()
    h.deposit(A, 100n * USDC)
    h.deposit(B, 1_000_000n * USDC)
    h.deposit(C, 1_000_000n * USDC)
    h.price(1, P)
    // A opens 1 lot as a maker, then grows to 800 lots as a taker: about 49x, no price move in between.
    h.buy(A, P, 1)
    h.sell(B, P, 1, { tif: TimeInForce.IOC })
    h.sell(B, P, 799)
    expect(h.buy(A, P, 799, { tif: TimeInForce.IOC }).result.ok).toBe(true)
    expect(h.position(A)).toBe(800)
    // C bids above A's bankruptcy price (about P - 12,200), so the liquidation goes through the book.
    h.buy(C, P - 11_500, 2_000)
    h.nowMs += 1_000
    const r = h.price(1, P - 12_000)
    expect(eventsOf(r, 'liquidation').map((e) => [e.accountId, e.via])).toContainEqual([1, 'book'])
    expect(liquidatableAccounts(h.state)).toEqual([])
  })

  it('misses no liquidatable account after any price move of a random session', () => {
    const h = new Harness()
    const traders = [1, 2, 3, 4, 5, 6, 7, 8].map(testAddress)
    for (const [i, t] of traders.entries()) h.deposit(t, BigInt(40 + i * 30) * USDC)
    h.deposit(testAddress(0x99), 1_000_000n * USDC)
    h.price(1, P)
    let seed = 12345
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed % n
    }
    for (let step = 0; step < 400; step++) {
      const who = traders[next(traders.length)]!
      const roll = next(10)
      const mark = h.state.markets[0]!.markPriceTicks
      if (roll < 4) h.buy(who, mark - 300 + next(600), 1 + next(300))
      else if (roll < 8) h.sell(who, mark - 300 + next(600), 1 + next(300))
      else if (roll < 9) h.buy(testAddress(0x99), mark - 2_000, 5_000)
      else {
        h.nowMs += 1_000
        h.price(1, Math.max(1, Math.round(mark * (1 + (next(40_001) - 20_000) / 1e6))))
      }
      expect(liquidatableAccounts(h.state)).toEqual([])
    }
  })
})

describe('the order index and expiry without a maintained global index', () => {
  it('ordersById lists the open orders in ascending id, rebuilt after every change', () => {
    const h = new Harness()
    h.deposit(A, 10_000n * USDC)
    h.deposit(B, 10_000n * USDC)
    h.price(1, P)
    h.buy(B, P - 10, 1)
    h.sell(A, P + 10, 1)
    h.buy(A, P - 20, 1)
    expect([...h.state.ordersById.keys()]).toEqual([1, 2, 3])
    h.cancel(B, 1)
    expect([...h.state.ordersById.keys()]).toEqual([2, 3])
    expect(h.state.ordersById.get(3)?.accountId).toBe(1)
    // A fixture's write lasts until the engine changes the orders.
    h.state.ordersById.delete(2)
    expect(h.state.ordersById.has(2)).toBe(false)
    h.buy(B, P - 30, 1)
    expect([...h.state.ordersById.keys()]).toEqual([2, 3, 4])
  })

  it('expires GTT orders in a live engine and in one restored from a snapshot', () => {
    const h = new Harness()
    h.deposit(A, 10_000n * USDC)
    h.price(1, P)
    for (let i = 0; i < 4; i++)
      h.buy(A, P - 100 - i, 1, { tif: TimeInForce.GTT, expiresAtMs: h.nowMs + 1_000 * (i + 1) })
    h.buy(A, P - 200, 1, { kind: OrderKind.Limit })
    h.cancel(A, 2)
    const restored = Engine.restore(h.state.config, new Engine(h.state).snapshot())
    h.nowMs += 3_500
    const live = h.run({ type: 'timeAdvance' })
    const back = restored.apply({ type: 'timeAdvance' }, { seq: h.state.seq, timestampMs: h.nowMs })
    const expired = (events: typeof live.events) =>
      events.flatMap((e) => (e.type === 'order' && e.status === 'expired' ? [e.orderId] : []))
    expect(expired(live.events)).toEqual([1, 3])
    expect(expired(back.events)).toEqual([1, 3])
    expect([...h.state.ordersById.keys()]).toEqual([4, 5])
    expect([...restored.state.ordersById.keys()]).toEqual([4, 5])
  })
})
