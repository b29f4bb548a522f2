import type { MarginTier, MarketConfig } from '../config.ts'
import { type Account, type AccountMarket, RISK_CACHE_MARKETS } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { divCeil, FUNDING_INDEX_SCALE, floorDivPpm, PPM, PPM_BIG } from '../units.ts'

/** An account's risk at current marks. Margin rounds against the account (up). */
export interface AccountRisk {
  /** collateral + unrealized PnL at mark − pending funding. */
  equityQuantums: bigint
  /** Initial margin of positions and open orders, worst side per market. */
  initialMarginQuantums: bigint
  /** Maintenance margin of positions only. */
  maintenanceMarginQuantums: bigint
  /** Sum over markets of |position| notional at mark. */
  positionNotionalQuantums: bigint
}

export function isLiquidatable(risk: AccountRisk): boolean {
  return risk.positionNotionalQuantums > 0n && risk.equityQuantums < risk.maintenanceMarginQuantums
}

export function meetsInitialMargin(risk: AccountRisk): boolean {
  return risk.equityQuantums >= risk.initialMarginQuantums
}

/**
 * Margin for a notional under bracket tiers: each slice of notional is charged its tier's fraction.
 * Rounded up, against the account.
 */
export function tieredMarginQuantums(
  tiers: readonly MarginTier[],
  notionalQuantums: bigint,
  maintenance: boolean,
): bigint {
  if (notionalQuantums <= 0n) return 0n
  let lower = 0n
  let scaled = 0n
  for (const tier of tiers) {
    const fractionPpm = BigInt(maintenance ? tier.mmfPpm : tier.imfPpm)
    const upper = tier.upToNotionalQuantums
    if (upper === null || notionalQuantums <= upper) {
      scaled += (notionalQuantums - lower) * fractionPpm
      break
    }
    scaled += (upper - lower) * fractionPpm
    lower = upper
  }
  return divCeil(scaled, PPM_BIG)
}

/** Funding the position owes since its last settlement; positive means the account pays. Rounded up, against the account. */
export function pendingFundingQuantums(am: AccountMarket, market: MarketState): bigint {
  if (am.sizeLots === 0) return 0n
  const delta = market.fundingIndexNanoQuantumsPerLot - am.fundingIndexSnapshot
  if (delta === 0n) return 0n
  return divCeil(BigInt(am.sizeLots) * delta, FUNDING_INDEX_SCALE)
}

/** Hypothetical values for one market, used to check an order before anything is mutated. */
export interface MarketOverride {
  marketId: number
  sizeLots: number
  costBasisQuantums: bigint
  openBidLots: number
  openAskLots: number
  /** Change to collateral from the hypothetical fills (realized PnL minus fees). */
  collateralDeltaQuantums: bigint
}

// ---------------------------------------------------------------------------------------------------
// The exact double path. Every value below is an integer; a double holds an integer exactly while its
// magnitude is below 2^53, and an integer sum or product whose rounded result is below 2^53 in magnitude
// was exact (rounding is monotonic and 2^53 is representable). So each step is checked against 2^53 (or
// bounded by a checked value), and any miss falls back to the bigint path: the results are the same bits.

const EXACT = 2 ** 53
const EXACT_BIG = 2n ** 53n
/** Notionals stay below this, so a margin (at most the notional) plus the next market's stays below 2^53. */
export const NOTIONAL_EXACT = 2 ** 52

/** A market's margin tiers as doubles, for the exact double path; `exact` is false when the path cannot be used. */
export class MarginTable {
  readonly exact: boolean
  /** quantumsPerLotTick. */
  readonly quantumsPerLotTick: number
  /** Upper bounds; Infinity for the unbounded tier and for bounds at or above 2^52 (no notional of the double path reaches them). */
  readonly upTo: Float64Array
  readonly imfPpm: Float64Array
  readonly mmfPpm: Float64Array
  /** Maker, taker and liquidation fees are integers of at most 1e6 ppm either way, as tradeFeeExact needs. */
  readonly feesExact: boolean

  constructor(config: MarketConfig) {
    const tiers = config.marginTiers
    const n = tiers.length
    this.upTo = new Float64Array(n)
    this.imfPpm = new Float64Array(n)
    this.mmfPpm = new Float64Array(n)
    // Each tier adds below 1e12 to the remainder sum of tieredMarginExact: 1000 tiers keep it below 2^53.
    let exact =
      n > 0 &&
      n <= 1_000 &&
      config.quantumsPerLotTick > 0n &&
      config.quantumsPerLotTick < BigInt(NOTIONAL_EXACT)
    let lower = 0n
    for (let i = 0; i < n; i++) {
      const t = tiers[i]!
      const upper = t.upToNotionalQuantums
      // The slicing below assumes ascending positive bounds and fractions that are at most 100%.
      if (upper !== null && upper <= lower) exact = false
      if (!isFraction(t.imfPpm) || !isFraction(t.mmfPpm)) exact = false
      this.upTo[i] =
        upper === null || upper >= BigInt(NOTIONAL_EXACT) ? Number.POSITIVE_INFINITY : Number(upper)
      this.imfPpm[i] = t.imfPpm
      this.mmfPpm[i] = t.mmfPpm
      if (upper !== null) lower = upper
    }
    this.exact = exact
    this.feesExact =
      exact && isFee(config.makerFeePpm) && isFee(config.takerFeePpm) && isFee(config.liquidationFeePpm)
    this.quantumsPerLotTick = exact ? Number(config.quantumsPerLotTick) : 0
  }
}

function isFee(ppm: number): boolean {
  return Number.isSafeInteger(ppm) && ppm >= -PPM && ppm <= PPM
}

function isFraction(ppm: number): boolean {
  return Number.isSafeInteger(ppm) && ppm >= 0 && ppm <= PPM
}

/**
 * tieredMarginQuantums in doubles, for 0 <= notional < 2^52 and a table with `exact`. Each slice s is split
 * as s = hi * 1e6 + lo, so s * f = hi * f * 1e6 + lo * f with hi * f <= s and lo * f < 1e12: the sum of the
 * first parts is at most the notional, the second below 1e12 per tier, and the ceiling of the whole over
 * 1e6 is sum(hi * f) + ceil(sum(lo * f) / 1e6). Rounded up, against the account, as the bigint version.
 */
function tieredMarginExact(upTo: Float64Array, fractions: Float64Array, notional: number): number {
  if (notional <= 0) return 0
  let lower = 0
  let whole = 0
  let part = 0
  for (let i = 0; i < upTo.length; i++) {
    const upper = upTo[i]!
    const last = notional <= upper
    const slice = (last ? notional : upper) - lower
    const hi = floorDivPpm(slice)
    const lo = slice - hi * PPM
    const f = fractions[i]!
    whole += hi * f
    part += lo * f
    if (last) break
    lower = upper
  }
  const q = floorDivPpm(part)
  const rest = part - q * PPM
  // Rounded up: a remainder adds one quantum.
  return whole + q + (rest > 0 ? 1 : 0)
}

// Results of the last successful riskExact, in a typed array so the hot path allocates nothing (a module
// variable would box each double).
const exactResult = new Float64Array(4)
const EQUITY = 0
const INITIAL = 1
const MAINTENANCE = 2
const NOTIONAL = 3

// One market's terms, from marketTermsExact: its part of equity (unrealized PnL at mark minus pending
// funding, or minus the cost basis of a flat entry), initial and maintenance margin, and notional.
const terms = new Float64Array(4)

/**
 * The margin cache of an account, `account.riskCache`: per market, the terms of marketTermsExact and the
 * market's `riskEpoch` they were computed at. An entry is used only while the market's bit in
 * `account.riskValid` is set (every write to the account's entry for that market clears it) and the
 * epoch matches (every mark or funding index write renews it). A cached entry is therefore always the
 * value recomputing it would give; collateral is read afresh each time.
 */
const CACHE_STRIDE = 5
const CACHE_EPOCH = 4

/**
 * One market's terms of riskExact into `terms`: `o` holds the size, cost basis and open lots (the account's
 * entry or an override), `am` the entry whose pending funding counts. False when a value leaves the exact range.
 */
function marketTermsExact(
  state: EngineState,
  marketId: number,
  am: AccountMarket | undefined,
  o: AccountMarket | MarketOverride,
): boolean {
  const market = state.markets[marketId]!
  let equity = 0
  if (
    am !== undefined &&
    am.sizeLots !== 0 &&
    market.fundingIndexNanoQuantumsPerLot !== am.fundingIndexSnapshot
  ) {
    const funding = pendingFundingQuantums(am, market)
    if (!(funding < EXACT_BIG && funding > -EXACT_BIG)) return false
    equity = -Number(funding)
  }
  const basisBig = o.costBasisQuantums
  if (!(basisBig < EXACT_BIG && basisBig > -EXACT_BIG)) return false
  const basis = Number(basisBig)
  if (o.sizeLots === 0 && o.openBidLots === 0 && o.openAskLots === 0) {
    equity -= basis
    if (!(equity < EXACT && equity > -EXACT)) return false
    terms[EQUITY] = equity
    terms[INITIAL] = 0
    terms[MAINTENANCE] = 0
    terms[NOTIONAL] = 0
    return true
  }
  const table = state.marginTables[marketId]!
  if (!table.exact) return false
  const perLot = market.markPriceTicks * table.quantumsPerLotTick
  const size = o.sizeLots
  const absSize = size < 0 ? -size : size
  const notional = absSize * perLot
  if (!(perLot < NOTIONAL_EXACT && notional < NOTIONAL_EXACT)) return false
  const value = (size < 0 ? -notional : notional) - basis
  if (!(value < EXACT && value > -EXACT)) return false
  equity += value
  if (!(equity < EXACT && equity > -EXACT)) return false
  // The same expressions as the bigint path, so the same (safe integer) worst side.
  const worstLong = size + o.openBidLots
  const worstShort = o.openAskLots - size
  const worst = worstLong > worstShort ? worstLong : worstShort
  const worstNotional = worst > 0 ? worst * perLot : 0
  if (!(worstNotional < NOTIONAL_EXACT)) return false
  terms[EQUITY] = equity
  terms[INITIAL] = tieredMarginExact(table.upTo, table.imfPpm, worstNotional)
  terms[MAINTENANCE] = tieredMarginExact(table.upTo, table.mmfPpm, notional)
  terms[NOTIONAL] = notional
  return true
}

/**
 * accountRisk in exact doubles; false (and the results undefined) when some value leaves the exact range,
 * and then the caller uses the bigint path. Each market's terms and each partial sum is an integer below
 * 2^53 in magnitude, so every step was exact, whatever order the markets are summed in. Markets other than
 * the override's come from the account's margin cache when it holds them; a check with an override (an
 * order) starts the cache.
 */
function riskExact(state: EngineState, account: Account, override: MarketOverride | undefined): boolean {
  const collateral = account.collateralQuantums
  if (!(collateral < EXACT_BIG && collateral > -EXACT_BIG)) return false
  let equity = Number(collateral)
  if (override !== undefined) {
    const delta = override.collateralDeltaQuantums
    if (!(delta < EXACT_BIG && delta > -EXACT_BIG)) return false
    equity += Number(delta)
    if (!(equity < EXACT && equity > -EXACT)) return false
  }
  let im = 0
  let mm = 0
  let notionalSum = 0
  const markets = account.markets
  const count = state.markets.length
  const overrideId = override === undefined ? -1 : override.marketId
  let cache = account.riskCache
  if (cache === null && override !== undefined) {
    cache = new Float64Array(Math.min(count, RISK_CACHE_MARKETS) * CACHE_STRIDE)
    account.riskCache = cache
    account.riskValid = 0
  }
  // An account never has an entry past the state's markets; an override may name a market it never traded in.
  const end = overrideId >= count ? overrideId + 1 : count
  for (let marketId = 0; marketId < end; marketId++) {
    if (marketId === overrideId) {
      if (!marketTermsExact(state, marketId, markets[marketId], override!)) return false
    } else {
      const slot = marketId * CACHE_STRIDE
      const bit = 1 << marketId
      if (
        cache !== null &&
        slot < cache.length &&
        (account.riskValid & bit) !== 0 &&
        cache[slot + CACHE_EPOCH] === state.markets[marketId]!.riskEpoch
      ) {
        equity += cache[slot + EQUITY]!
        im += cache[slot + INITIAL]!
        mm += cache[slot + MAINTENANCE]!
        notionalSum += cache[slot + NOTIONAL]!
        if (!(equity < EXACT && equity > -EXACT && im < EXACT && mm < EXACT && notionalSum < EXACT))
          return false
        continue
      }
      const am = markets[marketId]
      if (am === undefined) {
        terms[EQUITY] = 0
        terms[INITIAL] = 0
        terms[MAINTENANCE] = 0
        terms[NOTIONAL] = 0
      } else if (!marketTermsExact(state, marketId, am, am)) return false
      if (cache !== null && slot < cache.length) {
        cache[slot + EQUITY] = terms[EQUITY]!
        cache[slot + INITIAL] = terms[INITIAL]!
        cache[slot + MAINTENANCE] = terms[MAINTENANCE]!
        cache[slot + NOTIONAL] = terms[NOTIONAL]!
        cache[slot + CACHE_EPOCH] = state.markets[marketId]!.riskEpoch
        account.riskValid |= bit
      }
    }
    equity += terms[EQUITY]!
    im += terms[INITIAL]!
    mm += terms[MAINTENANCE]!
    notionalSum += terms[NOTIONAL]!
    if (!(equity < EXACT && equity > -EXACT && im < EXACT && mm < EXACT && notionalSum < EXACT)) return false
  }
  exactResult[EQUITY] = equity
  exactResult[INITIAL] = im
  exactResult[MAINTENANCE] = mm
  exactResult[NOTIONAL] = notionalSum
  return true
}

/** accountRisk in bigint arithmetic throughout: the definition, and the path for values outside the exact double range. */
export function accountRiskBigint(
  state: EngineState,
  account: Account,
  override?: MarketOverride,
): AccountRisk {
  let equity = account.collateralQuantums + (override === undefined ? 0n : override.collateralDeltaQuantums)
  let im = 0n
  let mm = 0n
  let notionalSum = 0n
  const markets = account.markets
  // The override may name a market the account has never traded in.
  const end =
    override !== undefined && override.marketId >= markets.length ? override.marketId + 1 : markets.length
  for (let marketId = 0; marketId < end; marketId++) {
    const am = markets[marketId]
    const o = override !== undefined && override.marketId === marketId ? override : am
    if (o === undefined) continue
    const market = state.markets[marketId]!
    // Pending funding accrues on the position as it is now, whatever the override does to it next.
    if (am !== undefined) equity -= pendingFundingQuantums(am, market)
    if (o.sizeLots === 0 && o.openBidLots === 0 && o.openAskLots === 0) {
      equity -= o.costBasisQuantums
      continue
    }
    const mark = BigInt(market.markPriceTicks)
    const q = market.config.quantumsPerLotTick
    const perLot = mark * q
    const size = o.sizeLots
    equity += BigInt(size) * perLot - o.costBasisQuantums
    const absSize = size < 0 ? -size : size
    const notional = BigInt(absSize) * perLot
    notionalSum += notional
    mm += tieredMarginQuantums(market.config.marginTiers, notional, true)
    const worstLong = size + o.openBidLots
    const worstShort = o.openAskLots - size
    const worst = worstLong > worstShort ? worstLong : worstShort
    im += tieredMarginQuantums(market.config.marginTiers, BigInt(worst > 0 ? worst : 0) * perLot, false)
  }
  return {
    equityQuantums: equity,
    initialMarginQuantums: im,
    maintenanceMarginQuantums: mm,
    positionNotionalQuantums: notionalSum,
  }
}

/**
 * collateral + unrealized PnL − pending funding, initial margin of positions and open orders, maintenance
 * margin and notional of positions, at current marks; with `override`, as if one market's values were those.
 * Computed in exact doubles when every value allows (see above), else in bigints: the same result.
 */
export function accountRisk(state: EngineState, account: Account, override?: MarketOverride): AccountRisk {
  if (!riskExact(state, account, override)) return accountRiskBigint(state, account, override)
  return {
    equityQuantums: BigInt(exactResult[EQUITY]!),
    initialMarginQuantums: BigInt(exactResult[INITIAL]!),
    maintenanceMarginQuantums: BigInt(exactResult[MAINTENANCE]!),
    positionNotionalQuantums: BigInt(exactResult[NOTIONAL]!),
  }
}

/** meetsInitialMargin(accountRisk(...)) without building the risk in the common case. */
export function meetsInitialMarginWith(
  state: EngineState,
  account: Account,
  override?: MarketOverride,
): boolean {
  if (riskExact(state, account, override)) return exactResult[EQUITY]! >= exactResult[INITIAL]!
  return meetsInitialMargin(accountRiskBigint(state, account, override))
}

/** isLiquidatable(accountRisk(...)) without building the risk in the common case. */
export function isLiquidatableNow(state: EngineState, account: Account): boolean {
  if (riskExact(state, account, undefined))
    return exactResult[NOTIONAL]! > 0 && exactResult[EQUITY]! < exactResult[MAINTENANCE]!
  return isLiquidatable(accountRiskBigint(state, account))
}

/** accountRisk(...).equityQuantums. */
export function equityQuantums(state: EngineState, account: Account): bigint {
  if (riskExact(state, account, undefined)) return BigInt(exactResult[EQUITY]!)
  return accountRiskBigint(state, account).equityQuantums
}
