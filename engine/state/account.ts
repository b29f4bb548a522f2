import type { Address } from 'viem'
import type { Order } from '../book/order.ts'

/**
 * An account's footprint in one market: its position and the exposure of its open orders.
 * A position is long when `sizeLots > 0`. `costBasisQuantums` is the signed entry notional of the
 * open position (positive for longs), so unrealized PnL = sizeLots * mark * quantumsPerLotTick - costBasis.
 *
 * The fields margin depends on are accessors: every write marks this market's entry of the owner's margin
 * cache stale (see risk/margin.ts), whoever writes, so the cache can never outlive a change.
 */
export class AccountMarket {
  /** The account whose margin cache and position count this entry feeds. */
  readonly owner: Account
  /** Clears this market's bit in `owner.riskValid`. */
  readonly #staleMask: number
  #sizeLots = 0
  #costBasisQuantums = 0n
  #fundingIndexSnapshot = 0n
  #openBidLots = 0
  #openAskLots = 0
  /** Open orders in this market, untriggered ones included. */
  openOrderCount = 0

  constructor(owner: Account, marketId: number) {
    this.owner = owner
    this.#staleMask = marketId < RISK_CACHE_MARKETS ? ~(1 << marketId) : ~0
    owner.riskValid &= this.#staleMask
  }

  get sizeLots(): number {
    return this.#sizeLots
  }

  set sizeLots(lots: number) {
    const owner = this.owner
    if ((this.#sizeLots === 0) !== (lots === 0)) owner.positionCount += lots === 0 ? -1 : 1
    this.#sizeLots = lots
    owner.riskValid &= this.#staleMask
  }

  get costBasisQuantums(): bigint {
    return this.#costBasisQuantums
  }

  set costBasisQuantums(quantums: bigint) {
    this.#costBasisQuantums = quantums
    this.owner.riskValid &= this.#staleMask
  }

  /** The market's funding index when funding was last settled into collateral. */
  get fundingIndexSnapshot(): bigint {
    return this.#fundingIndexSnapshot
  }

  set fundingIndexSnapshot(index: bigint) {
    this.#fundingIndexSnapshot = index
    this.owner.riskValid &= this.#staleMask
  }

  /** Total remaining lots of resting (triggered or plain) buy orders. */
  get openBidLots(): number {
    return this.#openBidLots
  }

  set openBidLots(lots: number) {
    this.#openBidLots = lots
    this.owner.riskValid &= this.#staleMask
  }

  /** Total remaining lots of resting (triggered or plain) sell orders. */
  get openAskLots(): number {
    return this.#openAskLots
  }

  set openAskLots(lots: number) {
    this.#openAskLots = lots
    this.owner.riskValid &= this.#staleMask
  }

  isEmpty(): boolean {
    return this.#sizeLots === 0 && this.openOrderCount === 0 && this.#costBasisQuantums === 0n
  }
}

/** Markets below this id have an entry in an account's margin cache; later ones are always recomputed. */
export const RISK_CACHE_MARKETS = 30

/** One L1 address, one cross-margined account. */
export class Account {
  readonly accountId: number
  readonly address: Address
  collateralQuantums = 0n
  /** Indexed by marketId; undefined where the account has never traded. */
  readonly markets: (AccountMarket | undefined)[] = []
  /** Open orders (resting or untriggered) by order id, in order-id order. */
  orders: Map<number, Order> | null = null
  /** Open orders by client order id. */
  clientOrderIds: Map<bigint, Order> | null = null
  /** Approved trading agents and the sequenced time their approval ends. */
  agents: Map<Address, number> | null = null
  private nonceWindows: Map<Address, number[]> | null = null
  /**
   * Derived: the window `nonces` holds under the account's own address, found once and kept, since most
   * operations are signed by the account itself. Dropped whenever `nonces` is replaced.
   */
  ownNonceWindow: number[] | null = null
  /** Derived: markets with a non-zero position, kept by AccountMarket. */
  positionCount = 0
  /**
   * Derived, not state: per market, the account's last computed margin terms (see risk/margin.ts), null
   * until the account first places an order. Bit m of `riskValid` is cleared by any change to market m's
   * entry; the market's `riskEpoch` covers mark and funding moves.
   */
  riskCache: Float64Array | null = null
  riskValid = 0

  constructor(accountId: number, address: Address) {
    this.accountId = accountId
    this.address = address
  }

  /** The N highest nonces of each signer acting for this account (the account itself or an agent). */
  get nonces(): Map<Address, number[]> | null {
    return this.nonceWindows
  }

  set nonces(windows: Map<Address, number[]> | null) {
    this.nonceWindows = windows
    this.ownNonceWindow = null
  }

  market(marketId: number): AccountMarket {
    let m = this.markets[marketId]
    if (m === undefined) {
      m = new AccountMarket(this, marketId)
      this.markets[marketId] = m
    }
    return m
  }

  get openOrderCount(): number {
    return this.orders === null ? 0 : this.orders.size
  }

  hasPositions(): boolean {
    return this.positionCount > 0
  }
}
