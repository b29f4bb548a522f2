import { startFundingClock } from '../funding/advanceFunding.ts'
import type { OracleUpdateOp } from '../ops.ts'
import { aggregatePrice } from '../oracle/aggregatePrice.ts'
import { RejectCode, reject } from '../rejections.ts'
import type { MarketState } from '../state/marketState.ts'
import type { Tx } from './context.ts'
import { collectCrossed, flushLiquidationIndex } from './liquidate.ts'
import type { OpResult } from './result.ts'

/** A market's price is stale when its publish time is older than `oracleMaxAgeMs`; it is then reduce-only. */
export function refreshMarketMode(tx: Tx, market: MarketState): void {
  const stale =
    market.markPriceTicks === 0 ||
    tx.ctx.timestampMs - market.oraclePublishTimeMs > market.config.oracleMaxAgeMs
  if (stale === market.reduceOnly) return
  market.reduceOnly = stale
  tx.events.push({ type: 'marketMode', marketId: market.config.marketId, reduceOnly: stale })
}

/**
 * The band rule: an update may move the price by at most `priceBandPpm` of the last accepted price.
 * When the last price is already stale there is nothing to protect, and any quorum price is accepted,
 * so a real move larger than the band re-anchors the market instead of freezing it.
 */
export function applyOracleUpdate(tx: Tx, op: OracleUpdateOp): OpResult {
  // Before any mark moves: index entries are set at the marks the accounts were checked at.
  flushLiquidationIndex(tx.state)
  const market = tx.state.marketByOracleId.get(op.oracleId)
  if (market === undefined) return reject(RejectCode.ORACLE_UNKNOWN)
  const agg = aggregatePrice(op.observations, tx.state.config.oracle, tx.ctx.timestampMs)
  if (!agg.ok) return agg
  if (agg.publishTimeMs <= market.oraclePublishTimeMs) return reject(RejectCode.ORACLE_NOT_NEWER)
  const last = market.markPriceTicks
  const lastIsStale =
    last === 0 || tx.ctx.timestampMs - market.oraclePublishTimeMs > market.config.oracleMaxAgeMs
  if (!lastIsStale) {
    const move = agg.priceTicks > last ? agg.priceTicks - last : last - agg.priceTicks
    if (BigInt(move) * 1_000_000n > BigInt(last) * BigInt(market.config.priceBandPpm)) {
      return reject(RejectCode.ORACLE_OUT_OF_BAND, `from ${last} to ${agg.priceTicks} ticks`)
    }
  }
  if (last === 0) startFundingClock(market, tx.ctx.timestampMs)
  market.markPriceTicks = agg.priceTicks
  market.oraclePublishTimeMs = agg.publishTimeMs
  tx.events.push({
    type: 'price',
    marketId: market.config.marketId,
    priceTicks: agg.priceTicks,
    publishTimeMs: agg.publishTimeMs,
  })
  refreshMarketMode(tx, market)
  collectCrossed(tx, market)
  return { ok: true }
}
