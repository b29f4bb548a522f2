import type { Address } from 'viem'
import type { Order } from '../book/order.ts'
import type { EngineConfig } from '../config.ts'
import { SealLedger } from '../invariants/sealLedger.ts'
import { ZERO_ADDRESS } from '../ops.ts'
import { LiquidationIndex } from '../risk/liquidationIndex.ts'
import { MarginTable } from '../risk/margin.ts'
import { AccountIdSet } from '../transitions/accountIdSet.ts'
import type { Tx } from '../transitions/context.ts'
import { Account } from './account.ts'
import { MarketState } from './marketState.ts'

/** A withdrawal made in the current batch; the batch's withdrawals tree commits to these in order. */
export interface PendingWithdrawal {
  accountId: number
  account: Address
  amountQuantums: bigint
  forced: boolean
}

/** Account 0 is the insurance fund. It has no L1 owner, never signs, and is never liquidated. */
export const INSURANCE_FUND_ACCOUNT_ID = 0

/**
 * The whole engine state. Everything here is committed by the state root (see commitment/),
 * except the derived indexes (`ordersById`, `accountIdByAddress`, `marketByOracleId`, `dirtyAccounts`,
 * `refreshedSinceSeal`, `sealLedger`,
 * the expiry queue), which are rebuilt from committed data on restore.
 */
export class EngineState {
  readonly config: EngineConfig
  /** Sequence number of the last applied operation; 0 before the first. */
  seq = 0
  /** Sequenced time of the last applied operation. */
  timestampMs = 0
  readonly accounts: Account[] = []
  readonly accountIdByAddress = new Map<Address, number>()
  readonly markets: MarketState[]
  readonly marketByOracleId = new Map<number, MarketState>()
  /** See `ordersById`; null when it must be rebuilt. */
  orderIndexCache: Map<number, Order> | null = null
  nextOrderId = 1
  /** Protocol fee pool: taker fees minus maker rebates. */
  feesQuantums = 0n
  totalDepositedQuantums = 0n
  totalWithdrawnQuantums = 0n
  /**
   * Funding settlements round against accounts; the excess over the exact amount collects here, in
   * nano-quantums, and moves to the insurance fund a whole quantum at a time. Always in [0, 1e9).
   */
  fundingDustNanoQuantums = 0n
  /** Index of the next L1 inbox item to consume. Items are consumed strictly in order. */
  inboxConsumed = 0
  /** Withdrawals since the last sealed batch, in order. */
  pendingWithdrawals: PendingWithdrawal[] = []
  /** Accounts whose leaf must be recomputed at the next root. */
  readonly dirtyAccounts = new AccountIdSet()
  /**
   * Accounts whose leaves a root recomputed since the last seal: with `dirtyAccounts`, every account the
   * open batch changed, which the seal gate checks in depth.
   */
  readonly refreshedSinceSeal = new AccountIdSet()
  /** Derived: what the last seal gate saw, so the next one looks only at what can have changed. */
  readonly sealLedger = new SealLedger()
  /** GTT orders as (expiresAtMs, orderId) pairs, kept sorted ascending; cancelled entries are skipped lazily. */
  expiryQueue: { expiresAtMs: number; orderId: number }[] = []
  /** Derived: finds accounts a price or funding move may have put below maintenance margin. */
  readonly liquidationIndex: LiquidationIndex
  /**
   * Derived: accounts within rounding slack of maintenance margin that the index cannot hold;
   * rechecked after every price or funding move.
   */
  readonly edgeAccounts = new AccountIdSet()
  /** Derived from the config: each market's margin tiers as doubles, for the exact double path of margin.ts. */
  readonly marginTables: MarginTable[]
  /**
   * Derived: accounts whose liquidation-index entries are out of date. Trades change an account's
   * thresholds, but the index is only read after a price or funding move, so they are brought up to date
   * there, once, rather than after every trade.
   */
  readonly indexPending = new AccountIdSet()
  /** The working context of `apply`, reused between operations. */
  scratchTx: Tx | null = null

  constructor(config: EngineConfig) {
    this.config = config
    this.markets = config.markets.map((m) => new MarketState(m))
    this.marginTables = config.markets.map((m) => new MarginTable(m))
    this.liquidationIndex = new LiquidationIndex(this.markets.length)
    for (const m of this.markets) this.marketByOracleId.set(m.config.oracleId, m)
    const fund = new Account(INSURANCE_FUND_ACCOUNT_ID, ZERO_ADDRESS)
    this.accounts.push(fund)
    // A deposit to the zero address tops up the insurance fund.
    this.accountIdByAddress.set(ZERO_ADDRESS, INSURANCE_FUND_ACCOUNT_ID)
    this.dirtyAccounts.add(INSURANCE_FUND_ACCOUNT_ID)
  }

  /**
   * Derived: every open order (resting or untriggered) by order id, built on demand from the accounts'
   * orders, in ascending order id. The engine does not maintain it while it runs (it needs no global
   * lookup); it drops the cache whenever orders change, and the next read rebuilds it. Writes to the map
   * returned (by restore or test fixtures that also fill `account.orders`) last until the next change.
   */
  get ordersById(): Map<number, Order> {
    let index = this.orderIndexCache
    if (index === null) {
      const orders: Order[] = []
      for (const account of this.accounts)
        if (account.orders !== null) for (const o of account.orders.values()) orders.push(o)
      orders.sort((a, b) => a.orderId - b.orderId)
      index = new Map()
      for (const o of orders) index.set(o.orderId, o)
      this.orderIndexCache = index
    }
    return index
  }

  get insuranceFund(): Account {
    return this.accounts[INSURANCE_FUND_ACCOUNT_ID]!
  }

  accountByAddress(address: Address): Account | undefined {
    const id = this.accountIdByAddress.get(address)
    return id === undefined ? undefined : this.accounts[id]
  }
}
