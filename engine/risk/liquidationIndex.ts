import { EngineInvariantError } from '../rejections.ts'
import type { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import {
  liquidationThresholds,
  maxMaintenanceFractionPpm,
  positionValueNanoQuantumsPerLot,
  type ThresholdPosition,
} from './liquidationThresholds.ts'
import type { AccountRisk } from './margin.ts'
import { isLiquidatable } from './margin.ts'
import { ThresholdHeap } from './thresholdHeap.ts'

// Three heaps per market, all min-heaps whose top is crossed when `topKey <= bound`.
/** Longs, keyed by -xLow; bound -x. */
const LONG_VALUE = 0
/** Shorts, keyed by xHigh; bound x. */
const SHORT_VALUE = 1
/** Both sides, keyed by the mark that uses up the margin share; bound the mark. Marginal accounts sit here at -1. */
const PRICE_HIGH = 2
const HEAPS_PER_MARKET = 3

/** An account's entries in one market are identified by `marketId * 3 + kind`. */
const KIND_LONG = 0
const KIND_SHORT = 1
const KIND_MARGINAL = 2

/** `accountCode` values that are not a single code. */
const NOT_INDEXED = -1
const SEVERAL_MARKETS = -2

/** Below the lowest mark (0), so always crossed. */
const ALWAYS_CROSSED = -1n

/**
 * Finds the accounts that may have become liquidatable after a market's mark or funding index moved,
 * without scanning accounts: each indexed account has, per market with a position, a threshold on the
 * market's value coordinate and one on its mark, set so that while none is crossed the account's loss
 * stays below its buffer over maintenance margin (argument in docs/protocol.md, "Liquidation-proximity index").
 *
 * Derived data only: not committed and not snapshotted. It may return accounts that are fine (the caller
 * rechecks them) but never misses one that is liquidatable. The engine's results do not depend on it.
 */
export class LiquidationIndex {
  private readonly marketCount: number
  private readonly heaps: ThresholdHeap[] = []
  /** Per market, cached on first use; -1 until then. Market configs never change. */
  private readonly mmfMaxPpm: Int32Array
  /** Per account; an entry is live iff its version equals the account's. */
  private versions = new Uint32Array(1024)
  /** Per account: its single entry code, NOT_INDEXED, or SEVERAL_MARKETS (codes in `severalCodes`). */
  private accountCode = new Int32Array(1024).fill(NOT_INDEXED)
  private readonly severalCodes = new Map<number, number[]>()
  private liveEntries = 0
  private mutations = 0
  /** Heaps that gained stale entries since the last compaction check. */
  private readonly dirtyHeaps: Int32Array
  private dirtyCount = 0
  private readonly isDirty: Uint8Array

  constructor(marketCount: number) {
    this.marketCount = marketCount
    for (let i = 0; i < marketCount * HEAPS_PER_MARKET; i++) this.heaps.push(new ThresholdHeap())
    this.mmfMaxPpm = new Int32Array(marketCount).fill(-1)
    this.dirtyHeaps = new Int32Array(marketCount * HEAPS_PER_MARKET)
    this.isDirty = new Uint8Array(marketCount * HEAPS_PER_MARKET)
  }

  /**
   * Set an account's thresholds from its current risk (computed by the caller with accountRisk at current
   * marks). If the account is liquidatable it is not indexed and `update` returns true. An account within
   * rounding slack of maintenance is indexed to be rechecked on any move of any of its markets.
   */
  update(state: EngineState, account: Account, risk: AccountRisk): boolean {
    const accountId = account.accountId
    this.ensureCapacity(accountId)
    this.invalidate(accountId)
    if (isLiquidatable(risk)) {
      this.compactDirty()
      return true
    }
    const positions: ThresholdPosition[] = []
    const markets = account.markets
    for (let marketId = 0; marketId < markets.length; marketId++) {
      const am = markets[marketId]
      if (am === undefined || am.sizeLots === 0) continue
      const market = this.market(state, marketId)
      positions.push({
        marketId,
        sizeLots: am.sizeLots,
        markPriceTicks: market.markPriceTicks,
        quantumsPerLotTick: market.config.quantumsPerLotTick,
        fundingIndexNanoQuantumsPerLot: market.fundingIndexNanoQuantumsPerLot,
        mmfMaxPpm: this.mmfMaxOf(state, marketId),
      })
    }
    if (positions.length === 0) {
      this.compactDirty()
      return false
    }
    const version = this.versions[accountId]!
    const thresholds = liquidationThresholds(risk.equityQuantums, risk.maintenanceMarginQuantums, positions)
    const codes: number[] = []
    if (thresholds.kind === 'marginal') {
      for (const p of positions) {
        this.push(p.marketId * HEAPS_PER_MARKET + PRICE_HIGH, ALWAYS_CROSSED, accountId, version)
        codes.push(p.marketId * HEAPS_PER_MARKET + KIND_MARGINAL)
      }
    } else {
      for (let i = 0; i < positions.length; i++) {
        const p = positions[i]!
        const t = thresholds.positions[i]!
        const base = p.marketId * HEAPS_PER_MARKET
        if (p.sizeLots > 0) {
          this.push(base + LONG_VALUE, -t.valueThresholdNanoQuantumsPerLot, accountId, version)
          codes.push(base + KIND_LONG)
        } else {
          this.push(base + SHORT_VALUE, t.valueThresholdNanoQuantumsPerLot, accountId, version)
          codes.push(base + KIND_SHORT)
        }
        if (t.priceHighTicks !== null) this.push(base + PRICE_HIGH, t.priceHighTicks, accountId, version)
      }
    }
    if (codes.length === 1) {
      this.accountCode[accountId] = codes[0]!
    } else {
      this.accountCode[accountId] = SEVERAL_MARKETS
      this.severalCodes.set(accountId, codes)
    }
    this.compactDirty()
    return false
  }

  /** Forget an account (no positions any more). */
  remove(accountId: number): void {
    this.invalidate(accountId)
    this.compactDirty()
  }

  /**
   * Pop every account whose threshold in `marketId` is crossed at the market's current mark and funding
   * index; they are removed from the index (the caller rechecks each and calls update again).
   * Sorted by ascending accountId, without duplicates. When nothing is crossed this only peeks.
   */
  takeCrossed(state: EngineState, marketId: number): number[] {
    const market = this.market(state, marketId)
    const x = positionValueNanoQuantumsPerLot(
      market.markPriceTicks,
      market.config.quantumsPerLotTick,
      market.fundingIndexNanoQuantumsPerLot,
    )
    const out: number[] = []
    const base = marketId * HEAPS_PER_MARKET
    this.drain(base + LONG_VALUE, -x, out)
    this.drain(base + SHORT_VALUE, x, out)
    this.drain(base + PRICE_HIGH, BigInt(market.markPriceTicks), out)
    this.compactDirty()
    if (out.length > 1) out.sort(ascending)
    return out
  }

  /** Live entries currently indexed (for tests and the memory bench). */
  get entryCount(): number {
    return this.liveEntries
  }

  /** Entries held in the heaps, stale ones included (for tests of lazy deletion and compaction). */
  get storedEntryCount(): number {
    let n = 0
    for (const h of this.heaps) n += h.size
    return n
  }

  /** Heap pushes, pops and compactions so far (for tests: a move that crosses nobody must add none). */
  get heapMutations(): number {
    return this.mutations
  }

  private drain(heapId: number, bound: bigint, out: number[]): void {
    const heap = this.heaps[heapId]!
    while (heap.size > 0 && heap.topKey <= bound) {
      const accountId = heap.topAccountId
      const version = heap.topVersion
      heap.pop()
      this.mutations++
      if (this.versions[accountId] !== version) {
        heap.staleCount--
        continue
      }
      // invalidate counts the popped entry among the stale ones; it has already left the heap.
      this.invalidate(accountId)
      heap.staleCount--
      out.push(accountId)
    }
  }

  private push(heapId: number, key: bigint, accountId: number, version: number): void {
    this.heaps[heapId]!.push(key, accountId, version)
    this.liveEntries++
    this.mutations++
  }

  /** Makes every entry of the account stale. */
  private invalidate(accountId: number): void {
    if (accountId >= this.versions.length) return
    this.versions[accountId] = (this.versions[accountId]! + 1) >>> 0
    const code = this.accountCode[accountId]!
    if (code === NOT_INDEXED) return
    if (code === SEVERAL_MARKETS) {
      for (const c of this.severalCodes.get(accountId)!) this.markStale(c)
      this.severalCodes.delete(accountId)
    } else {
      this.markStale(code)
    }
    this.accountCode[accountId] = NOT_INDEXED
  }

  private markStale(code: number): void {
    const kind = code % HEAPS_PER_MARKET
    const marketId = (code - kind) / HEAPS_PER_MARKET
    const base = code - kind
    if (kind === KIND_MARGINAL) {
      this.staleOne(base + PRICE_HIGH)
      return
    }
    this.staleOne(base + (kind === KIND_LONG ? LONG_VALUE : SHORT_VALUE))
    if (this.mmfMaxPpm[marketId]! > 0) this.staleOne(base + PRICE_HIGH)
  }

  private staleOne(heapId: number): void {
    this.heaps[heapId]!.staleCount++
    this.liveEntries--
    if (this.isDirty[heapId] === 0) {
      this.isDirty[heapId] = 1
      this.dirtyHeaps[this.dirtyCount++] = heapId
    }
  }

  /** Compaction keeps stale entries at most half of each heap, so memory and pop costs stay proportional to live entries. */
  private compactDirty(): void {
    for (let i = 0; i < this.dirtyCount; i++) {
      const heapId = this.dirtyHeaps[i]!
      this.isDirty[heapId] = 0
      const heap = this.heaps[heapId]!
      if (heap.staleCount * 2 > heap.size) {
        heap.compact(this.versions)
        this.mutations++
      }
    }
    this.dirtyCount = 0
  }

  private market(state: EngineState, marketId: number) {
    const market = marketId < this.marketCount ? state.markets[marketId] : undefined
    if (market === undefined) {
      throw new EngineInvariantError('liquidation index market', `market ${marketId} of ${this.marketCount}`)
    }
    return market
  }

  private mmfMaxOf(state: EngineState, marketId: number): number {
    let mmf = this.mmfMaxPpm[marketId]!
    if (mmf < 0) {
      mmf = maxMaintenanceFractionPpm(this.market(state, marketId).config.marginTiers)
      this.mmfMaxPpm[marketId] = mmf
    }
    return mmf
  }

  private ensureCapacity(accountId: number): void {
    if (accountId < this.versions.length) return
    let capacity = this.versions.length * 2
    while (capacity <= accountId) capacity *= 2
    const versions = new Uint32Array(capacity)
    versions.set(this.versions)
    this.versions = versions
    const codes = new Int32Array(capacity).fill(NOT_INDEXED)
    codes.set(this.accountCode)
    this.accountCode = codes
  }
}

function ascending(a: number, b: number): number {
  return a - b
}
