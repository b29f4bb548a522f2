import type { EngineEvent } from '../events.ts'
import { pendingFundingQuantums } from '../risk/margin.ts'
import type { Account, AccountMarket } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { FUNDING_INDEX_SCALE } from '../units.ts'

/**
 * Moves a position's pending funding into collateral. Must run before the position's size changes.
 *
 * INVARIANT: funding is conserved exactly. Each settlement rounds against the account, so it pays up to
 * one quantum more than the exact amount; that dust is kept in nano-quantums, and every whole quantum of
 * it goes to the insurance fund. Without this, dust would leave the books once both sides had settled.
 */
export function settleFunding(
  state: EngineState,
  account: Account,
  am: AccountMarket,
  market: MarketState,
  events: EngineEvent[],
): void {
  const index = market.fundingIndexNanoQuantumsPerLot
  if (am.sizeLots === 0 || am.fundingIndexSnapshot === index) {
    // Nothing owed and nothing exact to account for.
    am.fundingIndexSnapshot = index
    return
  }
  const owed = pendingFundingQuantums(am, market)
  const exactNano = BigInt(am.sizeLots) * (market.fundingIndexNanoQuantumsPerLot - am.fundingIndexSnapshot)
  am.fundingIndexSnapshot = market.fundingIndexNanoQuantumsPerLot
  if (owed === 0n && exactNano === 0n) return
  account.collateralQuantums -= owed
  state.fundingDustNanoQuantums += owed * FUNDING_INDEX_SCALE - exactNano
  if (state.fundingDustNanoQuantums >= FUNDING_INDEX_SCALE) {
    const whole = state.fundingDustNanoQuantums / FUNDING_INDEX_SCALE
    state.fundingDustNanoQuantums -= whole * FUNDING_INDEX_SCALE
    state.insuranceFund.collateralQuantums += whole
    state.dirtyAccounts.add(state.insuranceFund.accountId)
  }
  if (owed !== 0n) {
    events.push({
      type: 'funding',
      accountId: account.accountId,
      marketId: market.config.marketId,
      paidQuantums: owed,
    })
  }
}
