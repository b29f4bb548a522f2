import type { EngineEvent } from '../events.ts'
import type { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { settleFunding } from './settleFunding.ts'

export interface PositionChange {
  sizeLots: number
  costBasisQuantums: bigint
  /** Realized PnL of the closed part, before fees. */
  realizedQuantums: bigint
}

/**
 * The position after trading `signedLots` (positive buys) for `signedNotionalQuantums` (positive when
 * buying), without mutating anything.
 *
 * Closing part: cost basis leaves in proportion to the closed lots, rounded toward zero. When a trade
 * flips the position, its notional splits between the closing and opening parts in proportion to lots,
 * also rounded toward zero, with the opening part taking the remainder. Either rounding only moves PnL
 * between realized and unrealized within the account, so nothing is created or lost.
 */
export function positionAfterTrade(
  sizeLots: number,
  costBasisQuantums: bigint,
  signedLots: number,
  signedNotionalQuantums: bigint,
): PositionChange {
  const out: PositionChange = { sizeLots: 0, costBasisQuantums: 0n, realizedQuantums: 0n }
  positionAfterTradeInto(out, sizeLots, costBasisQuantums, signedLots, signedNotionalQuantums)
  return out
}

/** positionAfterTrade, written into `out`. */
export function positionAfterTradeInto(
  out: PositionChange,
  sizeLots: number,
  costBasisQuantums: bigint,
  signedLots: number,
  signedNotionalQuantums: bigint,
): void {
  out.sizeLots = sizeLots + signedLots
  if (sizeLots === 0 || Math.sign(sizeLots) === Math.sign(signedLots)) {
    out.costBasisQuantums =
      signedNotionalQuantums === 0n ? costBasisQuantums : costBasisQuantums + signedNotionalQuantums
    out.realizedQuantums = 0n
    return
  }
  const absSize = Math.abs(sizeLots)
  const absTrade = Math.abs(signedLots)
  const closed = absTrade < absSize ? absTrade : absSize
  // Both divisions round toward zero (bigint division truncates).
  const removedBasis = (costBasisQuantums * BigInt(closed)) / BigInt(absSize)
  const closedNotional =
    closed === absTrade
      ? signedNotionalQuantums
      : (signedNotionalQuantums * BigInt(closed)) / BigInt(absTrade)
  // Selling a long receives -closedNotional (> 0); buying back a short pays closedNotional.
  out.realizedQuantums = -closedNotional - removedBasis
  const openedNotional = signedNotionalQuantums - closedNotional
  out.costBasisQuantums = costBasisQuantums - removedBasis + openedNotional
}

// Scratch for applyFill, which is never re-entered.
const next: PositionChange = { sizeLots: 0, costBasisQuantums: 0n, realizedQuantums: 0n }

/**
 * Applies one side of a trade to an account: settles funding, moves the position, books realized PnL
 * and the fee (positive fee is paid by the account; negative is a rebate to it).
 */
export function applyFill(
  state: EngineState,
  account: Account,
  market: MarketState,
  signedLots: number,
  signedNotionalQuantums: bigint,
  feeQuantums: bigint,
  events: EngineEvent[],
): void {
  const marketId = market.config.marketId
  const am = account.market(marketId)
  settleFunding(state, account, am, market, events)
  const before = am.sizeLots
  positionAfterTradeInto(next, before, am.costBasisQuantums, signedLots, signedNotionalQuantums)
  am.sizeLots = next.sizeLots
  am.costBasisQuantums = next.costBasisQuantums
  if (next.realizedQuantums !== 0n) account.collateralQuantums += next.realizedQuantums
  if (feeQuantums !== 0n) account.collateralQuantums -= feeQuantums
  market.openInterestLots += (next.sizeLots > 0 ? next.sizeLots : 0) - (before > 0 ? before : 0)
  if (next.sizeLots === 0) {
    market.holders.delete(account.accountId)
    // INVARIANT: a flat position carries no funding snapshot. Funding settles before the next trade, so the
    // value is meaningless, and a snapshot drops empty entries: keeping it would make a restored state's
    // root differ from the live one.
    am.fundingIndexSnapshot = 0n
  } else if (before === 0) market.holders.add(account.accountId)
  state.dirtyAccounts.add(account.accountId)
  events.push({
    type: 'position',
    accountId: account.accountId,
    marketId,
    sizeLots: next.sizeLots,
    costBasisQuantums: next.costBasisQuantums,
  })
}
