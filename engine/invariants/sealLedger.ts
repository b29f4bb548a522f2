import { accountRisk } from '../risk/margin.ts'
import type { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import { AccountIdSet } from '../transitions/accountIdSet.ts'

/**
 * What the seal gate saw at the last seal, so that the next gate looks again only at the accounts whose
 * equity, positions or orders can have changed since: the accounts the batch changed, and the holders of
 * every market whose mark or funding index moved. For every other account equity (collateral, plus PnL
 * and funding at an unchanged mark and index), positions and orders are what they were.
 *
 * Per account it keeps the equity and, per market, the signed size and the open order count; per market
 * the sums of those (long lots, short lots, holders, orders) and the mark and funding index it last saw;
 * and Σ equity. All exact: bigint equity, integer lots and counts. A derived structure, never committed:
 * a fresh or restored state starts uninitialized and the first gate takes everything from scratch, as
 * does the gate after any violation.
 *
 * Memory: about 40 bytes per account for four markets, plus one bigint.
 */
export class SealLedger {
  initialized = false
  /** Accounts recorded: ids below this have entries. */
  accountCount = 0
  equityQuantums: bigint[] = []
  /** Per market, per account: signed size in lots. */
  sizeLots: Float64Array[] = []
  /** Per market, per account: open orders (resting and untriggered). */
  orderCount: Float64Array[] = []
  /** Per market sums. */
  longLots: number[] = []
  shortLots: number[] = []
  holders: number[] = []
  orders: number[] = []
  markTicks: number[] = []
  fundingIndex: bigint[] = []
  equitySumQuantums = 0n
  /** Accounts visited by the current gate, so that each is counted once. */
  readonly visited = new AccountIdSet()

  /** Forgets everything: the next gate takes every account from scratch. */
  reset(): void {
    this.initialized = false
    this.accountCount = 0
    this.equityQuantums = []
    this.sizeLots = []
    this.orderCount = []
    this.equitySumQuantums = 0n
  }

  /** Starts a pass over `marketCount` markets: from scratch when uninitialized. */
  begin(marketCount: number, accountCapacity: number): void {
    if (!this.initialized) {
      this.accountCount = 0
      this.equityQuantums = []
      this.equitySumQuantums = 0n
      this.sizeLots = Array.from(
        { length: marketCount },
        () => new Float64Array(Math.max(16, accountCapacity)),
      )
      this.orderCount = Array.from(
        { length: marketCount },
        () => new Float64Array(Math.max(16, accountCapacity)),
      )
      this.longLots = new Array<number>(marketCount).fill(0)
      this.shortLots = new Array<number>(marketCount).fill(0)
      this.holders = new Array<number>(marketCount).fill(0)
      this.orders = new Array<number>(marketCount).fill(0)
    } else if (this.sizeLots[0] !== undefined && this.sizeLots[0].length < accountCapacity) {
      const grown = Math.max(accountCapacity, this.sizeLots[0].length * 2)
      this.sizeLots = this.sizeLots.map((old) => growTo(old, grown))
      this.orderCount = this.orderCount.map((old) => growTo(old, grown))
    }
    this.visited.clear()
  }

  /**
   * Records `account` as it is now, adjusting every sum by the difference from what was recorded (nothing
   * for an account not seen before). Returns its equity. Each account at most once per pass.
   */
  record(state: EngineState, account: Account): bigint {
    const id = account.accountId
    this.visited.add(id)
    const equity = accountRisk(state, account).equityQuantums
    const known = id < this.accountCount
    this.equitySumQuantums += known ? equity - this.equityQuantums[id]! : equity
    this.equityQuantums[id] = equity
    const marketCount = this.sizeLots.length
    for (let m = 0; m < marketCount; m++) {
      const am = account.markets[m]
      const size = am === undefined ? 0 : am.sizeLots
      const count = am === undefined ? 0 : am.openOrderCount
      const sizes = this.sizeLots[m]!
      const counts = this.orderCount[m]!
      const oldSize = known ? sizes[id]! : 0
      if (oldSize !== size) {
        if (oldSize > 0) this.longLots[m]! -= oldSize
        else if (oldSize < 0) this.shortLots[m]! += oldSize
        if (size > 0) this.longLots[m]! += size
        else if (size < 0) this.shortLots[m]! -= size
        this.holders[m]! += (size !== 0 ? 1 : 0) - (oldSize !== 0 ? 1 : 0)
        sizes[id] = size
      }
      const oldCount = known ? counts[id]! : 0
      if (oldCount !== count) {
        this.orders[m]! += count - oldCount
        counts[id] = count
      }
    }
    return equity
  }

  /** Ends a pass: every account below `accountCount` has been recorded at least once. */
  end(state: EngineState, accountCount: number): void {
    this.accountCount = accountCount
    for (const market of state.markets) {
      const m = market.config.marketId
      this.markTicks[m] = market.markPriceTicks
      this.fundingIndex[m] = market.fundingIndexNanoQuantumsPerLot
    }
    this.initialized = true
  }

  /** Whether market `m`'s mark or funding index moved since the last pass (so its holders' equity did). */
  moved(state: EngineState, m: number): boolean {
    const market = state.markets[m]!
    return (
      market.markPriceTicks !== this.markTicks[m] ||
      market.fundingIndexNanoQuantumsPerLot !== this.fundingIndex[m]
    )
  }
}

function growTo(old: Float64Array, length: number): Float64Array {
  const grown = new Float64Array(length)
  grown.set(old)
  return grown
}
