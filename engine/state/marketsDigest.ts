import { keccak256 } from '../commitment/keccak256.ts'
import type { MarketConfig } from '../config.ts'
import { ByteWriter } from '../snapshot/byteWriter.ts'
import type { EngineState } from './engineState.ts'
import type { MarketState } from './marketState.ts'

const utf8 = new TextEncoder()
const writer = new ByteWriter(512)
// Configs are immutable, so their hash is computed once per object.
const configHashes = new WeakMap<MarketConfig, Uint8Array>()

function writeMarketConfig(w: ByteWriter, c: MarketConfig): void {
  w.reset()
  w.i64(c.marketId)
  const symbol = utf8.encode(c.symbol)
  w.u32(symbol.length)
  w.raw(symbol)
  w.i64(c.oracleId)
  w.i256(c.quantumsPerLotTick)
  w.i64(c.minOrderLots)
  w.i64(c.maxOrderLots)
  w.u32(c.marginTiers.length)
  for (const tier of c.marginTiers) {
    // An unbounded tier is flagged rather than given a sentinel bound, so no bound value is ambiguous.
    w.bool(tier.upToNotionalQuantums !== null)
    w.i256(tier.upToNotionalQuantums ?? 0n)
    w.i64(tier.imfPpm)
    w.i64(tier.mmfPpm)
  }
  w.i64(c.makerFeePpm)
  w.i64(c.takerFeePpm)
  w.i64(c.liquidationFeePpm)
  const f = c.funding
  w.i64(f.periodMs)
  w.i64(f.sampleIntervalMs)
  w.i256(f.impactNotionalQuantums)
  w.i64(f.maxRatePpm)
  w.i64(f.interestRatePpm)
  w.i64(c.priceBandPpm)
  w.i64(c.oracleMaxAgeMs)
}

/** keccak256 of the packed market configuration; cached per config object. */
export function marketConfigHash(config: MarketConfig): Uint8Array {
  let hash = configHashes.get(config)
  if (hash === undefined) {
    writeMarketConfig(writer, config)
    hash = keccak256(writer.written())
    configHashes.set(config, hash)
  }
  return hash
}

/** The live fields of one market, in commitment order (also the snapshot's market record, field by field). */
function writeMarketLive(w: ByteWriter, m: MarketState): void {
  w.i64(m.markPriceTicks)
  w.i64(m.oraclePublishTimeMs)
  w.bool(m.reduceOnly)
  w.i256(m.fundingIndexNanoQuantumsPerLot)
  w.i64(m.fundingPeriodStartMs)
  w.i64(m.premiumSumPpm)
  w.i64(m.premiumSampleCount)
  w.i64(m.lastSampleMs)
  w.i64(m.openInterestLots)
}

/** The packed encoding behind `marketsHash` (a copy), for tests and debugging. */
export function marketsEncoding(state: EngineState): Uint8Array {
  writeMarkets(state)
  return writer.finish()
}

function writeMarkets(state: EngineState): void {
  const markets = state.markets
  // Config hashes first: they reuse the same writer.
  const configs = markets.map((m) => marketConfigHash(m.config))
  writer.reset()
  writer.u32(markets.length)
  for (let i = 0; i < markets.length; i++) {
    writer.raw(configs[i]!)
    writeMarketLive(writer, markets[i]!)
  }
}

/**
 * keccak256(u32 count ‖ for each market in id order: configHash ‖ live fields). Resting orders are not
 * here: each is committed in its account's data, and the book is fully determined by them.
 */
export function marketsHash(state: EngineState): Uint8Array {
  writeMarkets(state)
  return keccak256(writer.written())
}
