import { Side } from '../ops.ts'
import type { PriceLevel } from './priceLevel.ts'

/**
 * The non-empty price levels of one side of a book, ordered by key ascending, so the best level is LAST.
 * Matching consumes the best level most often, and removing the last element is a pop; new levels
 * cluster near the best, so inserts shift few elements. A Map finds an existing level in O(1).
 */
export class BookSide {
  readonly side: Side
  /** `keys[i] === levels[i].key`, kept as a separate array of numbers so the binary search stays in one array. */
  readonly keys: number[] = []
  readonly levels: PriceLevel[] = []
  readonly byPrice = new Map<number, PriceLevel>()
  orderCount = 0

  constructor(side: Side) {
    this.side = side
  }

  keyOf(priceTicks: number): number {
    return this.side === Side.Buy ? priceTicks : -priceTicks
  }

  /** Index of the first key >= `key`, or `keys.length` if none. */
  lowerBound(key: number): number {
    const keys = this.keys
    let lo = 0
    let hi = keys.length
    // Most inserts land near the best (the end): check the last key before bisecting.
    if (hi > 0 && keys[hi - 1]! < key) return hi
    while (lo < hi) {
      // floor of the midpoint; lo + hi < 2^32 because array lengths are < 2^32
      const mid = (lo + hi) >>> 1
      if (keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Adds an empty level whose `priceTicks` and `key` are set and which is not yet in this side. */
  addLevel(level: PriceLevel): void {
    const keys = this.keys
    const levels = this.levels
    const at = this.lowerBound(level.key)
    let i = keys.length
    keys.push(level.key)
    levels.push(level)
    for (; i > at; i--) {
      keys[i] = keys[i - 1]!
      levels[i] = levels[i - 1]!
    }
    keys[at] = level.key
    levels[at] = level
    this.byPrice.set(level.priceTicks, level)
  }

  /** Removes a level of this side (empty or not); the caller owns what happens to its orders. */
  removeLevel(level: PriceLevel): void {
    const keys = this.keys
    const levels = this.levels
    const last = keys.length - 1
    const at = last >= 0 && levels[last] === level ? last : this.lowerBound(level.key)
    if (levels[at] !== level) throw new Error(`BookSide.removeLevel: no level at ${level.priceTicks} ticks`)
    for (let i = at; i < last; i++) {
      keys[i] = keys[i + 1]!
      levels[i] = levels[i + 1]!
    }
    keys.pop()
    levels.pop()
    this.byPrice.delete(level.priceTicks)
  }

  best(): PriceLevel | undefined {
    return this.levels[this.levels.length - 1]
  }
}
