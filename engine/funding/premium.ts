import type { MarketState } from '../state/marketState.ts'
import { PPM } from '../units.ts'

/**
 * The premium of the book over the oracle, in ppm of the oracle price, rounded toward zero:
 * (max(0, impactBid − oracle) − max(0, oracle − impactAsk)) / oracle.
 * A side without the impact depth counts as trading at the oracle price.
 */
export function premiumPpm(market: MarketState): number {
  const oracle = market.markPriceTicks
  if (oracle === 0) return 0
  const notional = market.config.funding.impactNotionalQuantums
  const q = market.config.quantumsPerLotTick
  const impactBid = market.book.impactPriceTicks(0, notional, q)
  const impactAsk = market.book.impactPriceTicks(1, notional, q)
  const bidPremium = impactBid > oracle ? impactBid - oracle : 0
  const askDiscount = impactAsk !== 0 && impactAsk < oracle ? oracle - impactAsk : 0
  // Rounded toward zero, then clamped to ±100% so sums of samples stay safe integers.
  const ppm = Number((BigInt(bidPremium - askDiscount) * BigInt(PPM)) / BigInt(oracle))
  return ppm > PPM ? PPM : ppm < -PPM ? -PPM : ppm
}
