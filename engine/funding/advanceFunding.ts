import type { EngineEvent } from '../events.ts'
import type { MarketState } from '../state/marketState.ts'
import { premiumPpm } from './premium.ts'

/** nano-quantums per quantum over ppm: ratePpm / 1e6 × 1e9. */
const NANO_PER_PPM = 1000n

/**
 * Brings a market's funding up to `nowMs`. Samples are taken at every multiple of the sample interval
 * that has passed (the book as it is at this sequenced time stands for each of them), and every funding
 * period that has ended is closed. A period's rate is the mean sampled premium plus the interest rate,
 * clamped to ±maxRatePpm; the index moves by rate × the mark notional of one lot, exactly: ppm × ticks ×
 * quantums × 1000 is an integer number of nano-quantums, so nothing rounds.
 */
export function advanceFunding(market: MarketState, nowMs: number, events: EngineEvent[]): void {
  const f = market.config.funding
  // No price, no funding: the clock starts with the first accepted price.
  if (market.markPriceTicks === 0) return
  for (;;) {
    const periodEnd = market.fundingPeriodStartMs + f.periodMs
    const sampleUntil = nowMs < periodEnd ? nowMs : periodEnd
    const samples = Math.floor((sampleUntil - market.lastSampleMs) / f.sampleIntervalMs)
    if (samples > 0) {
      market.premiumSumPpm += premiumPpm(market) * samples
      market.premiumSampleCount += samples
      market.lastSampleMs += samples * f.sampleIntervalMs
    }
    if (nowMs < periodEnd) return
    closePeriod(market, events)
  }
}

/** Periods are aligned to multiples of the period length in sequenced time, starting with the one that holds `nowMs`. */
export function startFundingClock(market: MarketState, nowMs: number): void {
  const f = market.config.funding
  market.fundingPeriodStartMs = nowMs - (nowMs % f.periodMs)
  market.lastSampleMs = nowMs - (nowMs % f.sampleIntervalMs)
}

function closePeriod(market: MarketState, events: EngineEvent[]): void {
  const f = market.config.funding
  // Mean premium, rounded toward zero.
  const mean =
    market.premiumSampleCount === 0 ? 0 : Math.trunc(market.premiumSumPpm / market.premiumSampleCount)
  let ratePpm = mean + f.interestRatePpm
  if (ratePpm > f.maxRatePpm) ratePpm = f.maxRatePpm
  if (ratePpm < -f.maxRatePpm) ratePpm = -f.maxRatePpm
  market.fundingIndexNanoQuantumsPerLot +=
    BigInt(ratePpm) * BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick * NANO_PER_PPM
  market.premiumSumPpm = 0
  market.premiumSampleCount = 0
  market.fundingPeriodStartMs += f.periodMs
  market.lastSampleMs = market.fundingPeriodStartMs
  events.push({
    type: 'fundingRate',
    marketId: market.config.marketId,
    ratePpm,
    fundingIndexNanoQuantumsPerLot: market.fundingIndexNanoQuantumsPerLot,
  })
}
