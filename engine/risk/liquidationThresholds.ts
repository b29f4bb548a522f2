import { FUNDING_INDEX_SCALE, PPM_BIG } from '../units.ts'

/** One non-zero position of an account, with its market's current values. */
export interface ThresholdPosition {
  marketId: number
  /** Non-zero; positive is long. */
  sizeLots: number
  markPriceTicks: number
  quantumsPerLotTick: bigint
  fundingIndexNanoQuantumsPerLot: bigint
  /** The largest `mmfPpm` among the market's margin tiers. */
  mmfMaxPpm: number
}

export interface PositionThreshold {
  marketId: number
  /** Long: recheck once the market's value coordinate x <= this. Short: once x >= this. */
  valueThresholdNanoQuantumsPerLot: bigint
  /** Recheck once the mark >= this; null when the market's maintenance fractions are all zero. */
  priceHighTicks: bigint | null
}

export type LiquidationThresholds =
  /** Equity is within the rounding slack of maintenance: recheck on any move of any of its markets. */
  { kind: 'marginal' } | { kind: 'thresholds'; positions: PositionThreshold[] }

/**
 * The market's position value coordinate: mark * quantumsPerLotTick * 1e9 - fundingIndex. A position of
 * S lots gains S * Δx / 1e9 quantums when x moves by Δx, through the price or through funding.
 */
export function positionValueNanoQuantumsPerLot(
  markPriceTicks: number,
  quantumsPerLotTick: bigint,
  fundingIndexNanoQuantumsPerLot: bigint,
): bigint {
  return BigInt(markPriceTicks) * quantumsPerLotTick * FUNDING_INDEX_SCALE - fundingIndexNanoQuantumsPerLot
}

/**
 * How far each market may move before the account must be rechecked (see docs/protocol.md, "Liquidation-proximity index").
 * The buffer B = equity - maintenance - 2 * positions is split over the positions in proportion to their
 * notional; each share is split again between the value loss (threshold on x) and the growth of
 * maintenance margin with the price (threshold on the mark), in the ratio 1e6 : mmfMaxPpm.
 * Every division rounds toward the current value, so thresholds are never looser than the bound.
 */
export function liquidationThresholds(
  equityQuantums: bigint,
  maintenanceMarginQuantums: bigint,
  positions: readonly ThresholdPosition[],
): LiquidationThresholds {
  // Pending funding and each market's maintenance margin are both rounded up: less than 1 quantum each per market.
  const bufferQuantums = equityQuantums - maintenanceMarginQuantums - 2n * BigInt(positions.length)
  if (bufferQuantums <= 0n) return { kind: 'marginal' }
  let totalNotionalQuantums = 0n
  for (const p of positions) totalNotionalQuantums += notionalQuantums(p)
  const out: PositionThreshold[] = []
  for (const p of positions) {
    const absLots = BigInt(p.sizeLots < 0 ? -p.sizeLots : p.sizeLots)
    // Rounded down: the shares never sum to more than the buffer.
    const shareQuantums =
      totalNotionalQuantums === 0n ? 0n : (bufferQuantums * notionalQuantums(p)) / totalNotionalQuantums
    const mmfMax = BigInt(p.mmfMaxPpm)
    // Rounded down; the value part takes the remainder, so the two parts sum to the share exactly.
    const marginShareQuantums = (shareQuantums * mmfMax) / (PPM_BIG + mmfMax)
    const valueShareQuantums = shareQuantums - marginShareQuantums
    const x = positionValueNanoQuantumsPerLot(
      p.markPriceTicks,
      p.quantumsPerLotTick,
      p.fundingIndexNanoQuantumsPerLot,
    )
    // Rounded down: the allowed move of x is never larger than the value share pays for.
    const moveNanoQuantumsPerLot = (valueShareQuantums * FUNDING_INDEX_SCALE) / absLots
    const priceHighTicks =
      mmfMax === 0n
        ? null
        : // Rounded down: the allowed rise of the mark is never larger than the margin share pays for.
          BigInt(p.markPriceTicks) +
          (marginShareQuantums * PPM_BIG) / (absLots * p.quantumsPerLotTick * mmfMax)
    out.push({
      marketId: p.marketId,
      valueThresholdNanoQuantumsPerLot:
        p.sizeLots > 0 ? x - moveNanoQuantumsPerLot : x + moveNanoQuantumsPerLot,
      priceHighTicks,
    })
  }
  return { kind: 'thresholds', positions: out }
}

function notionalQuantums(p: ThresholdPosition): bigint {
  const absLots = p.sizeLots < 0 ? -p.sizeLots : p.sizeLots
  return BigInt(absLots) * BigInt(p.markPriceTicks) * p.quantumsPerLotTick
}

/** The largest maintenance fraction among a market's tiers: the steepest growth of maintenance margin with notional. */
export function maxMaintenanceFractionPpm(tiers: readonly { mmfPpm: number }[]): number {
  let max = 0
  for (const t of tiers) if (t.mmfPpm > max) max = t.mmfPpm
  return max
}
