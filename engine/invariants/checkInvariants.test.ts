import fc from 'fast-check'
import type { Address } from 'viem'
import { describe, expect, it } from 'vitest'
import type { ApplyResult } from '../apply.ts'
import { sealBatch } from '../batch/sealBatch.ts'
import { OrderKind, Side, TimeInForce } from '../ops.ts'
import { EngineInvariantError } from '../rejections.ts'
import { accountRisk } from '../risk/margin.ts'
import { StateCommitment } from '../state/commitState.ts'
import type { EngineState } from '../state/engineState.ts'
import { eventsOf, Harness } from '../testing/harness.ts'
import { testConfig } from '../testing/testConfig.ts'
import { FUNDING_INDEX_SCALE } from '../units.ts'
import { assertInvariants, checkInvariants, checkSealInvariants, Invariant } from './checkInvariants.ts'
import { addOrder, sampleState, setMark } from './testing/handBuiltState.ts'

const config = testConfig()

function broken(state: EngineState): Set<string> {
  return new Set(checkInvariants(state).map((v) => v.invariant))
}

type Breakage = [name: string, expected: Invariant[], breakIt: (s: EngineState) => void]

const breakages: Breakage[] = [
  ['collateral from nowhere', [Invariant.Conservation], (s) => s.accounts[1]!.collateralQuantums++],
  ['fees from nowhere', [Invariant.Conservation], (s) => s.feesQuantums++],
  ['deposits that reached no account', [Invariant.Conservation], (s) => (s.totalDepositedQuantums += 10n)],
  [
    'withdrawal not taken from collateral',
    [Invariant.Conservation],
    (s) => {
      s.totalWithdrawnQuantums += 1n
    },
  ],
  ['open interest counter', [Invariant.OpenInterest], (s) => s.markets[0]!.openInterestLots++],
  [
    'one-sided position',
    [Invariant.OpenInterest, Invariant.Conservation],
    (s) => {
      s.accounts[1]!.market(0).sizeLots += 1
    },
  ],
  ['holder missing', [Invariant.Holders], (s) => s.markets[0]!.holders.delete(1)],
  ['holder without position', [Invariant.Holders], (s) => s.markets[0]!.holders.add(3)],
  [
    'flat position keeping a funding snapshot',
    [Invariant.FlatPosition],
    (s) => {
      s.accounts[3]!.market(0).fundingIndexSnapshot = 5n
    },
  ],
  [
    'crossed book',
    [Invariant.CrossedBook, Invariant.BookStructure],
    (s) => {
      addOrder(s, s.accounts[3]!, { side: Side.Buy, priceTicks: 602_000, lots: 1 })
    },
  ],
  [
    'negative equity',
    [Invariant.NegativeEquity],
    (s) => {
      // Moved between accounts, so conservation still holds.
      s.accounts[3]!.collateralQuantums -= 100_000_000_000n
      s.accounts[2]!.collateralQuantums += 100_000_000_000n
    },
  ],
  [
    'negative insurance fund',
    [Invariant.NegativeEquity],
    (s) => {
      s.insuranceFund.collateralQuantums -= 6_000_000n
      s.accounts[2]!.collateralQuantums += 6_000_000n
    },
  ],
  ['bid exposure', [Invariant.OrderExposure], (s) => s.accounts[1]!.market(0).openBidLots++],
  ['ask exposure', [Invariant.OrderExposure], (s) => s.accounts[2]!.market(0).openAskLots--],
  ['order count', [Invariant.OrderExposure], (s) => s.accounts[3]!.market(1).openOrderCount++],
  ['ordersById missing an order', [Invariant.OrderIndex], (s) => s.ordersById.delete(1)],
  [
    'order left the book but not the account',
    [Invariant.OrderIndex],
    (s) => {
      s.markets[0]!.book.remove(s.ordersById.get(1)!)
    },
  ],
  ['untriggered order missing', [Invariant.OrderIndex], (s) => s.markets[1]!.untriggered.clear()],
  ['client order id missing', [Invariant.OrderIndex], (s) => s.accounts[1]!.clientOrderIds!.clear()],
  [
    'level queued out of order-id order',
    // The book's own structural check enforces the same rule.
    [Invariant.BookPriority, Invariant.BookStructure],
    (s) => {
      // Orders 1 (account 1) and 3 (account 3) rest at 599,000; re-inserting 1 puts it behind 3.
      const o = s.ordersById.get(1)!
      s.markets[0]!.book.remove(o)
      s.markets[0]!.book.insert(o)
    },
  ],
  ['address index', [Invariant.Indexes], (s) => s.accountIdByAddress.delete(s.accounts[2]!.address)],
]

describe('checkInvariants', () => {
  it('finds nothing wrong with a consistent state', () => {
    expect(checkInvariants(sampleState(config))).toEqual([])
  })

  for (const [name, expected, breakIt] of breakages) {
    it(`detects: ${name}`, () => {
      const state = sampleState(config)
      breakIt(state)
      expect([...broken(state)].sort()).toEqual([...expected].sort())
      expect(() => assertInvariants(state)).toThrow(EngineInvariantError)
    })
  }

  it('allows pending-funding rounding slack of at most one quantum per position', () => {
    const state = sampleState(config)
    // 4 positions, in two pairs; in each pair both sides round against their holder, which leaves one
    // quantum per pair unclaimed here: slack 2 of the 4 allowed.
    state.markets[0]!.fundingIndexNanoQuantumsPerLot += FUNDING_INDEX_SCALE / 3n
    state.markets[1]!.fundingIndexNanoQuantumsPerLot -= FUNDING_INDEX_SCALE / 7n
    expect(checkInvariants(state)).toEqual([])
    state.totalDepositedQuantums += 2n
    expect(checkInvariants(state)).toEqual([])
    state.totalDepositedQuantums += 1n
    expect(checkInvariants(state).map((x) => x.invariant)).toEqual([Invariant.Conservation])
  })

  it('names the first broken invariant in the thrown error', () => {
    const state = sampleState(config)
    state.markets[0]!.openInterestLots++
    expect(() => assertInvariants(state)).toThrow(/Engine invariant broken: openInterest/)
  })

  it('holds after every operation of random engine runs', () => {
    const traders = [1, 2, 3, 4].map((i) => `0x${(0x7000 + i).toString(16).padStart(40, '0')}` as Address)
    const arbOp = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          t: fc.constant('order' as const),
          who: fc.nat({ max: 3 }),
          market: fc.nat({ max: 1 }),
          side: fc.constantFrom(Side.Buy, Side.Sell),
          offsetTicks: fc.integer({ min: -3_000, max: 3_000 }),
          lots: fc.integer({ min: 1, max: 400 }),
          tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTT),
          stop: fc.boolean(),
        }),
      },
      fc.record({
        t: fc.constant('price' as const),
        market: fc.nat({ max: 1 }),
        movePpm: fc.integer({ min: -60_000, max: 60_000 }),
      }),
      // Mostly within the oracle's 60 s max age; sometimes past it (the market turns reduce-only) or a funding period.
      fc.record({
        t: fc.constant('time' as const),
        ms: fc.oneof(fc.integer({ min: 1_000, max: 50_000 }), fc.integer({ min: 1_000, max: 4_000_000 })),
      }),
      fc.record({ t: fc.constant('cancel' as const), who: fc.nat({ max: 3 }), pick: fc.nat() }),
      fc.record({
        t: fc.constant('withdraw' as const),
        who: fc.nat({ max: 3 }),
        amount: fc.bigInt({ min: 1n, max: 10n ** 10n }),
      }),
    )
    let fills = 0
    let maxHolders = 0
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 20, maxLength: 50 }), (ops) => {
        const h = new Harness(config)
        for (const t of traders) h.deposit(t, 50_000_000_000n)
        const marks = [600_000, 300_000]
        h.price(1, marks[0]!)
        h.price(2, marks[1]!)
        assertInvariants(h.state)
        for (const op of ops) {
          let result: ApplyResult | null = null
          switch (op.t) {
            case 'order': {
              const mark = marks[op.market]!
              result = h.place(traders[op.who]!, {
                marketId: op.market,
                side: op.side,
                priceTicks: mark + op.offsetTicks,
                sizeLots: op.lots,
                tif: op.tif,
                expiresAtMs: op.tif === TimeInForce.GTT ? h.nowMs + 600_000 : 0,
                ...(op.stop
                  ? {
                      kind: OrderKind.StopLimit,
                      triggerPriceTicks: mark - op.offsetTicks,
                      tif: TimeInForce.GTC,
                    }
                  : {}),
              })
              break
            }
            case 'price': {
              // Within the default 10% band; floor keeps the price an integer.
              const next = Math.max(
                1,
                marks[op.market]! + Math.floor((marks[op.market]! * op.movePpm) / 1_000_000),
              )
              marks[op.market] = next
              // A newer publish time than the last accepted price.
              h.nowMs += 1_000
              result = h.price(op.market + 1, next)
              break
            }
            case 'time':
              result = h.advance(op.ms)
              break
            case 'cancel': {
              const account = h.state.accountByAddress(traders[op.who]!)!
              const ids = [...(account.orders?.keys() ?? [])]
              if (ids.length > 0) {
                const id = ids[op.pick % ids.length]!
                result = h.cancel(traders[op.who]!, id, h.state.ordersById.get(id)!.marketId)
              }
              break
            }
            case 'withdraw':
              result = h.run({
                type: 'withdraw',
                account: traders[op.who]!,
                signer: traders[op.who]!,
                nonce: h.nextNonce(),
                amountQuantums: op.amount,
              })
              break
          }
          if (result !== null) fills += eventsOf(result, 'fill').length
          maxHolders = Math.max(
            maxHolders,
            h.state.markets[0]!.holders.size + h.state.markets[1]!.holders.size,
          )
          const after = `after ${JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`
          expect(checkInvariants(h.state), after).toEqual([])
          // The gate as a seal runs it, on what changed since the last one; then the set starts afresh.
          expect(checkSealInvariants(h.state, h.state.dirtyAccounts), after).toEqual([])
          h.state.dirtyAccounts.clear()
          expectLedgerExact(h.state, after)
        }
      }),
      { numRuns: 30 },
    )
    // The runs must have traded, or they proved little.
    expect(fills).toBeGreaterThan(20)
    expect(maxHolders).toBeGreaterThan(2)
  })
})

/** The seal ledger's sums, kept by differences, equal the sums taken from scratch. */
function expectLedgerExact(state: EngineState, after: string): void {
  const ledger = state.sealLedger
  let equity = 0n
  for (const account of state.accounts) equity += accountRisk(state, account).equityQuantums
  expect(ledger.equitySumQuantums, after).toBe(equity)
  for (const market of state.markets) {
    const m = market.config.marketId
    let long = 0
    let short = 0
    let orders = 0
    for (const account of state.accounts) {
      const am = account.markets[m]
      if (am === undefined) continue
      if (am.sizeLots > 0) long += am.sizeLots
      else short -= am.sizeLots
      orders += am.openOrderCount
    }
    expect([ledger.longLots[m], ledger.shortLots[m], ledger.holders[m], ledger.orders[m]], after).toEqual([
      long,
      short,
      market.holders.size,
      orders,
    ])
  }
}

/** What the seal gate leaves to the full check: the books' internal order and the derived ordersById. */
const FULL_CHECK_ONLY: ReadonlySet<Invariant> = new Set([Invariant.BookPriority, Invariant.BookStructure])
const GATE_BLIND = new Set(['ordersById missing an order', 'level queued out of order-id order'])
/** The gate's per-market order count sees this corruption a second way. */
const GATE_ALSO: Record<string, Invariant[]> = { 'order count': [Invariant.OrderIndex] }
/** Found by the gate even when the broken account is not among the changed ones. */
const STATE_WIDE: ReadonlySet<Invariant> = new Set([
  Invariant.Conservation,
  Invariant.OpenInterest,
  Invariant.NegativeEquity,
  Invariant.CrossedBook,
  Invariant.FlatPosition,
  Invariant.Holders,
])

function gateFinds(state: EngineState, changed: Iterable<number>): string[] {
  return [...new Set(checkSealInvariants(state, changed).map((v) => v.invariant))].sort()
}

describe('checkSealInvariants (the seal gate)', () => {
  const everyone = (s: EngineState) => s.accounts.map((a) => a.accountId)

  it('finds nothing wrong with a consistent state', () => {
    const state = sampleState(config)
    expect(checkSealInvariants(state, everyone(state))).toEqual([])
  })

  for (const [name, expected, breakIt] of breakages) {
    const inGate = [...expected.filter((i) => !FULL_CHECK_ONLY.has(i)), ...(GATE_ALSO[name] ?? [])]
    it(`with the broken account changed, detects: ${name}`, () => {
      const state = sampleState(config)
      breakIt(state)
      const found = gateFinds(state, everyone(state))
      if (GATE_BLIND.has(name)) expect(found).toEqual([])
      // The gate counts orders per market where the full check walks the books: a book or set that lost
      // an order shows as an order-index mismatch either way.
      else expect(found).toEqual([...inGate].sort())
    })
    if (expected.length > 0 && expected.every((i) => STATE_WIDE.has(i) || FULL_CHECK_ONLY.has(i))) {
      it(`with no account changed, still detects: ${name}`, () => {
        const state = sampleState(config)
        breakIt(state)
        expect(gateFinds(state, [])).toEqual([...inGate].sort())
      })
    }
  }

  it('looks again at the holders of a market whose mark moved, though none of them changed', () => {
    const state = sampleState(config)
    expect(
      checkSealInvariants(
        state,
        state.accounts.map((a) => a.accountId),
      ),
    ).toEqual([])
    expect(checkSealInvariants(state, [])).toEqual([])
    // A mark a hundred times higher: the short's equity goes negative, the long's grows by as much, so
    // only negative equity is broken.
    setMark(state, 0, 60_000_000, 2_000)
    expect(gateFinds(state, [])).toEqual([Invariant.NegativeEquity])
    // Back where it was: nothing is wrong, and the ledger agrees with a count from scratch.
    setMark(state, 0, 600_000, 3_000)
    expect(checkSealInvariants(state, [])).toEqual([])
    expectLedgerExact(state, 'after the mark came back')
  })

  it('counts orders per market, so a book that lost an order is found without a changed account', () => {
    const state = sampleState(config)
    state.markets[0]!.book.remove(state.ordersById.get(1)!)
    expect(gateFinds(state, [])).toEqual([Invariant.OrderIndex])
  })

  it('checks the accounts a root refreshed mid-batch, and forgets them at the seal', () => {
    const h = new Harness(config)
    const trader = '0x0000000000000000000000000000000000007101' as Address
    h.deposit(trader, 50_000_000_000n)
    h.price(1, 600_000)
    h.price(2, 300_000)
    const commitment = new StateCommitment(h.state)
    const params = { batchIndex: 1n, chainId: 1n, settlement: config.settlementAddress }
    sealBatch(commitment, params)
    expect(h.state.refreshedSinceSeal.size).toBe(0)
    h.place(trader, { marketId: 0, side: Side.Buy, priceTicks: 590_000, sizeLots: 5 })
    commitment.root() // a mid-batch root: the trader leaves dirtyAccounts
    const account = h.state.accountByAddress(trader)!
    expect(h.state.dirtyAccounts.has(account.accountId)).toBe(false)
    expect(h.state.refreshedSinceSeal.has(account.accountId)).toBe(true)
    account.market(0).openBidLots++
    expect(() => sealBatch(commitment, { ...params, batchIndex: 2n })).toThrow(/orderExposure/)
    account.market(0).openBidLots--
    sealBatch(commitment, { ...params, batchIndex: 2n })
    expect(h.state.refreshedSinceSeal.size).toBe(0)
  })
})
