import { describe, expect, it } from 'vitest'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from './ops.ts'
import { RejectCode } from './rejections.ts'
import { accountRisk, isLiquidatable } from './risk/margin.ts'
import { eventsOf, Harness } from './testing/harness.ts'
import { testAddress } from './testing/testConfig.ts'

const USDC = 1_000_000n
const A = testAddress(1)
const B = testAddress(2)
const C = testAddress(3)
const P = 600_000 // 60,000 USD in BTC-PERP ticks; one lot at P is 6 USDC

function market(collateralUsdc = 10_000n): Harness {
  const h = new Harness()
  for (const who of [A, B, C]) h.deposit(who, collateralUsdc * USDC)
  expect(h.price(1, P).result.ok).toBe(true)
  return h
}

function expectReject(r: { result: { ok: boolean; code?: string } }, code: string): void {
  expect(r.result).toMatchObject({ ok: false, code })
}

describe('matching and fees', () => {
  it('fills at the maker price, books positions, fees and rebates exactly', () => {
    const h = market()
    expect(h.sell(A, P, 100).result).toEqual({ ok: true, orderId: 1 })
    const r = h.buy(B, P + 100, 60)
    const [fill] = eventsOf(r, 'fill')
    // 60 lots × 600,000 ticks × 10 quantums = 360 USDC notional.
    expect(fill).toMatchObject({
      priceTicks: P,
      sizeLots: 60,
      takerFeeQuantums: 180_000n,
      makerFeeQuantums: -36_000n,
    })
    expect(h.position(A)).toBe(-60)
    expect(h.position(B)).toBe(60)
    expect(h.collateral(A)).toBe(10_000n * USDC + 36_000n)
    expect(h.collateral(B)).toBe(10_000n * USDC - 180_000n)
    expect(h.state.feesQuantums).toBe(144_000n)
    expect(h.state.markets[0]!.book.bestAskTicks()).toBe(P)
  })

  it('walks levels best first and in time order within a level', () => {
    const h = market()
    h.sell(A, P + 20, 5)
    h.sell(B, P + 10, 5)
    h.sell(A, P + 10, 5)
    const fills = eventsOf(h.buy(C, P + 20, 12), 'fill')
    expect(fills.map((f) => [f.makerAccountId, f.priceTicks, f.sizeLots])).toEqual([
      [2, P + 10, 5],
      [1, P + 10, 5],
      [1, P + 20, 2],
    ])
  })

  it('realizes PnL when a position is reduced and flips through zero', () => {
    const h = market()
    h.sell(A, P, 10)
    h.buy(B, P, 10)
    h.buy(C, P + 1_000, 15)
    const before = h.collateral(B)
    h.sell(B, P + 1_000, 15, { tif: TimeInForce.IOC })
    // Closing 10 lots 1,000 ticks higher realizes 10 × 1,000 × 10 = 100,000 quantums; the taker fee on
    // 15 × 601,000 × 10 quantums of notional at 500 ppm is 45,075.
    expect(h.collateral(B) - before).toBe(100_000n - 45_075n)
    expect(h.position(B)).toBe(-5)
    expect(h.state.accountByAddress(B)!.markets[0]!.costBasisQuantums).toBe(-5n * BigInt(P + 1_000) * 10n)
  })
})

describe('order types', () => {
  it('rejects a post-only order that would cross and leaves the book as it was', () => {
    const h = market()
    h.sell(A, P, 10)
    expectReject(h.buy(B, P, 5, { postOnly: true }), RejectCode.POST_ONLY_WOULD_CROSS)
    expect(h.position(B)).toBe(0)
    expect(h.buy(B, P - 1, 5, { postOnly: true }).result.ok).toBe(true)
  })

  it('fill-or-kill trades everything or nothing', () => {
    const h = market()
    h.sell(A, P, 10)
    expectReject(h.buy(B, P, 11, { tif: TimeInForce.FOK }), RejectCode.FOK_NOT_FILLED)
    expect(h.state.markets[0]!.book.size).toBe(1)
    expect(h.buy(B, P, 10, { tif: TimeInForce.FOK }).result.ok).toBe(true)
    expect(h.position(B)).toBe(10)
  })

  it('immediate-or-cancel cancels the rest instead of resting it', () => {
    const h = market()
    h.sell(A, P, 10)
    const r = h.buy(B, P, 15, { tif: TimeInForce.IOC })
    expect(eventsOf(r, 'order').at(-1)).toMatchObject({
      status: 'cancelled',
      remainingLots: 5,
      reason: 'ioc',
    })
    expect(h.state.markets[0]!.book.bestBidTicks()).toBe(0)
  })

  it('market orders stop at their worst-price protection and never rest', () => {
    const h = market()
    h.sell(A, P, 5)
    h.sell(A, P + 500, 5)
    const r = h.buy(B, P + 100, 10, { kind: OrderKind.Market, tif: TimeInForce.IOC })
    expect(h.position(B)).toBe(5)
    expect(eventsOf(r, 'order').at(-1)).toMatchObject({ status: 'cancelled', remainingLots: 5 })
    expectReject(
      h.buy(B, P - 1, 1, { kind: OrderKind.Market, tif: TimeInForce.IOC }),
      RejectCode.NO_LIQUIDITY,
    )
    expectReject(h.buy(B, P, 1, { kind: OrderKind.Market, tif: TimeInForce.GTC }), RejectCode.BAD_ORDER_TYPE)
  })

  it('reduce-only orders only shrink a position and are capped at it', () => {
    const h = market()
    expectReject(
      h.sell(B, P, 1, { reduceOnly: true, tif: TimeInForce.IOC }),
      RejectCode.REDUCE_ONLY_WOULD_INCREASE,
    )
    h.sell(A, P, 10)
    h.buy(B, P, 4)
    h.buy(C, P - 10, 100)
    h.sell(B, P - 10, 50, { reduceOnly: true, tif: TimeInForce.IOC })
    expect(h.position(B)).toBe(0)
    expectReject(h.sell(B, P, 1, { reduceOnly: true }), RejectCode.BAD_ORDER_TYPE)
  })

  it('good-til-time orders expire at their time and cannot be placed already expired', () => {
    const h = market()
    expectReject(h.sell(A, P, 1, { tif: TimeInForce.GTT, expiresAtMs: h.nowMs }), RejectCode.ORDER_EXPIRED)
    h.sell(A, P, 1, { tif: TimeInForce.GTT, expiresAtMs: h.nowMs + 5_000 })
    expect(eventsOf(h.advance(4_999), 'order')).toEqual([])
    expect(eventsOf(h.advance(1), 'order')).toMatchObject([{ status: 'expired', reason: 'expired' }])
    expect(h.state.markets[0]!.book.size).toBe(0)
  })

  it('an expired maker is never matched, even before the time advance reaches it', () => {
    const h = market()
    h.sell(A, P, 1, { tif: TimeInForce.GTT, expiresAtMs: h.nowMs + 1_000 })
    h.nowMs += 2_000
    h.price(1, P)
    const r = h.buy(B, P, 1, { tif: TimeInForce.IOC })
    expect(eventsOf(r, 'fill')).toEqual([])
    expect(eventsOf(r, 'order')[0]).toMatchObject({ orderId: 1, status: 'expired' })
  })

  it('client order ids are unique among open orders, so a retry cannot double an order', () => {
    const h = market()
    expect(h.sell(A, P + 10, 1, { clientOrderId: 42n }).result.ok).toBe(true)
    expectReject(h.sell(A, P + 10, 1, { clientOrderId: 42n }), RejectCode.DUPLICATE_CLIENT_ORDER_ID)
    const r = h.run({
      type: 'cancelOrder',
      account: A,
      signer: A,
      nonce: h.nextNonce(),
      marketId: 0,
      orderId: 0,
      clientOrderId: 42n,
    })
    expect(r.result.ok).toBe(true)
    expect(h.sell(A, P + 10, 1, { clientOrderId: 42n }).result.ok).toBe(true)
  })

  it('caps open orders per account', () => {
    const h = new Harness(
      (() => {
        const c = new Harness().state.config
        return { ...c, maxOpenOrdersPerAccount: 2 }
      })(),
    )
    h.deposit(A, 1_000n * USDC)
    h.price(1, P)
    h.sell(A, P + 1, 1)
    h.sell(A, P + 2, 1)
    expectReject(h.sell(A, P + 3, 1), RejectCode.TOO_MANY_OPEN_ORDERS)
  })
})

describe('self-trade prevention', () => {
  it('expire-maker cancels the resting order and keeps matching', () => {
    const h = market()
    h.sell(A, P, 5)
    h.sell(B, P + 1, 5)
    const r = h.buy(A, P + 1, 5, { stp: SelfTradePrevention.ExpireMaker })
    expect(eventsOf(r, 'order')[0]).toMatchObject({ orderId: 1, status: 'cancelled', reason: 'selfTrade' })
    expect(eventsOf(r, 'fill')).toMatchObject([{ makerAccountId: 2, sizeLots: 5 }])
  })

  it('expire-taker stops the incoming order and leaves the maker', () => {
    const h = market()
    h.sell(B, P - 1, 2)
    h.sell(A, P, 5)
    const r = h.buy(A, P, 5, { stp: SelfTradePrevention.ExpireTaker })
    expect(eventsOf(r, 'fill')).toMatchObject([{ makerAccountId: 2, sizeLots: 2 }])
    expect(eventsOf(r, 'order').at(-1)).toMatchObject({
      status: 'cancelled',
      reason: 'selfTrade',
      remainingLots: 3,
    })
    expect(h.state.markets[0]!.book.bestAskTicks()).toBe(P)
  })

  it('expire-both cancels both', () => {
    const h = market()
    h.sell(A, P, 5)
    const r = h.buy(A, P, 5, { stp: SelfTradePrevention.ExpireBoth })
    expect(eventsOf(r, 'order').map((e) => e.status)).toEqual(['cancelled', 'cancelled'])
    expect(h.state.markets[0]!.book.size).toBe(0)
  })
})

describe('cancel and modify', () => {
  it('a size decrease keeps time priority; a price change re-queues with a new id', () => {
    const h = market()
    h.sell(A, P, 10) // id 1
    h.sell(B, P, 10) // id 2
    const m = h.run({
      type: 'modifyOrder',
      account: A,
      signer: A,
      nonce: h.nextNonce(),
      marketId: 0,
      orderId: 1,
      newPriceTicks: P,
      newSizeLots: 4,
    })
    expect(m.result).toEqual({ ok: true, orderId: 1 })
    expect(eventsOf(h.buy(C, P, 4, { tif: TimeInForce.IOC }), 'fill')).toMatchObject([
      { makerOrderId: 1, sizeLots: 4 },
    ])

    h.sell(A, P, 10) // id 4 behind B
    const up = h.run({
      type: 'modifyOrder',
      account: B,
      signer: B,
      nonce: h.nextNonce(),
      marketId: 0,
      orderId: 2,
      newPriceTicks: P,
      newSizeLots: 11,
    })
    expect(up.result.ok && up.result.orderId).toBeGreaterThan(4)
    expect(eventsOf(h.buy(C, P, 1, { tif: TimeInForce.IOC }), 'fill')).toMatchObject([{ makerAccountId: 1 }])
  })

  it('a rejected modify leaves the old order resting', () => {
    const h = market(1n)
    h.deposit(A, 100n * USDC)
    h.sell(A, P + 1000, 1)
    const r = h.run({
      type: 'modifyOrder',
      account: A,
      signer: A,
      nonce: h.nextNonce(),
      marketId: 0,
      orderId: 1,
      newPriceTicks: P + 1000,
      newSizeLots: 100_000,
    })
    expectReject(r, RejectCode.INSUFFICIENT_MARGIN)
    expect(h.state.ordersById.get(1)?.remainingLots).toBe(1)
  })

  it('cancel-all cancels one market or every market', () => {
    const h = market()
    h.price(2, 300_000)
    h.sell(A, P + 1, 1)
    h.sell(A, 300_001, 1, { marketId: 1 })
    h.run({ type: 'cancelAll', account: A, signer: A, nonce: h.nextNonce(), marketId: 1 })
    expect(h.state.markets[1]!.book.size).toBe(0)
    expect(h.state.markets[0]!.book.size).toBe(1)
    h.run({ type: 'cancelAll', account: A, signer: A, nonce: h.nextNonce(), marketId: null })
    expect(h.state.ordersById.size).toBe(0)
  })

  it("cannot cancel another account's order", () => {
    const h = market()
    h.sell(A, P, 1)
    expectReject(h.cancel(B, 1), RejectCode.UNKNOWN_ORDER)
  })
})

describe('margin', () => {
  it('rejects a risk-increasing order below initial margin, counting resting orders', () => {
    const h = market(1n)
    h.deposit(A, 100n * USDC)
    h.sell(B, P, 1_000)
    // 1000 lots = 6,000 USDC notional; 2% initial margin = 120 USDC > 100 USDC.
    expectReject(h.buy(A, P, 1_000), RejectCode.INSUFFICIENT_MARGIN)
    expect(h.position(A)).toBe(0)
    // 800 resting lots need 96 USDC; another 100 resting need 12 more.
    expect(h.buy(A, P - 1_000, 800).result.ok).toBe(true)
    expectReject(h.buy(A, P - 1_000, 100), RejectCode.INSUFFICIENT_MARGIN)
  })

  it('always allows an order that only reduces the position', () => {
    const h = market()
    h.deposit(A, 50n * USDC)
    h.sell(B, P, 1_000)
    h.buy(A, P, 1_000)
    h.nowMs += 1000
    h.price(1, P - 12_000) // the long loses 120 USDC of its ~10,050
    h.buy(C, P - 12_100, 500)
    expect(h.sell(A, P - 12_100, 100, { tif: TimeInForce.IOC }).result.ok).toBe(true)
  })

  it('withdrawals are limited by initial margin and recorded for the batch', () => {
    const h = market()
    h.sell(A, P, 1_000)
    h.buy(B, P, 1_000)
    const risk = accountRisk(h.state, h.state.accountByAddress(B)!)
    const free = risk.equityQuantums - risk.initialMarginQuantums
    expectReject(
      h.run({ type: 'withdraw', account: B, signer: B, nonce: h.nextNonce(), amountQuantums: free + 1n }),
      RejectCode.INSUFFICIENT_COLLATERAL,
    )
    const ok = h.run({ type: 'withdraw', account: B, signer: B, nonce: h.nextNonce(), amountQuantums: free })
    expect(eventsOf(ok, 'withdrawal')).toMatchObject([
      { amountQuantums: free, withdrawalIndex: 0, forced: false },
    ])
    expect(h.state.pendingWithdrawals).toHaveLength(1)
    expect(h.state.totalWithdrawnQuantums).toBe(free)
  })

  it('a forced withdrawal is always consumed, paying what margin allows', () => {
    const h = market()
    const r = h.run({ type: 'forcedWithdrawal', account: A, amountQuantums: 20_000n * USDC, inboxIndex: 3 })
    expect(eventsOf(r, 'withdrawal')).toMatchObject([{ amountQuantums: 10_000n * USDC, forced: true }])
    const again = h.run({ type: 'forcedWithdrawal', account: A, amountQuantums: 1n, inboxIndex: 4 })
    expect(eventsOf(again, 'forcedWithdrawalRejected')).toMatchObject([
      { code: RejectCode.INSUFFICIENT_COLLATERAL },
    ])
    expect(h.state.inboxConsumed).toBe(5)
  })

  it('inbox items out of order break an invariant instead of being applied', () => {
    const h = market()
    expect(() => h.run({ type: 'deposit', account: A, amountQuantums: 1n, inboxIndex: 7 })).toThrow(
      /inbox order/,
    )
  })
})

describe('signers and nonces', () => {
  it('rejects a reused nonce and a nonce outside the window', () => {
    const h = market()
    const nonce = h.nowMs
    const op = { type: 'cancelAll' as const, account: A, signer: A, nonce, marketId: null }
    expect(h.run(op).result.ok).toBe(true)
    expectReject(h.run(op), RejectCode.NONCE_REUSED)
    expectReject(h.run({ ...op, nonce: h.nowMs + 2 * 24 * 3600_000 }), RejectCode.NONCE_OUT_OF_WINDOW)
  })

  it('an approved agent may trade until its expiry but never withdraw', () => {
    const h = market()
    const agent = testAddress(0xa9e47)
    expectReject(
      h.run({ type: 'cancelAll', account: A, signer: agent, nonce: h.nextNonce(), marketId: null }),
      RejectCode.BAD_SIGNER,
    )
    expect(
      h.run({
        type: 'approveAgent',
        account: A,
        signer: A,
        nonce: h.nextNonce(),
        agent,
        expiresAtMs: h.nowMs + 60_000,
      }).result.ok,
    ).toBe(true)
    expect(
      h.run({ type: 'cancelAll', account: A, signer: agent, nonce: h.nextNonce(), marketId: null }).result.ok,
    ).toBe(true)
    expectReject(
      h.run({ type: 'withdraw', account: A, signer: agent, nonce: h.nextNonce(), amountQuantums: 1n }),
      RejectCode.AGENT_NOT_ALLOWED,
    )
    h.nowMs += 60_000
    expectReject(
      h.run({ type: 'cancelAll', account: A, signer: agent, nonce: h.nextNonce(), marketId: null }),
      RejectCode.AGENT_EXPIRED,
    )
    h.run({ type: 'revokeAgent', account: A, signer: A, nonce: h.nextNonce(), agent })
    expectReject(
      h.run({ type: 'cancelAll', account: A, signer: agent, nonce: h.nextNonce(), marketId: null }),
      RejectCode.BAD_SIGNER,
    )
  })

  it('an unknown account cannot trade', () => {
    const h = market()
    expectReject(h.sell(testAddress(99), P, 1), RejectCode.UNKNOWN_ACCOUNT)
  })
})

describe('oracle', () => {
  it('takes the median of a quorum of distinct oracle signers', () => {
    const h = market()
    h.nowMs += 1000
    const obs = (i: number, priceTicks: number) => ({
      signer: testAddress(0xa1 + i),
      priceTicks,
      publishTimeMs: h.nowMs,
    })
    const r = h.run({
      type: 'oracleUpdate',
      oracleId: 1,
      observations: [obs(0, P + 10), obs(1, P + 30), obs(2, P + 20)],
    })
    expect(eventsOf(r, 'price')).toMatchObject([{ priceTicks: P + 20 }])
    h.nowMs += 1000
    expectReject(
      h.run({ type: 'oracleUpdate', oracleId: 1, observations: [obs(0, P)] }),
      RejectCode.ORACLE_QUORUM,
    )
    expectReject(
      h.run({ type: 'oracleUpdate', oracleId: 1, observations: [obs(0, P), obs(0, P)] }),
      RejectCode.ORACLE_UNKNOWN_SIGNER,
    )
    expectReject(
      h.run({
        type: 'oracleUpdate',
        oracleId: 1,
        observations: [obs(0, P), { signer: testAddress(5), priceTicks: P, publishTimeMs: h.nowMs }],
      }),
      RejectCode.ORACLE_UNKNOWN_SIGNER,
    )
    expectReject(h.run({ type: 'oracleUpdate', oracleId: 9, observations: [] }), RejectCode.ORACLE_UNKNOWN)
  })

  it('rejects stale, not-newer and out-of-band prices, and re-anchors once stale', () => {
    const h = market()
    h.nowMs += 20_000
    const at = (priceTicks: number, publishTimeMs: number) =>
      h.run({
        type: 'oracleUpdate',
        oracleId: 1,
        observations: [
          { signer: testAddress(0xa1), priceTicks, publishTimeMs },
          { signer: testAddress(0xa2), priceTicks, publishTimeMs },
        ],
      })
    expectReject(at(P, h.nowMs - 10_001), RejectCode.ORACLE_STALE)
    expectReject(at(P, h.nowMs - 20_000), RejectCode.ORACLE_STALE)
    expectReject(at(Math.round(P * 1.11), h.nowMs), RejectCode.ORACLE_OUT_OF_BAND)
    expect(at(Math.round(P * 1.1), h.nowMs).result.ok).toBe(true)
    expectReject(at(P, h.nowMs), RejectCode.ORACLE_NOT_NEWER)
    h.advance(61_000)
    expect(h.state.markets[0]!.reduceOnly).toBe(true)
    expectReject(h.buy(A, P, 1), RejectCode.MARKET_REDUCE_ONLY)
    expect(at(P * 2, h.nowMs).result.ok).toBe(true)
    expect(h.state.markets[0]!.reduceOnly).toBe(false)
  })
})

describe('triggers', () => {
  it('a stop-market sell fires when the mark falls to its trigger', () => {
    const h = market()
    h.sell(A, P, 10)
    h.buy(B, P, 10)
    h.buy(C, P - 2_000, 50)
    const placed = h.sell(B, P - 5_000, 10, {
      kind: OrderKind.StopMarket,
      tif: TimeInForce.IOC,
      triggerPriceTicks: P - 1_000,
      reduceOnly: true,
    })
    expect(eventsOf(placed, 'order')).toMatchObject([{ status: 'untriggered' }])
    h.nowMs += 1000
    expect(eventsOf(h.price(1, P - 999), 'fill')).toEqual([])
    h.nowMs += 1000
    const r = h.price(1, P - 1_000)
    expect(eventsOf(r, 'order')[0]).toMatchObject({ status: 'triggered' })
    expect(eventsOf(r, 'fill')).toMatchObject([{ takerAccountId: 2, priceTicks: P - 2_000, sizeLots: 10 }])
    expect(h.position(B)).toBe(0)
  })

  it('a take-profit-limit buy fires when the mark falls to its trigger and then rests', () => {
    const h = market()
    h.place(A, {
      side: Side.Buy,
      priceTicks: P - 3_000,
      sizeLots: 5,
      kind: OrderKind.TakeProfitLimit,
      triggerPriceTicks: P - 2_000,
    })
    h.nowMs += 1000
    const r = h.price(1, P - 2_500)
    expect(eventsOf(r, 'order').map((e) => e.status)).toEqual(['triggered', 'open'])
    expect(h.state.markets[0]!.book.bestBidTicks()).toBe(P - 3_000)
  })
})

describe('funding', () => {
  it('charges longs the clamped rate through the index, settled lazily and rounded against the account', () => {
    const h = market()
    h.sell(A, P, 10)
    h.buy(B, P, 10)
    for (let i = 0; i < 60; i++) {
      h.nowMs += 60_000
      h.price(1, P)
    }
    const r = h.advance(0)
    // Empty book: premium 0, so the rate is the 12 ppm interest: 12e-6 × 6 USDC per lot = 72 quantums per lot.
    expect(eventsOf(r, 'fundingRate')).toMatchObject([
      { ratePpm: 12, fundingIndexNanoQuantumsPerLot: 72_000_000_000n },
    ])
    const b = h.state.accountByAddress(B)!
    const equityBefore = accountRisk(h.state, b).equityQuantums
    const settle = h.sell(B, P, 1, { tif: TimeInForce.IOC })
    expect(eventsOf(settle, 'funding')).toEqual([])
    expect(accountRisk(h.state, b).equityQuantums).toBe(equityBefore)
    h.buy(C, P, 10)
    const r2 = h.sell(B, P, 10, { tif: TimeInForce.IOC })
    expect(eventsOf(r2, 'funding')).toMatchObject([{ accountId: b.accountId, paidQuantums: 720n }])
  })
})

describe('liquidation', () => {
  function leveraged(): Harness {
    const h = market()
    h.deposit(testAddress(9), 20n * USDC)
    h.sell(A, P, 60)
    // 60 lots = 360 USDC at 20 USDC of collateral: 18× leverage; maintenance margin 3.6 USDC.
    expect(h.buy(testAddress(9), P, 60).result.ok).toBe(true)
    return h
  }

  it('cancels orders, then reduces through the book no worse than bankruptcy', () => {
    const h = leveraged()
    const L = testAddress(9)
    h.buy(L, P - 50_000, 1)
    h.buy(C, P - 30_100, 1_000)
    h.nowMs += 1000
    const r = h.price(1, P - 30_000)
    expect(eventsOf(r, 'order')[0]).toMatchObject({
      accountId: 4,
      status: 'cancelled',
      reason: 'liquidation',
    })
    const fills = eventsOf(r, 'fill').filter((f) => f.liquidation)
    expect(fills.length).toBeGreaterThan(0)
    expect(eventsOf(r, 'liquidation')[0]).toMatchObject({ via: 'book' })
    const risk = accountRisk(h.state, h.state.accountByAddress(L)!)
    expect(isLiquidatable(risk)).toBe(false)
    expect(risk.equityQuantums).toBeGreaterThanOrEqual(0n)
    expect(h.state.insuranceFund.collateralQuantums).toBeGreaterThan(0n)
  })

  it('hands the rest to the insurance fund when the book cannot take it', () => {
    const h = leveraged()
    h.deposit('0x0000000000000000000000000000000000000000', 1_000n * USDC)
    h.nowMs += 1000
    const r = h.price(1, P - 33_000)
    expect(eventsOf(r, 'liquidation')).toMatchObject([{ via: 'insurance', sizeLots: 60 }])
    expect(h.position(testAddress(9))).toBe(0)
    expect(h.collateral(testAddress(9))).toBe(0n)
    expect(h.state.insuranceFund.markets[0]!.sizeLots).toBe(60)
  })

  it('auto-deleverages the most profitable, most leveraged opposite position when the fund cannot cover', () => {
    const h = leveraged()
    h.sell(B, P, 10)
    h.buy(C, P, 10)
    h.nowMs += 1000
    const r = h.price(1, P - 40_000)
    const adl = eventsOf(r, 'deleverage')
    expect(adl.length).toBeGreaterThan(0)
    expect(adl[0]).toMatchObject({ liquidatedAccountId: 4, counterpartyAccountId: 1 })
    expect(h.position(testAddress(9))).toBe(0)
    expect(h.state.markets[0]!.openInterestLots).toBe(10)
  })
})
