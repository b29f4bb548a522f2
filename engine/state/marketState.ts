import type { Order } from '../book/order.ts'
import { OrderBook } from '../book/orderBook.ts'
import type { MarketConfig } from '../config.ts'

/** The last epoch handed out; epochs are unique across every market of every engine state alive. */
let lastRiskEpoch = 0

/** The live state of one market. */
export class MarketState {
  readonly config: MarketConfig
  readonly book: OrderBook
  #markPriceTicks = 0
  #fundingIndexNanoQuantumsPerLot = 0n
  /**
   * Derived, not state: renewed whenever the mark or the funding index is written, so margin terms cached
   * against this market (see risk/margin.ts) are known stale. Unique across engine states, so a cached entry can
   * never match another market's epoch either.
   */
  riskEpoch = ++lastRiskEpoch
  /** Publish time of the accepted oracle price. */
  oraclePublishTimeMs = 0
  /** True while the oracle price is missing or older than `oracleMaxAgeMs`: only position-reducing orders are accepted. */
  reduceOnly = true
  /** Start of the current funding period, in sequenced time. */
  fundingPeriodStartMs = 0
  /** Sum and count of the premium samples of the current period (ppm of the oracle price). */
  premiumSumPpm = 0
  premiumSampleCount = 0
  lastSampleMs = 0
  /** Total long lots; equals total short lots (an invariant). */
  openInterestLots = 0
  /** Accounts with a non-zero position, for auto-deleveraging and for marking leaves dirty on a price move. */
  readonly holders = new Set<number>()
  /** Untriggered stop and take-profit orders, by order id (insertion order is order-id order). */
  readonly untriggered = new Map<number, Order>()

  constructor(config: MarketConfig) {
    this.config = config
    this.book = new OrderBook(config.marketId)
  }

  /** Mark price, from the oracle. 0 until the first accepted update. */
  get markPriceTicks(): number {
    return this.#markPriceTicks
  }

  set markPriceTicks(priceTicks: number) {
    this.#markPriceTicks = priceTicks
    this.riskEpoch = ++lastRiskEpoch
  }

  /**
   * Cumulative funding paid by one lot of long position since genesis, in nano-quantums (1e-9 quantum).
   * Rises when longs pay. A position settles `sizeLots * (index - snapshot) / 1e9`, rounded against the account.
   */
  get fundingIndexNanoQuantumsPerLot(): bigint {
    return this.#fundingIndexNanoQuantumsPerLot
  }

  set fundingIndexNanoQuantumsPerLot(index: bigint) {
    this.#fundingIndexNanoQuantumsPerLot = index
    this.riskEpoch = ++lastRiskEpoch
  }
}
