import { OrderBook as PeerOrderBook, Side as PeerSide, SelfTradePreventionMode } from 'nodejs-order-book'
import type { Address } from 'viem'
import { apply } from '../engine/apply.ts'
import type { EngineConfig, MarketConfig } from '../engine/config.ts'
import { rebuildLiquidationIndex } from '../engine/engine.ts'
import { checkSealInvariants } from '../engine/invariants/checkInvariants.ts'
import { type Op, OrderKind, SelfTradePrevention, Side, TimeInForce } from '../engine/ops.ts'
import { StateCommitment } from '../engine/state/commitState.ts'
import { EngineState } from '../engine/state/engineState.ts'
import { BTC_PERP, ORACLE_SIGNERS, testAddress, testConfig } from '../engine/testing/testConfig.ts'
import { getOrCreateAccount } from '../engine/transitions/deposit.ts'
import { collectGarbage, heapUsedAfterGc, median } from './stats.ts'
import { generateWorkload, type Workload } from './workload.ts'

/**
 * Engine-level benchmarks:
 * - the full engine (signature-free: signers are given) on the matching mix of bench/workload.ts, over
 *   4 markets and 10k accounts, margin checked on every order, against nodejs-order-book on the same ops;
 * - an oracle price move over 1M accounts with positions that puts nobody at risk;
 * - a price move that makes 1% of them liquidatable, all liquidated through the book and the backstop;
 * - memory per account and per resting order, measured on the heap after a full GC.
 */

const QUICK = process.env.BENCH_QUICK === '1'
const START_MS = 1_700_000_000_000
const USDC = 1_000_000n
const MID = 1_000_000

function fourMarkets(): MarketConfig[] {
  return [0, 1, 2, 3].map((i) => ({
    ...BTC_PERP,
    marketId: i,
    symbol: `M${i}-PERP`,
    oracleId: i + 1,
    maxOrderLots: 10_000_000,
  }))
}

function priceOp(oracleId: number, priceTicks: number, nowMs: number): Op {
  return {
    type: 'oracleUpdate',
    oracleId,
    observations: [
      { signer: ORACLE_SIGNERS[0]!, priceTicks, publishTimeMs: nowMs },
      { signer: ORACLE_SIGNERS[1]!, priceTicks, publishTimeMs: nowMs },
    ],
  }
}

/** A sequencer-like driver: consecutive seq, fixed time. */
class Driver {
  seq = 0
  constructor(
    readonly state: EngineState,
    public nowMs = START_MS,
  ) {}
  run(op: Op) {
    return apply(this.state, op, { seq: ++this.seq, timestampMs: this.nowMs })
  }
}

// ---------------------------------------------------------------------------------------------------
// 1. The full engine against nodejs-order-book on the same mix.

interface Mix {
  workloads: Workload[]
  /** Interleaving: entry n is (market, index into that market's ops). */
  order: Uint32Array
}

function buildMix(totalOps: number, accounts: number): Mix {
  const per = Math.floor(totalOps / 4)
  const workloads = [0, 1, 2, 3].map((m) => generateWorkload(1000 + m, per, { accounts, startMidTicks: MID }))
  const order = new Uint32Array(per * 4)
  for (let i = 0; i < per; i++) for (let m = 0; m < 4; m++) order[i * 4 + m] = (m << 28) | i
  return { workloads, order }
}

function engineOps(mix: Mix, addresses: Address[]): Op[] {
  const nonces = new Int32Array(addresses.length)
  const ops: Op[] = []
  const owner = mix.workloads.map(() => new Map<number, number>())
  for (const packed of mix.order) {
    const m = packed >>> 28
    const op = mix.workloads[m]!.ops[packed & 0x0fff_ffff]!
    if (op.type === 'cancel') {
      const accountId = owner[m]!.get(op.orderId)!
      const account = addresses[accountId]!
      ops.push({
        type: 'cancelOrder',
        account,
        signer: account,
        nonce: START_MS - 1_000_000 + nonces[accountId]!++,
        marketId: m,
        orderId: 0,
        clientOrderId: BigInt(op.orderId),
      })
      continue
    }
    owner[m]!.set(op.orderId, op.accountId)
    const account = addresses[op.accountId]!
    const isLimit = op.type === 'limit'
    ops.push({
      type: 'placeOrder',
      account,
      signer: account,
      nonce: START_MS - 1_000_000 + nonces[op.accountId]!++,
      order: {
        marketId: m,
        side: op.side,
        kind: isLimit ? OrderKind.Limit : OrderKind.Market,
        tif: isLimit ? TimeInForce.GTC : TimeInForce.IOC,
        priceTicks: isLimit ? op.priceTicks : op.side === Side.Buy ? MID * 2 : 1,
        sizeLots: op.sizeLots,
        triggerPriceTicks: 0,
        reduceOnly: false,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: isLimit ? BigInt(op.orderId) : 0n,
        expiresAtMs: 0,
      },
    })
  }
  return ops
}

function mixConfig(): EngineConfig {
  return testConfig({ markets: fourMarkets(), maxOpenOrdersPerAccount: 1_000 })
}

function replayEngine(ops: Op[], addresses: Address[]): { seconds: number; rejected: number; fills: number } {
  const state = new EngineState(mixConfig())
  const d = new Driver(state)
  for (let i = 0; i < addresses.length; i++)
    d.run({ type: 'deposit', account: addresses[i]!, amountQuantums: 1_000_000n * USDC, inboxIndex: i })
  for (let m = 0; m < 4; m++) d.run(priceOp(m + 1, MID, d.nowMs))
  let rejected = 0
  let fills = 0
  const t0 = performance.now()
  for (let i = 0; i < ops.length; i++) {
    const r = d.run(ops[i]!)
    if (!r.result.ok) rejected++
    for (const e of r.events) if (e.type === 'fill') fills++
  }
  return { seconds: (performance.now() - t0) / 1000, rejected, fills }
}

function replayPeer(mix: Mix): { seconds: number; tradedLots: number } {
  const books = mix.workloads.map(() => new PeerOrderBook())
  const ids = mix.workloads.map((w) => Array.from({ length: w.maxOrderId + 1 }, (_, i) => `o${i}`))
  const accounts = Array.from({ length: 10_000 }, (_, i) => `a${i}`)
  const stpMode = SelfTradePreventionMode.EXPIRE_MAKER
  let tradedLots = 0
  const t0 = performance.now()
  for (const packed of mix.order) {
    const m = packed >>> 28
    const op = mix.workloads[m]!.ops[packed & 0x0fff_ffff]!
    const book = books[m]!
    if (op.type === 'cancel') {
      book.cancel(ids[m]![op.orderId]!)
      continue
    }
    const side = op.side === Side.Buy ? PeerSide.BUY : PeerSide.SELL
    const accountId = accounts[op.accountId]!
    const res =
      op.type === 'limit'
        ? book.limit({
            side,
            id: ids[m]![op.orderId]!,
            size: op.sizeLots,
            price: op.priceTicks,
            accountId,
            stpMode,
          })
        : book.market({ side, size: op.sizeLots, accountId, stpMode })
    tradedLots += op.sizeLots - res.quantityLeft
  }
  return { seconds: (performance.now() - t0) / 1000, tradedLots }
}

function benchEngineVsPeer(): void {
  const totalOps = QUICK ? 100_000 : 1_000_000
  // Several runs even in a smoke run: the first of each side also warms the JIT, and the median drops it.
  const runs = 3
  const addresses = Array.from({ length: 10_000 }, (_, i) => testAddress(0x10_0000 + i))
  const mix = buildMix(totalOps, addresses.length)
  const ops = engineOps(mix, addresses)
  const ours: number[] = []
  const peer: number[] = []
  let last = { rejected: 0, fills: 0 }
  for (let r = 0; r < runs; r++) {
    collectGarbage()
    const p = replayPeer(mix)
    peer.push(ops.length / p.seconds)
    collectGarbage()
    const e = replayEngine(ops, addresses)
    ours.push(ops.length / e.seconds)
    last = e
  }
  if (last.rejected > ops.length / 100)
    console.log(`WARNING engine rejected ${last.rejected} of ${ops.length} ops`)
  const o = median(ours)
  const p = median(peer)
  console.log(`BENCH engine_ops_per_s ${Math.round(o)} ops/s`)
  console.log(`BENCH nodejs_order_book_4_markets_ops_per_s ${Math.round(p)} ops/s`)
  console.log(`RATIO engine_vs_nodejs_order_book ${(o / p).toFixed(2)}`)
}

// ---------------------------------------------------------------------------------------------------
// 2-4. One million accounts with positions.

interface Large {
  state: EngineState
  driver: Driver
  fragile: number
}

/**
 * Builds N accounts with positions directly (as N deposits and N/2 trades would, without the time):
 * pairs of a long and a short of 1..50 lots at the mark, leverage 2×..5×, in one of two markets.
 * With `fragileShare`, that share of the longs run at 40× instead, so a 2.2% drop liquidates them.
 */
function buildLarge(accounts: number, fragileEvery: number): Large {
  const config = testConfig()
  const state = new EngineState(config)
  const driver = new Driver(state)
  driver.run(priceOp(1, 600_000, driver.nowMs))
  driver.run(priceOp(2, 300_000, driver.nowMs))
  let fragile = 0
  for (let i = 0; i + 1 < accounts; i += 2) {
    const marketId = (i >> 1) % 2
    const market = state.markets[marketId]!
    const q = market.config.quantumsPerLotTick
    const size = 1 + ((i >> 1) % 50)
    const notional = BigInt(size) * BigInt(market.markPriceTicks) * q
    const isFragile = fragileEvery > 0 && (i >> 1) % fragileEvery === 0 && marketId === 0
    if (isFragile) fragile++
    for (const side of [1, -1]) {
      const account = getOrCreateAccount(state, testAddress(0x100_0000 + i + (side === 1 ? 0 : 1)))
      const leverage = side === 1 && isFragile ? 40n : 2n + BigInt(i % 4)
      const collateral = notional / leverage
      account.collateralQuantums = collateral
      state.totalDepositedQuantums += collateral
      const am = account.market(marketId)
      am.sizeLots = side * size
      am.costBasisQuantums = BigInt(side) * notional
      market.holders.add(account.accountId)
      if (side === 1) market.openInterestLots += size
    }
  }
  rebuildLiquidationIndex(state)
  driver.seq = state.seq
  return { state, driver, fragile }
}

function benchPriceUpdate(large: Large): void {
  const { driver } = large
  const times: number[] = []
  let price = 600_000
  for (let i = 0; i < 21; i++) {
    driver.nowMs += 1_000
    price += i % 2 === 0 ? 300 : -300
    const t0 = performance.now()
    const r = driver.run(priceOp(1, price, driver.nowMs))
    times.push(performance.now() - t0)
    if (!r.result.ok || r.events.some((e) => e.type === 'liquidation'))
      throw new Error('the quiet price move did something')
  }
  console.log(`BENCH price_update_1m_accounts_ms ${median(times).toFixed(3)} ms`)
}

function benchLiquidation(accounts: number): number {
  const large = buildLarge(accounts, 50)
  const { state, driver } = large
  // Makers bid below the post-drop mark; the insurance fund backs what the book cannot take.
  const makers = [0xfeed0, 0xfeed1, 0xfeed2, 0xfeed3].map(testAddress)
  let inbox = 0
  for (const m of makers)
    driver.run({ type: 'deposit', account: m, amountQuantums: 50_000_000n * USDC, inboxIndex: inbox++ })
  driver.run({
    type: 'deposit',
    account: '0x0000000000000000000000000000000000000000',
    amountQuantums: 5_000_000n * USDC,
    inboxIndex: inbox++,
  })
  const dropped = Math.round(600_000 * 0.978)
  makers.forEach((maker, k) => {
    for (let level = 0; level < 20; level++) {
      driver.run({
        type: 'placeOrder',
        account: maker,
        signer: maker,
        nonce: driver.nowMs - 10_000 + k * 100 + level,
        order: {
          marketId: 0,
          side: Side.Buy,
          kind: OrderKind.Limit,
          tif: TimeInForce.GTC,
          priceTicks: dropped - 100 - level * 10,
          sizeLots: 1_000 + level * 100,
          triggerPriceTicks: 0,
          reduceOnly: false,
          postOnly: false,
          stp: SelfTradePrevention.ExpireMaker,
          clientOrderId: 0n,
          expiresAtMs: 0,
        },
      })
    }
  })
  driver.nowMs += 1_000
  // Bring the mark down inside the band in two steps; only the second crosses the fragile accounts.
  driver.run(priceOp(1, Math.round(600_000 * 0.99), driver.nowMs))
  driver.nowMs += 1_000
  const t0 = performance.now()
  const r = driver.run(priceOp(1, dropped, driver.nowMs))
  const ms = performance.now() - t0
  let viaBook = 0
  let viaInsurance = 0
  const liquidated = new Set<number>()
  for (const e of r.events) {
    if (e.type !== 'liquidation') continue
    liquidated.add(e.accountId)
    if (e.via === 'book') viaBook++
    else viaInsurance++
  }
  if (liquidated.size !== large.fragile)
    console.log(`WARNING liquidated ${liquidated.size} accounts, expected ${large.fragile}`)
  console.log(
    `# liquidation run: ${liquidated.size} accounts, ${viaBook} book steps, ${viaInsurance} backstop takeovers, ${state.accounts.length - 1} accounts`,
  )
  return ms
}

function benchAccountMemory(accounts: number): void {
  const before = heapUsedAfterGc()
  const large = buildLarge(accounts, 0)
  const commitment = new StateCommitment(large.state)
  commitment.root()
  // A sealing engine also holds what its seal gate saw of every account (the seal ledger).
  const violations = checkSealInvariants(large.state, [])
  const after = heapUsedAfterGc()
  // Read the state after measuring, so nothing of it can be collected before the second reading.
  const held = large.state.accounts.length + commitment.state.seq
  console.log(`BENCH bytes_per_account ${Math.round((after - before) / accounts)} bytes`)
  if (held < accounts) console.log('WARNING fewer accounts than asked')
  if (violations.length > 0) console.log(`WARNING the seal gate finds ${violations[0]!.invariant}`)
}

/** Resting orders placed through the engine: the book, the account's and the order index's entries. */
function benchOrderMemory(): void {
  const orders = QUICK ? 20_000 : 200_000
  const state = new EngineState(testConfig({ maxOpenOrdersPerAccount: 1_000 }))
  const d = new Driver(state)
  d.run(priceOp(1, 600_000, d.nowMs))
  const owners = Array.from({ length: orders / 200 }, (_, i) => testAddress(0x200_0000 + i))
  owners.forEach((a, i) => {
    d.run({ type: 'deposit', account: a, amountQuantums: 10_000_000n * USDC, inboxIndex: i })
  })
  const ops: Op[] = []
  for (let i = 0; i < orders; i++) {
    const account = owners[i % owners.length]!
    const side = i % 2 === 0 ? Side.Buy : Side.Sell
    ops.push({
      type: 'placeOrder',
      account,
      signer: account,
      nonce: d.nowMs - 100_000 + Math.floor(i / owners.length),
      order: {
        marketId: 0,
        side,
        kind: OrderKind.Limit,
        tif: TimeInForce.GTC,
        priceTicks: side === Side.Buy ? 590_000 - (i % 5_000) : 610_000 + (i % 5_000),
        sizeLots: 1 + (i % 100),
        triggerPriceTicks: 0,
        reduceOnly: false,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: BigInt(i + 1),
        expiresAtMs: 0,
      },
    })
  }
  const base = heapUsedAfterGc()
  for (const op of ops) d.run(op)
  // The op objects existed before the first reading; keep them until after the second.
  const after = heapUsedAfterGc()
  if (ops.length !== orders) console.log('WARNING ops released early')
  if (state.ordersById.size !== orders)
    console.log(`WARNING ${state.ordersById.size} of ${orders} orders rest`)
  console.log(`BENCH bytes_per_resting_order ${Math.round((after - base) / orders)} bytes`)
}

/** For profiling: the engine replay alone. */
export function profileEngineOnly(): void {
  const addresses = Array.from({ length: 10_000 }, (_, i) => testAddress(0x10_0000 + i))
  const mix = buildMix(200_000, addresses.length)
  const e = replayEngine(engineOps(mix, addresses), addresses)
  console.log(`engine ${Math.round(200_000 / e.seconds)} ops/s, ${e.rejected} rejected, ${e.fills} fills`)
}

export async function run(): Promise<void> {
  if (globalThis.gc === undefined) console.log('# run with --expose-gc for the memory figures')
  const accounts = QUICK ? 100_000 : 1_000_000
  benchEngineVsPeer()
  benchPriceUpdate(buildLarge(accounts, 0))
  collectGarbage()
  const liq: number[] = []
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    liq.push(benchLiquidation(accounts))
    collectGarbage()
  }
  console.log(`BENCH liquidate_10k_of_1m_ms ${median(liq).toFixed(1)} ms`)
  benchAccountMemory(accounts)
  collectGarbage()
  benchOrderMemory()
}
