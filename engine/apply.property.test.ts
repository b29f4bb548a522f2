import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { apply } from './apply.ts'
import { Engine } from './engine.ts'
import { checkInvariants } from './invariants/checkInvariants.ts'
import { type Op, OrderKind, SelfTradePrevention, Side, TimeInForce } from './ops.ts'
import { Harness } from './testing/harness.ts'
import { ORACLE_SIGNERS, testAddress } from './testing/testConfig.ts'

/**
 * Random operation sequences over a few accounts and both markets: orders of every kind near the
 * mark, cancels, modifies, withdrawals, price moves inside the band (some large enough to liquidate),
 * and time advances. Failing seeds print with fast-check's seed and path, so they can be replayed.
 */
const ACCOUNTS = [1, 2, 3, 4, 5, 6].map(testAddress)
const BASE_PRICES = [600_000, 300_000]

type Step =
  | {
      kind: 'order'
      who: number
      market: number
      side: Side
      offset: number
      size: number
      type: number
      stp: SelfTradePrevention
    }
  | { kind: 'cancel'; who: number; pick: number }
  | { kind: 'modify'; who: number; pick: number; offset: number; size: number }
  | { kind: 'withdraw'; who: number; usdc: number }
  | { kind: 'price'; market: number; movePpm: number }
  | { kind: 'time'; ms: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      who: fc.nat(ACCOUNTS.length - 1),
      market: fc.nat(1),
      side: fc.constantFrom(Side.Buy, Side.Sell),
      offset: fc.integer({ min: -1_500, max: 1_500 }),
      size: fc.integer({ min: 1, max: 3_000 }),
      type: fc.nat(9),
      stp: fc.constantFrom(
        SelfTradePrevention.ExpireMaker,
        SelfTradePrevention.ExpireTaker,
        SelfTradePrevention.ExpireBoth,
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      who: fc.nat(ACCOUNTS.length - 1),
      pick: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('modify' as const),
      who: fc.nat(ACCOUNTS.length - 1),
      pick: fc.nat(),
      offset: fc.integer({ min: -2_000, max: 2_000 }),
      size: fc.integer({ min: 1, max: 2_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('withdraw' as const),
      who: fc.nat(ACCOUNTS.length - 1),
      usdc: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('price' as const),
      market: fc.nat(1),
      movePpm: fc.integer({ min: -90_000, max: 90_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 3 * 3_600_000 })),
    }),
  },
)

function setup(collateralUsdc: number[]): Harness {
  const h = new Harness()
  ACCOUNTS.forEach((a, i) => {
    h.deposit(a, BigInt(collateralUsdc[i]!) * 1_000_000n)
  })
  h.deposit('0x0000000000000000000000000000000000000000', 5_000n * 1_000_000n)
  h.price(1, BASE_PRICES[0]!)
  h.price(2, BASE_PRICES[1]!)
  return h
}

function runStep(h: Harness, step: Step): void {
  const state = h.state
  switch (step.kind) {
    case 'order': {
      const who = ACCOUNTS[step.who]!
      const mark = state.markets[step.market]!.markPriceTicks
      const priceTicks = Math.max(1, mark + step.offset)
      const t = step.type
      h.place(who, {
        marketId: step.market,
        side: step.side,
        priceTicks,
        sizeLots: step.size,
        stp: step.stp,
        kind:
          t === 6
            ? OrderKind.Market
            : t === 7
              ? OrderKind.StopMarket
              : t === 8
                ? OrderKind.TakeProfitLimit
                : OrderKind.Limit,
        tif:
          t === 6 || t === 7 || t === 3
            ? TimeInForce.IOC
            : t === 4
              ? TimeInForce.FOK
              : t === 5
                ? TimeInForce.GTT
                : TimeInForce.GTC,
        expiresAtMs: t === 5 ? h.nowMs + 600_000 : 0,
        triggerPriceTicks: t === 7 || t === 8 ? Math.max(1, mark - step.offset) : 0,
        postOnly: t === 2,
        reduceOnly: t === 9 ? false : t === 7 && step.size % 2 === 0,
        clientOrderId: step.size % 3 === 0 ? BigInt(step.size % 40) : 0n,
      })
      return
    }
    case 'cancel':
    case 'modify': {
      const who = ACCOUNTS[step.who]!
      const orders = [...(state.accountByAddress(who)?.orders?.values() ?? [])]
      if (orders.length === 0) return
      const order = orders[step.pick % orders.length]!
      if (step.kind === 'cancel') h.cancel(who, order.orderId, order.marketId)
      else {
        h.run({
          type: 'modifyOrder',
          account: who,
          signer: who,
          nonce: h.nextNonce(),
          marketId: order.marketId,
          orderId: order.orderId,
          newPriceTicks: Math.max(1, order.priceTicks + step.offset),
          newSizeLots: step.size,
        })
      }
      return
    }
    case 'withdraw': {
      const who = ACCOUNTS[step.who]!
      h.run({
        type: 'withdraw',
        account: who,
        signer: who,
        nonce: h.nextNonce(),
        amountQuantums: BigInt(step.usdc) * 1_000_000n,
      })
      return
    }
    case 'price': {
      h.nowMs += 1_000
      const market = state.markets[step.market]!
      const priceTicks = Math.max(1, Math.round(market.markPriceTicks * (1 + step.movePpm / 1e6)))
      h.price(market.config.oracleId, priceTicks)
      return
    }
    case 'time':
      // The oracle keeps publishing, so the market stays live across funding periods.
      h.advance(step.ms)
      for (const market of state.markets) h.price(market.config.oracleId, market.markPriceTicks)
      return
  }
}

const collateralArb = fc.array(fc.integer({ min: 50, max: 50_000 }), {
  minLength: ACCOUNTS.length,
  maxLength: ACCOUNTS.length,
})

describe('engine properties', () => {
  it('every invariant holds after every operation (conservation, open interest, books, equity, indexes)', () => {
    fc.assert(
      fc.property(
        collateralArb,
        fc.array(stepArb, { minLength: 1, maxLength: 120, size: 'max' }),
        (collateral, steps) => {
          const h = setup(collateral)
          for (const step of steps) {
            runStep(h, step)
            const violations = checkInvariants(h.state)
            if (violations.length > 0)
              throw new Error(`after ${JSON.stringify(step)}: ${JSON.stringify(violations)}`)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('is deterministic: the same operations give the same root, and so does a restore from a snapshot taken midway', () => {
    fc.assert(
      fc.property(
        collateralArb,
        fc.array(stepArb, { minLength: 2, maxLength: 100, size: 'max' }),
        fc.nat(),
        (collateral, steps, cut) => {
          const live = setup(collateral)
          const liveEngine = new Engine(live.state)
          for (const step of steps) runStep(live, step)
          const liveRoot = bytesToHex(liveEngine.root())

          // Replay the log into a fresh engine.
          const replay = Engine.create(live.state.config)
          for (const entry of live.log)
            replay.apply(entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
          expect(bytesToHex(replay.root())).toBe(liveRoot)

          // Again, asking for the root at arbitrary points on the way (as a node's status calls do): the
          // incremental root must not depend on when it was computed.
          const probed = Engine.create(live.state.config)
          live.log.forEach((entry, i) => {
            probed.apply(entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
            if ((i * 7 + cut) % 5 === 0) probed.root()
          })
          expect(bytesToHex(probed.root())).toBe(liveRoot)

          // Snapshot after `at` operations, restore, replay the rest.
          const at = cut % live.log.length
          const first = Engine.create(live.state.config)
          for (const entry of live.log.slice(0, at))
            first.apply(entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
          const restored = Engine.restore(live.state.config, first.snapshot())
          expect(bytesToHex(restored.root())).toBe(bytesToHex(first.root()))
          for (const entry of live.log.slice(at))
            restored.apply(entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
          expect(bytesToHex(restored.root())).toBe(liveRoot)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('never crosses a book and fills every taker best price first', () => {
    fc.assert(
      fc.property(
        collateralArb,
        fc.array(stepArb, { minLength: 1, maxLength: 120, size: 'max' }),
        (collateral, steps) => {
          const h = setup(collateral)
          const original = h.run.bind(h)
          h.run = (op: Op) => {
            const r = original(op)
            const byTaker = new Map<number, number[]>()
            for (const e of r.events) {
              if (e.type !== 'fill') continue
              const prices = byTaker.get(e.takerOrderId) ?? []
              prices.push(e.takerSide === Side.Buy ? e.priceTicks : -e.priceTicks)
              byTaker.set(e.takerOrderId, prices)
            }
            for (const prices of byTaker.values()) {
              for (let i = 1; i < prices.length; i++)
                expect(prices[i]!).toBeGreaterThanOrEqual(prices[i - 1]!)
            }
            return r
          }
          for (const step of steps) {
            runStep(h, step)
            for (const m of h.state.markets) {
              const bid = m.book.bestBidTicks()
              const ask = m.book.bestAskTicks()
              if (bid !== 0 && ask !== 0) expect(bid).toBeLessThan(ask)
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('rejects a sequence gap and time going back instead of applying them', () => {
    const h = setup([1000, 1000, 1000, 1000, 1000, 1000])
    expect(() =>
      apply(h.state, { type: 'timeAdvance' }, { seq: h.state.seq + 2, timestampMs: h.nowMs }),
    ).toThrow(/sequence/)
    expect(() =>
      apply(h.state, { type: 'timeAdvance' }, { seq: h.state.seq + 1, timestampMs: h.nowMs - 1 }),
    ).toThrow(/time/)
    expect(ORACLE_SIGNERS.length).toBe(3)
  })
})

describe('engine regressions', () => {
  it('keeps the insurance fund out of negative equity when its backstop position keeps losing (seed -322857111)', () => {
    const steps: Step[] = JSON.parse(
      '[{"kind":"order","who":5,"market":0,"side":0,"offset":0,"size":994,"type":0,"stp":0},{"kind":"order","who":4,"market":0,"side":0,"offset":1,"size":1059,"type":0,"stp":0},{"kind":"price","market":0,"movePpm":-28510},{"kind":"order","who":5,"market":0,"side":1,"offset":0,"size":386,"type":0,"stp":0},{"kind":"time","ms":2799000},{"kind":"order","who":2,"market":0,"side":1,"offset":0,"size":646,"type":0,"stp":0},{"kind":"order","who":2,"market":0,"side":1,"offset":0,"size":2186,"type":0,"stp":0},{"kind":"order","who":4,"market":0,"side":0,"offset":0,"size":1165,"type":0,"stp":0},{"kind":"price","market":0,"movePpm":24519},{"kind":"price","market":0,"movePpm":3918},{"kind":"price","market":0,"movePpm":89987},{"kind":"price","market":0,"movePpm":5501},{"kind":"price","market":0,"movePpm":76682},{"kind":"price","market":0,"movePpm":5},{"kind":"price","market":0,"movePpm":89996}]',
    )
    const h = setup([50, 50, 50, 50, 735, 129])
    for (const step of steps) {
      runStep(h, step)
      expect(checkInvariants(h.state), JSON.stringify(step)).toEqual([])
    }
    // The fund closed its position against the longs instead of carrying the loss.
    expect(h.state.insuranceFund.hasPositions()).toBe(false)
  })
})
