import fc from 'fast-check'
import { type Address, bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { apply } from '../apply.ts'
import { checkInvariants } from '../invariants/checkInvariants.ts'
import { addAccount, addOrder, openPair, sampleState, setMark } from '../invariants/testing/handBuiltState.ts'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../ops.ts'
import { StateCommitment } from '../state/commitState.ts'
import { EngineState } from '../state/engineState.ts'
import { Harness } from '../testing/harness.ts'
import { testConfig } from '../testing/testConfig.ts'
import { SnapshotFormatError } from './byteReader.ts'
import { restoreSnapshot } from './restoreSnapshot.ts'
import { serializeSnapshot } from './serializeSnapshot.ts'

const config = testConfig()

function root(state: EngineState): string {
  return bytesToHex(new StateCommitment(state).root())
}

function bookIds(state: EngineState): number[][] {
  const out: number[][] = []
  for (const m of state.markets) {
    for (const side of [Side.Buy, Side.Sell])
      out.push([...m.book.ordersInPriority(side)].map((o) => o.orderId))
  }
  return out
}

/** Everything derived that restore must rebuild, in comparable form. */
function derived(state: EngineState) {
  return {
    books: bookIds(state),
    untriggered: state.markets.map((m) => [...m.untriggered.keys()]),
    holders: state.markets.map((m) => [...m.holders].sort((a, b) => a - b)),
    ordersById: [...state.ordersById.keys()].sort((a, b) => a - b),
    clientOrderIds: state.accounts.map((a) =>
      [...(a.clientOrderIds?.entries() ?? [])].map(([k, o]) => [k, o.orderId]),
    ),
    accountIdByAddress: [...state.accountIdByAddress.entries()].sort(),
    marketByOracleId: [...state.marketByOracleId.entries()].map(([k, m]) => [k, m.config.marketId]),
    // Live entries only: the engine skips cancelled entries lazily.
    expiryQueue: state.expiryQueue.filter((e) => state.ordersById.has(e.orderId)),
  }
}

function expectExactRoundTrip(state: EngineState): EngineState {
  const bytes = serializeSnapshot(state)
  const restored = restoreSnapshot(state.config, bytes)
  expect([...restored.dirtyAccounts].sort((a, b) => a - b)).toEqual(restored.accounts.map((a) => a.accountId))
  expect(root(restored)).toBe(root(state))
  expect(bytesToHex(serializeSnapshot(restored))).toBe(bytesToHex(bytes))
  expect(derived(restored)).toEqual(derived(state))
  expect(checkInvariants(restored)).toEqual(checkInvariants(state))
  return restored
}

describe('snapshot round trip', () => {
  it('restores a hand-built state exactly, with every derived index rebuilt', () => {
    const state = sampleState(config)
    const restored = expectExactRoundTrip(state)
    expect(checkInvariants(restored)).toEqual([])
    expect(restored.accounts[2]!.address).toBe('0x00000000000000000000000000000000000000B2')
    expect(restored.ordersById.get(2)!.level).not.toBeNull()
    expect(restored.markets[1]!.untriggered.size).toBe(1)
    // Holders of the restored state are re-indexed for liquidation (the fund never is).
    expect(restored.liquidationIndex.entryCount).toBeGreaterThan(0)
  })

  it('is deterministic and independent of the state object identity', () => {
    expect(bytesToHex(serializeSnapshot(sampleState(config)))).toBe(
      bytesToHex(serializeSnapshot(sampleState(config))),
    )
  })

  it('restores random hand-built states exactly', () => {
    const arbOrder = fc.record({
      market: fc.nat({ max: 1 }),
      side: fc.constantFrom(Side.Buy, Side.Sell),
      offsetTicks: fc.integer({ min: 1, max: 5_000 }),
      lots: fc.integer({ min: 1, max: 2 ** 40 }),
      kind: fc.constantFrom(OrderKind.Limit, OrderKind.StopLimit, OrderKind.TakeProfitMarket),
      triggered: fc.boolean(),
      tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.GTT),
      expiresAtMs: fc.integer({ min: 1, max: 2 ** 45 }),
      clientOrderId: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })),
      stp: fc.constantFrom(
        SelfTradePrevention.ExpireMaker,
        SelfTradePrevention.ExpireTaker,
        SelfTradePrevention.ExpireBoth,
      ),
      flags: fc.nat({ max: 3 }),
    })
    const arbAccount = fc.record({
      deposit: fc.bigInt({ min: 0n, max: 10n ** 18n }),
      upper: fc.boolean(),
      orders: fc.array(fc.tuple(fc.nat({ max: 20 }), arbOrder), { maxLength: 4 }),
      nonces: fc.array(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), { maxLength: 4 }),
      agentExpiry: fc.option(fc.oneof(fc.nat({ max: 2 ** 45 }), fc.constant(Number.MAX_SAFE_INTEGER))),
    })
    fc.assert(
      fc.property(
        fc.array(arbAccount, { maxLength: 8 }),
        fc.array(
          fc.record({
            l: fc.nat({ max: 7 }),
            s: fc.nat({ max: 7 }),
            m: fc.nat({ max: 1 }),
            lots: fc.integer({ min: 1, max: 1000 }),
          }),
          {
            maxLength: 6,
          },
        ),
        fc.record({
          marks: fc.tuple(
            fc.integer({ min: 10_000, max: 2 ** 30 }),
            fc.integer({ min: 10_000, max: 2 ** 30 }),
          ),
          funding: fc.tuple(
            fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
            fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
          ),
          premium: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
          seq: fc.nat({ max: 2 ** 40 }),
          fees: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 30n }),
          withdrawals: fc.array(
            fc.tuple(fc.nat({ max: 7 }), fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.boolean()),
            { maxLength: 3 },
          ),
        }),
        (accountSpecs, trades, g) => {
          const state = new EngineState(config)
          setMark(state, 0, g.marks[0], 5)
          setMark(state, 1, g.marks[1], 6)
          const accounts = accountSpecs.map((spec, i) => {
            const hex = (0xabc0 + i).toString(16).padStart(40, '0')
            return addAccount(state, `0x${spec.upper ? hex.toUpperCase() : hex}` as Address, spec.deposit)
          })
          for (const t of trades) {
            const long = accounts[t.l]
            const short = accounts[t.s]
            if (long === undefined || short === undefined || long === short) continue
            const lAm = long.markets[t.m]
            const sAm = short.markets[t.m]
            if ((lAm?.sizeLots ?? 0) < 0 || (sAm?.sizeLots ?? 0) > 0) continue
            openPair(state, long, short, t.m, t.lots, g.marks[t.m]!)
          }
          state.markets[0]!.fundingIndexNanoQuantumsPerLot = g.funding[0]
          state.markets[1]!.fundingIndexNanoQuantumsPerLot = g.funding[1]
          state.markets[1]!.premiumSumPpm = g.premium
          accountSpecs.forEach((spec, i) => {
            const account = accounts[i]!
            for (const [, o] of spec.orders) {
              const mark = g.marks[o.market]!
              // Bids below the mark and asks above it: the book never crosses.
              const price = o.side === Side.Buy ? mark - o.offsetTicks : mark + o.offsetTicks
              addOrder(state, account, {
                marketId: o.market,
                side: o.side,
                priceTicks: price,
                lots: o.lots,
                kind: o.kind,
                triggered: o.kind === OrderKind.Limit ? false : o.triggered,
                triggerPriceTicks: o.kind === OrderKind.Limit ? 0 : mark,
                tif: o.tif,
                expiresAtMs: o.tif === TimeInForce.GTT ? o.expiresAtMs : 0,
                clientOrderId: account.clientOrderIds?.has(o.clientOrderId) ? 0n : o.clientOrderId,
                stp: o.stp,
                reduceOnly: (o.flags & 1) !== 0,
                postOnly: (o.flags & 2) !== 0,
              })
            }
            if (spec.nonces.length > 0) account.nonces = new Map([[account.address, spec.nonces]])
            if (spec.agentExpiry !== null)
              account.agents = new Map([['0x00000000000000000000000000000000000000d1', spec.agentExpiry]])
          })
          state.seq = g.seq
          state.feesQuantums = g.fees
          for (const [id, amount, forced] of g.withdrawals) {
            const a = accounts[id]
            if (a !== undefined)
              state.pendingWithdrawals.push({
                accountId: a.accountId,
                account: a.address,
                amountQuantums: amount,
                forced,
              })
          }
          expectExactRoundTrip(state)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('restores an engine-built state, and both replay the next operations to the same roots', () => {
    const h = new Harness(config)
    const [a, b, c, d] = [1, 2, 3, 4].map(
      (i) => `0x${(0x1000 + i).toString(16).padStart(40, '0')}` as Address,
    )
    for (const x of [a!, b!, c!, d!]) h.deposit(x, 100_000_000_000n)
    h.price(1, 600_000)
    h.price(2, 300_000)
    h.buy(a!, 599_000, 10)
    h.buy(a!, 599_000, 7, { clientOrderId: 5n })
    h.sell(b!, 599_000, 12)
    h.sell(c!, 601_000, 3, { tif: TimeInForce.GTT, expiresAtMs: h.nowMs + 3_600_000 })
    h.place(c!, {
      side: Side.Sell,
      priceTicks: 580_000,
      sizeLots: 2,
      kind: OrderKind.StopLimit,
      triggerPriceTicks: 590_000,
    })
    h.buy(d!, 299_000, 4, { marketId: 1 })
    h.sell(a!, 299_000, 4, { marketId: 1 })
    h.run({
      type: 'approveAgent',
      account: d!,
      signer: d!,
      nonce: h.nextNonce(),
      agent: '0x00000000000000000000000000000000000000e7',
      expiresAtMs: h.nowMs + 1_000_000,
    })
    h.advance(60_000)
    h.price(1, 605_000)

    const restored = expectExactRoundTrip(h.state)
    expect(checkInvariants(h.state)).toEqual([])

    const before = h.log.length
    h.buy(b!, 601_000, 5)
    h.advance(30_000)
    h.price(1, 592_000)
    h.sell(d!, 595_000, 9)
    h.cancel(a!, 2)
    h.advance(3_600_000)
    h.price(2, 310_000)
    for (const entry of h.log.slice(before)) {
      apply(restored, entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
    }
    expect(root(restored)).toBe(root(h.state))
    expect(bytesToHex(serializeSnapshot(restored))).toBe(bytesToHex(serializeSnapshot(h.state)))
  })
})

describe('snapshot format', () => {
  const bytes = serializeSnapshot(sampleState(config))

  it('starts with the magic and version', () => {
    // "SCESNAP\0", then version 1 as a big-endian uint32.
    expect(bytesToHex(bytes.slice(0, 12))).toBe('0x534345534e41500000000001')
  })

  it('rejects other data, other versions, other configs, truncation and trailing bytes', () => {
    const bad = bytes.slice()
    bad[0] = 0
    expect(() => restoreSnapshot(config, bad)).toThrow(/not an SCE snapshot/)
    const v2 = bytes.slice()
    v2[11] = 2
    expect(() => restoreSnapshot(config, v2)).toThrow(/version 2/)
    expect(() => restoreSnapshot(testConfig({ chainId: 1n }), bytes)).toThrow(/different engine config/)
    for (let n = 0; n < bytes.length; n += 7) {
      expect(() => restoreSnapshot(config, bytes.slice(0, n))).toThrow(SnapshotFormatError)
    }
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    expect(() => restoreSnapshot(config, longer)).toThrow(/trailing/)
  })

  it('is compact: under 100 bytes for an account with one position', () => {
    const state = new EngineState(config)
    setMark(state, 0, 600_000)
    const empty = serializeSnapshot(state).length
    for (let i = 0; i < 100; i++) {
      const long = addAccount(state, `0x${(0x9000 + 2 * i).toString(16).padStart(40, '0')}`, 10_000_000_000n)
      const short = addAccount(state, `0x${(0x9001 + 2 * i).toString(16).padStart(40, '0')}`, 10_000_000_000n)
      openPair(state, long, short, 0, 10 + i, 600_000)
    }
    const perAccount = (serializeSnapshot(state).length - empty) / 200
    expect(perAccount).toBeLessThan(100)
  })
})
