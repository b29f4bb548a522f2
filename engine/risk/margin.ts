import type { MarginTier } from '../config.ts'
import type { Account, AccountMarket } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { divCeil, FUNDING_INDEX_SCALE, PPM_BIG } from '../units.ts'

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
export function tieredMarginQuantums(tiers: readonly MarginTier[], notionalQuantums: bigint, maintenance: boolean): bigint {
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

export function accountRisk(state: EngineState, account: Account, override?: MarketOverride): AccountRisk {
  let equity = account.collateralQuantums + (override === undefined ? 0n : override.collateralDeltaQuantums)
  let im = 0n
  let mm = 0n
  let notionalSum = 0n
  const markets = account.markets
  // The override may name a market the account has never traded in.
  const end = override !== undefined && override.marketId >= markets.length ? override.marketId + 1 : markets.length
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
  return { equityQuantums: equity, initialMarginQuantums: im, maintenanceMarginQuantums: mm, positionNotionalQuantums: notionalSum }
}
