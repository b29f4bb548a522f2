import type { Address } from 'viem'
import type { Order } from '../book/order.ts'

/**
 * An account's footprint in one market: its position and the exposure of its open orders.
 * A position is long when `sizeLots > 0`. `costBasisQuantums` is the signed entry notional of the
 * open position (positive for longs), so unrealized PnL = sizeLots * mark * quantumsPerLotTick - costBasis.
 */
export class AccountMarket {
  sizeLots = 0
  costBasisQuantums = 0n
  /** The market's funding index when funding was last settled into collateral. */
  fundingIndexSnapshot = 0n
  /** Total remaining lots of resting (triggered or plain) buy and sell orders. */
  openBidLots = 0
  openAskLots = 0
  /** Open orders in this market, untriggered ones included. */
  openOrderCount = 0

  isEmpty(): boolean {
    return this.sizeLots === 0 && this.openOrderCount === 0 && this.costBasisQuantums === 0n
  }
}

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
      m = new AccountMarket()
      this.markets[marketId] = m
    }
    return m
  }

  get openOrderCount(): number {
    return this.orders === null ? 0 : this.orders.size
  }

  hasPositions(): boolean {
    for (const m of this.markets) if (m !== undefined && m.sizeLots !== 0) return true
    return false
  }
}
