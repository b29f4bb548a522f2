import type { EngineEvent } from '../events.ts'
import { pendingFundingQuantums } from '../risk/margin.ts'
import type { Account, AccountMarket } from '../state/account.ts'
import type { MarketState } from '../state/marketState.ts'

/** Moves a position's pending funding into collateral. Must run before the position's size changes. */
export function settleFunding(account: Account, am: AccountMarket, market: MarketState, events: EngineEvent[]): void {
  const owed = pendingFundingQuantums(am, market)
  am.fundingIndexSnapshot = market.fundingIndexNanoQuantumsPerLot
  if (owed === 0n) return
  account.collateralQuantums -= owed
  events.push({ type: 'funding', accountId: account.accountId, marketId: market.config.marketId, paidQuantums: owed })
}
