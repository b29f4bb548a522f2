import type { OracleSetConfig } from '../config.ts'
import type { PriceObservation } from '../ops.ts'
import { RejectCode, type Rejection, reject } from '../rejections.ts'
import { isPriceTicks } from '../units.ts'

export interface AggregatedPrice {
  ok: true
  priceTicks: number
  /** The oldest publish time among the observations used: staleness is judged conservatively. */
  publishTimeMs: number
}

/**
 * The oracle rules (docs/protocol.md, "Oracle"):
 * - every observation must come from a distinct member of the oracle set;
 * - an observation counts only if published within [now − maxPublishDelayMs, now];
 * - at least `threshold` observations must count;
 * - the price is the median of the counted prices (the lower middle one when their number is even).
 */
export function aggregatePrice(
  observations: readonly PriceObservation[],
  oracle: OracleSetConfig,
  nowMs: number,
): AggregatedPrice | Rejection {
  const seen = new Set<string>()
  const prices: number[] = []
  let oldest = Number.MAX_SAFE_INTEGER
  let stale = 0
  for (const o of observations) {
    if (!oracle.signers.includes(o.signer)) return reject(RejectCode.ORACLE_UNKNOWN_SIGNER, o.signer)
    if (seen.has(o.signer)) return reject(RejectCode.ORACLE_UNKNOWN_SIGNER, `${o.signer} signed twice`)
    seen.add(o.signer)
    if (!isPriceTicks(o.priceTicks) || !Number.isSafeInteger(o.publishTimeMs))
      return reject(RejectCode.BAD_PRICE)
    if (o.publishTimeMs > nowMs || o.publishTimeMs < nowMs - oracle.maxPublishDelayMs) {
      stale++
      continue
    }
    prices.push(o.priceTicks)
    if (o.publishTimeMs < oldest) oldest = o.publishTimeMs
  }
  if (prices.length < oracle.threshold) {
    return reject(
      stale > 0 ? RejectCode.ORACLE_STALE : RejectCode.ORACLE_QUORUM,
      `${prices.length} of ${oracle.threshold} needed`,
    )
  }
  prices.sort((a, b) => a - b)
  return { ok: true, priceTicks: prices[(prices.length - 1) >>> 1]!, publishTimeMs: oldest }
}
