import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MarketConfig } from '../config.ts'
import { Account } from '../state/account.ts'
import { EngineState } from '../state/engineState.ts'
import { BTC_PERP, ETH_PERP, testAddress, testConfig } from '../testing/testConfig.ts'
import {
  accountRisk,
  accountRiskBigint,
  equityQuantums,
  isLiquidatable,
  isLiquidatableNow,
  MarginTable,
  type MarketOverride,
  meetsInitialMargin,
  meetsInitialMarginWith,
} from './margin.ts'

/**
 * The exact double path of margin.ts must give the bigint definition's values bit for bit, and fall back
 * whenever a value leaves the exact range. Magnitudes are drawn around the 2^52 and 2^53 edges on purpose.
 */

/** Odd tiers: bounds that are not multiples of 1e6, fractions up to 100%, and a bound above 2^53. */
const ODD: MarketConfig = {
  ...BTC_PERP,
  marketId: 2,
  symbol: 'ODD-PERP',
  oracleId: 3,
  quantumsPerLotTick: 7n,
  marginTiers: [
    { upToNotionalQuantums: 123_456_789n, imfPpm: 333_333, mmfPpm: 1 },
    { upToNotionalQuantums: 99_999_999_999n, imfPpm: 999_999, mmfPpm: 777_777 },
    { upToNotionalQuantums: 2n ** 60n, imfPpm: 1_000_000, mmfPpm: 1_000_000 },
    { upToNotionalQuantums: null, imfPpm: 1_000_000, mmfPpm: 1_000_000 },
  ],
}

/** A config the double path must refuse: a fraction above 100%. */
const STEEP: MarketConfig = {
  ...ETH_PERP,
  marketId: 3,
  symbol: 'STEEP-PERP',
  oracleId: 4,
  marginTiers: [{ upToNotionalQuantums: null, imfPpm: 1_500_000, mmfPpm: 1_200_000 }],
}

const MARKETS = [BTC_PERP, ETH_PERP, ODD, STEEP]

/** Integers spread over every magnitude up to beyond 2^53, both signs. */
const bigAround = fc.oneof(
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, 2n ** 52n, 0n),
)
const lots = fc.oneof(
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
)
const openLots = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 1_000_000 }),
  // Worst-side notionals between 2^52 and 2^60: inexact as doubles unless the path falls back.
  fc.integer({ min: 2 ** 28, max: 2 ** 37 }),
  fc.integer({ min: 0, max: 2 ** 40 }),
)
const mark = fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 2 ** 40 }))

const marketArb = fc.record({
  present: fc.boolean(),
  sizeLots: lots,
  costBasisQuantums: bigAround,
  fundingIndexSnapshot: fc.oneof(fc.constant(null), bigAround),
  openBidLots: openLots,
  openAskLots: openLots,
})

const scenarioArb = fc.record({
  collateralQuantums: bigAround,
  marks: fc.array(mark, { minLength: MARKETS.length, maxLength: MARKETS.length }),
  funding: fc.array(fc.oneof(fc.constant(0n), bigAround), {
    minLength: MARKETS.length,
    maxLength: MARKETS.length,
  }),
  markets: fc.array(marketArb, { minLength: MARKETS.length, maxLength: MARKETS.length }),
  override: fc.option(
    fc.record({
      marketId: fc.nat(MARKETS.length - 1),
      sizeLots: lots,
      costBasisQuantums: bigAround,
      openBidLots: openLots,
      openAskLots: openLots,
      collateralDeltaQuantums: bigAround,
    }),
    { nil: undefined },
  ),
})

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never

function build(s: Scenario, marketCount: number): { state: EngineState; account: Account } {
  const state = new EngineState(testConfig({ markets: MARKETS.slice(0, marketCount) }))
  for (let i = 0; i < marketCount; i++) {
    state.markets[i]!.markPriceTicks = s.marks[i]!
    state.markets[i]!.fundingIndexNanoQuantumsPerLot = s.funding[i]!
  }
  const account = new Account(1, testAddress(1))
  account.collateralQuantums = s.collateralQuantums
  for (let i = 0; i < marketCount; i++) {
    const m = s.markets[i]!
    if (!m.present) continue
    const am = account.market(i)
    am.sizeLots = m.sizeLots
    am.costBasisQuantums = m.costBasisQuantums
    am.fundingIndexSnapshot = m.fundingIndexSnapshot ?? s.funding[i]!
    am.openBidLots = m.openBidLots
    am.openAskLots = m.openAskLots
  }
  return { state, account }
}

describe('margin: the exact double path', () => {
  it('gives the bigint values for every account, override and magnitude', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: MARKETS.length }), (s, marketCount) => {
        const { state, account } = build(s, marketCount)
        const override: MarketOverride | undefined =
          s.override !== undefined && s.override.marketId < marketCount ? s.override : undefined
        const expected = accountRiskBigint(state, account, override)
        expect(accountRisk(state, account, override)).toEqual(expected)
        expect(meetsInitialMarginWith(state, account, override)).toBe(meetsInitialMargin(expected))
        const plain = accountRiskBigint(state, account)
        expect(isLiquidatableNow(state, account)).toBe(isLiquidatable(plain))
        expect(equityQuantums(state, account)).toBe(plain.equityQuantums)
      }),
      { numRuns: 3_000 },
    )
  })

  it('takes the double path for ordinary accounts and falls back near 2^53', () => {
    const s: Scenario = {
      collateralQuantums: 10n ** 12n,
      marks: [600_000, 300_000, 1_000, 1_000],
      funding: [0n, 5n, 0n, 0n],
      markets: [
        {
          present: true,
          sizeLots: 37,
          costBasisQuantums: 222_000_000n,
          fundingIndexSnapshot: null,
          openBidLots: 5,
          openAskLots: 0,
        },
        {
          present: true,
          sizeLots: -3,
          costBasisQuantums: -9_000_000n,
          fundingIndexSnapshot: 0n,
          openBidLots: 0,
          openAskLots: 9,
        },
        {
          present: false,
          sizeLots: 0,
          costBasisQuantums: 0n,
          fundingIndexSnapshot: null,
          openBidLots: 0,
          openAskLots: 0,
        },
        {
          present: false,
          sizeLots: 0,
          costBasisQuantums: 0n,
          fundingIndexSnapshot: null,
          openBidLots: 0,
          openAskLots: 0,
        },
      ],
      override: undefined,
    }
    for (const collateral of [10n ** 12n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), 10n ** 30n]) {
      const { state, account } = build({ ...s, collateralQuantums: collateral }, 2)
      expect(accountRisk(state, account)).toEqual(accountRiskBigint(state, account))
    }
  })

  it('builds a table only for tiers it can slice exactly', () => {
    expect(new MarginTable(BTC_PERP).exact).toBe(true)
    expect(new MarginTable(BTC_PERP).feesExact).toBe(true)
    expect(new MarginTable(ODD).exact).toBe(true)
    expect(new MarginTable(STEEP).exact).toBe(false)
    expect(new MarginTable({ ...BTC_PERP, quantumsPerLotTick: 2n ** 60n }).exact).toBe(false)
    expect(new MarginTable({ ...BTC_PERP, takerFeePpm: 2_000_000 }).feesExact).toBe(false)
    const descending = { ...BTC_PERP, marginTiers: [...BTC_PERP.marginTiers].reverse() }
    expect(new MarginTable(descending).exact).toBe(false)
  })
})

/** One write to the account, a market, or a check; small values mostly, so most checks take the double path. */
const smallBig = fc.oneof(fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }), bigAround)
const smallLots = fc.oneof(fc.integer({ min: -1_000, max: 1_000 }), fc.constant(0), lots)
const stepArb = fc.oneof(
  fc.record({ k: fc.constant('size' as const), m: fc.nat(MARKETS.length - 1), v: smallLots }),
  fc.record({ k: fc.constant('basis' as const), m: fc.nat(MARKETS.length - 1), v: smallBig }),
  fc.record({ k: fc.constant('snapshot' as const), m: fc.nat(MARKETS.length - 1), v: smallBig }),
  fc.record({ k: fc.constant('bid' as const), m: fc.nat(MARKETS.length - 1), v: fc.nat(10_000) }),
  fc.record({ k: fc.constant('ask' as const), m: fc.nat(MARKETS.length - 1), v: fc.nat(10_000) }),
  fc.record({ k: fc.constant('collateral' as const), m: fc.constant(0), v: smallBig }),
  fc.record({ k: fc.constant('mark' as const), m: fc.nat(MARKETS.length - 1), v: fc.nat(2_000_000) }),
  fc.record({ k: fc.constant('funding' as const), m: fc.nat(MARKETS.length - 1), v: smallBig }),
  fc.record({
    k: fc.constant('check' as const),
    m: fc.nat(MARKETS.length - 1),
    v: fc.option(fc.tuple(smallLots, smallBig, fc.nat(10_000), fc.nat(10_000), smallBig), { nil: undefined }),
  }),
)

describe('margin: the per-account cache', () => {
  it('gives the bigint values after any sequence of writes to entries, collateral, marks and funding', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.integer({ min: 1, max: MARKETS.length }),
        fc.array(stepArb, { maxLength: 40 }),
        (s, marketCount, steps) => {
          const { state, account } = build(s, marketCount)
          const first: MarketOverride = {
            marketId: 0,
            sizeLots: 0,
            costBasisQuantums: 0n,
            openBidLots: 1,
            openAskLots: 0,
            collateralDeltaQuantums: 0n,
          }
          // An order check starts the cache.
          expect(accountRisk(state, account, first)).toEqual(accountRiskBigint(state, account, first))
          for (const step of steps) {
            const m = step.m % marketCount
            const market = state.markets[m]!
            switch (step.k) {
              case 'size':
                account.market(m).sizeLots = step.v
                break
              case 'basis':
                account.market(m).costBasisQuantums = step.v
                break
              case 'snapshot':
                account.market(m).fundingIndexSnapshot = step.v
                break
              case 'bid':
                account.market(m).openBidLots = step.v
                break
              case 'ask':
                account.market(m).openAskLots = step.v
                break
              case 'collateral':
                account.collateralQuantums = step.v
                break
              case 'mark':
                market.markPriceTicks = step.v
                break
              case 'funding':
                market.fundingIndexNanoQuantumsPerLot = step.v
                break
              case 'check': {
                const o: MarketOverride | undefined =
                  step.v === undefined
                    ? undefined
                    : {
                        marketId: m,
                        sizeLots: step.v[0],
                        costBasisQuantums: step.v[1],
                        openBidLots: step.v[2],
                        openAskLots: step.v[3],
                        collateralDeltaQuantums: step.v[4],
                      }
                const expected = accountRiskBigint(state, account, o)
                expect(accountRisk(state, account, o)).toEqual(expected)
                expect(meetsInitialMarginWith(state, account, o)).toBe(meetsInitialMargin(expected))
              }
            }
            const plain = accountRiskBigint(state, account)
            expect(accountRisk(state, account)).toEqual(plain)
            expect(isLiquidatableNow(state, account)).toBe(isLiquidatable(plain))
            expect(equityQuantums(state, account)).toBe(plain.equityQuantums)
            expect(account.hasPositions()).toBe(
              account.markets.some((am) => am !== undefined && am.sizeLots !== 0),
            )
          }
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it('uses cached terms: an unchanged account checked twice gives the same values', () => {
    const state = new EngineState(testConfig({ markets: [BTC_PERP, ETH_PERP] }))
    state.markets[0]!.markPriceTicks = 600_000
    state.markets[1]!.markPriceTicks = 300_000
    const account = new Account(1, testAddress(1))
    account.collateralQuantums = 10n ** 12n
    account.market(0).sizeLots = 5
    account.market(0).costBasisQuantums = 5n * 600_000n * BTC_PERP.quantumsPerLotTick
    account.market(1).openBidLots = 7
    const o: MarketOverride = {
      marketId: 1,
      sizeLots: 0,
      costBasisQuantums: 0n,
      openBidLots: 9,
      openAskLots: 0,
      collateralDeltaQuantums: 0n,
    }
    const before = accountRisk(state, account, o)
    expect(account.riskValid & 1).toBe(1)
    expect(accountRisk(state, account, o)).toEqual(before)
    account.market(0).sizeLots = 6
    expect(account.riskValid & 1).toBe(0)
    expect(accountRisk(state, account, o)).toEqual(accountRiskBigint(state, account, o))
    state.markets[0]!.markPriceTicks = 610_000
    expect(accountRisk(state, account, o)).toEqual(accountRiskBigint(state, account, o))
  })
})
