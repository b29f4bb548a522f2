import type { EngineConfig, MarginTier } from '../engine/config.ts'
import { DEFAULT_FUNDING, DEFAULT_NONCE_WINDOW } from '../engine/config.ts'
import { LiquidationIndex } from '../engine/risk/liquidationIndex.ts'
import { accountRisk, isLiquidatable, tieredMarginQuantums } from '../engine/risk/margin.ts'
import { Account } from '../engine/state/account.ts'
import { EngineState } from '../engine/state/engineState.ts'
import { collectGarbage, median } from './stats.ts'

/**
 * The liquidation-proximity index over 1M accounts, each with one position in one of 4 markets.
 * 1% of them (the "thin" longs of market 0) sit 0.5% of notional above maintenance; the rest 5% to 24%.
 * Measured: an oracle update that crosses nobody (set the mark, takeCrossed), a 1% drop that crosses
 * exactly the thin longs, and the index's memory. Peer: the full scan the index replaces (accountRisk
 * for every account), timed in the same run.
 */

const QUICK = process.env.BENCH_QUICK === '1'
const ACCOUNTS = QUICK ? 50_000 : 1_000_000
const THIN = ACCOUNTS / 100
const RUNS = 5
const SCAN_RUNS = 3

const TIERS: MarginTier[] = [
  { upToNotionalQuantums: 1_000_000n * 1_000_000n, imfPpm: 50_000, mmfPpm: 30_000 },
  { upToNotionalQuantums: null, imfPpm: 100_000, mmfPpm: 60_000 },
]
/** BTC, ETH, SOL-like and a small market, in ticks of 0.01 USD; one lot is 1e-4 of the base asset. */
const MARKS_TICKS = [6_500_000, 350_000, 15_000, 2_500]
const QUANTUMS_PER_LOT_TICK = 1n

function memoryBytes(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

function makeState(): EngineState {
  const config: EngineConfig = {
    chainId: 31337n,
    settlementAddress: '0x00000000000000000000000000000000000000aa',
    markets: MARKS_TICKS.map((_, marketId) => ({
      marketId,
      symbol: `M${marketId}-USD`,
      oracleId: marketId,
      quantumsPerLotTick: QUANTUMS_PER_LOT_TICK,
      minOrderLots: 1,
      maxOrderLots: 1_000_000,
      marginTiers: TIERS,
      makerFeePpm: 0,
      takerFeePpm: 0,
      liquidationFeePpm: 0,
      funding: DEFAULT_FUNDING,
      priceBandPpm: 100_000,
      oracleMaxAgeMs: 60_000,
    })),
    oracle: { signers: [], threshold: 1, maxPublishDelayMs: 10_000 },
    nonceWindow: DEFAULT_NONCE_WINDOW,
    maxOpenOrdersPerAccount: 100,
    accountTreeDepth: 24,
  }
  const state = new EngineState(config)
  MARKS_TICKS.forEach((mark, m) => {
    state.markets[m]!.markPriceTicks = mark
    state.markets[m]!.fundingIndexNanoQuantumsPerLot = BigInt(m) * 123_456_789n
  })
  return state
}

/** Account i: market i % 4, long or short by (i >> 2) & 1, 1 to 100 lots; equity = maintenance + buffer. */
function openAccounts(state: EngineState): Account[] {
  const thin: Account[] = []
  for (let i = 1; i <= ACCOUNTS; i++) {
    const marketId = i % 4
    const market = state.markets[marketId]!
    const long = ((i >> 2) & 1) === 0
    const lots = 1 + ((i * 7919) % 100)
    const sizeLots = long ? lots : -lots
    const account = new Account(i, `0x${i.toString(16).padStart(40, '0')}`)
    const am = account.market(marketId)
    am.sizeLots = sizeLots
    const perLot = BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick
    am.costBasisQuantums = BigInt(sizeLots) * perLot
    am.fundingIndexSnapshot = market.fundingIndexNanoQuantumsPerLot
    const notional = BigInt(lots) * perLot
    const isThin = marketId === 0 && long && thin.length < THIN
    const bufferPpm = isThin ? 5_000n : 50_000n + BigInt(i % 20) * 10_000n
    account.collateralQuantums =
      tieredMarginQuantums(TIERS, notional, true) + (notional * bufferPpm) / 1_000_000n
    state.accounts.push(account)
    if (isThin) thin.push(account)
  }
  return thin
}

export async function run(): Promise<void> {
  const state = makeState()
  const thin = openAccounts(state)
  const accounts = state.accounts

  collectGarbage()
  const before = memoryBytes()
  const buildStart = nowMs()
  const index = new LiquidationIndex(MARKS_TICKS.length)
  for (let i = 1; i < accounts.length; i++) {
    const a = accounts[i]!
    index.update(state, a, accountRisk(state, a))
  }
  const buildMs = nowMs() - buildStart
  collectGarbage()
  const bytesPerAccount = (memoryBytes() - before) / ACCOUNTS
  console.log(`# ${ACCOUNTS} accounts, ${index.entryCount} live entries, ${thin.length} thin longs`)

  // An oracle update that crosses nobody: ±0.1% on each market in turn.
  const quiet: number[] = []
  let crossedByQuiet = 0
  for (let r = 0; r < RUNS * 4; r++) {
    const marketId = r % 4
    const market = state.markets[marketId]!
    const base = MARKS_TICKS[marketId]!
    const step = Math.floor(base / 1000)
    const mark = r % 8 < 4 ? base - step : base + step
    const t0 = nowMs()
    market.markPriceTicks = mark
    crossedByQuiet += index.takeCrossed(state, marketId).length
    quiet.push(nowMs() - t0)
    market.markPriceTicks = base
  }
  if (crossedByQuiet !== 0) console.log(`# unexpected: quiet updates crossed ${crossedByQuiet}`)

  // A 1% drop of market 0 crosses exactly the thin longs; they are re-indexed (untimed) between runs.
  const take: number[] = []
  const market0 = state.markets[0]!
  for (let r = 0; r < RUNS; r++) {
    market0.markPriceTicks = MARKS_TICKS[0]!
    for (const a of thin) index.update(state, a, accountRisk(state, a))
    collectGarbage()
    const t0 = nowMs()
    market0.markPriceTicks = MARKS_TICKS[0]! - Math.floor(MARKS_TICKS[0]! / 100)
    const crossed = index.takeCrossed(state, 0)
    take.push(nowMs() - t0)
    if (crossed.length !== thin.length) console.log(`# unexpected: the drop crossed ${crossed.length}`)
  }
  market0.markPriceTicks = MARKS_TICKS[0]!
  for (const a of thin) index.update(state, a, accountRisk(state, a))

  // The peer: what an oracle update costs without the index.
  const scan: number[] = []
  for (let r = 0; r < SCAN_RUNS; r++) {
    const t0 = nowMs()
    let liquidatable = 0
    for (let i = 1; i < accounts.length; i++)
      if (isLiquidatable(accountRisk(state, accounts[i]!))) liquidatable++
    scan.push(nowMs() - t0)
    if (liquidatable !== 0) console.log(`# unexpected: ${liquidatable} liquidatable`)
  }

  const quietMs = median(quiet)
  const scanMs = median(scan)
  console.log(`BENCH liq_index_build_1m_accounts_ms ${buildMs.toFixed(0)} ms`)
  console.log(`BENCH liq_index_price_update_1m_accounts_ms ${quietMs.toPrecision(3)} ms`)
  console.log(`BENCH liq_index_take_10k_of_1m_ms ${median(take).toPrecision(3)} ms`)
  console.log(`BENCH liq_index_bytes_per_account ${bytesPerAccount.toFixed(0)} bytes`)
  console.log(`BENCH price_update_full_scan_1m_accounts_ms ${scanMs.toFixed(1)} ms`)
  console.log(`RATIO price_update_full_scan_vs_index ${(scanMs / quietMs).toFixed(0)}`)
}
