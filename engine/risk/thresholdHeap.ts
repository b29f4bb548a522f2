/**
 * A binary min-heap of `(key, accountId, version)` entries in parallel arrays, with no object per entry.
 * Deletion is lazy: the owner invalidates entries by bumping an account's version, counts them in
 * `staleCount`, and calls `compact` when they pile up. The heap itself never reads versions except there.
 */
export class ThresholdHeap {
  private keys: bigint[] = []
  private ids: Int32Array
  private versions: Uint32Array
  private count = 0
  /** Entries known to be stale; maintained by the owner. */
  staleCount = 0

  constructor(initialCapacity = 16) {
    const capacity = Math.max(1, initialCapacity)
    this.ids = new Int32Array(capacity)
    this.versions = new Uint32Array(capacity)
  }

  get size(): number {
    return this.count
  }

  /** Smallest key; only valid when `size > 0`. */
  get topKey(): bigint {
    return this.keys[0]!
  }

  get topAccountId(): number {
    return this.ids[0]!
  }

  get topVersion(): number {
    return this.versions[0]!
  }

  push(key: bigint, accountId: number, version: number): void {
    if (this.count === this.ids.length) this.grow()
    this.keys.push(key)
    this.siftUp(this.count++, key, accountId, version)
  }

  /** Removes the top entry; only valid when `size > 0`. */
  pop(): void {
    const last = --this.count
    const key = this.keys.pop()!
    if (last === 0) return
    this.siftDown(0, key, this.ids[last]!, this.versions[last]!)
  }

  /** Drops every entry whose version differs from `currentVersions[accountId]`, then rebuilds in O(n). */
  compact(currentVersions: Uint32Array): void {
    const keys = this.keys
    const ids = this.ids
    const versions = this.versions
    let kept = 0
    for (let i = 0; i < this.count; i++) {
      const id = ids[i]!
      const version = versions[i]!
      if (currentVersions[id] !== version) continue
      keys[kept] = keys[i]!
      ids[kept] = id
      versions[kept] = version
      kept++
    }
    keys.length = kept
    this.count = kept
    this.staleCount = 0
    for (let i = (kept >>> 1) - 1; i >= 0; i--) this.siftDown(i, keys[i]!, ids[i]!, versions[i]!)
    // Give memory back after a mass invalidation; keep headroom so a refill does not thrash.
    if (this.ids.length > 64 && kept * 4 < this.ids.length) this.resize(Math.max(16, kept * 2))
  }

  private siftUp(i: number, key: bigint, id: number, version: number): void {
    const keys = this.keys
    const ids = this.ids
    const versions = this.versions
    while (i > 0) {
      const parent = (i - 1) >>> 1
      const parentKey = keys[parent]!
      if (parentKey <= key) break
      keys[i] = parentKey
      ids[i] = ids[parent]!
      versions[i] = versions[parent]!
      i = parent
    }
    keys[i] = key
    ids[i] = id
    versions[i] = version
  }

  private siftDown(i: number, key: bigint, id: number, version: number): void {
    const keys = this.keys
    const ids = this.ids
    const versions = this.versions
    const n = this.count
    const half = n >>> 1
    while (i < half) {
      let child = 2 * i + 1
      let childKey = keys[child]!
      const right = child + 1
      if (right < n) {
        const rightKey = keys[right]!
        if (rightKey < childKey) {
          child = right
          childKey = rightKey
        }
      }
      if (key <= childKey) break
      keys[i] = childKey
      ids[i] = ids[child]!
      versions[i] = versions[child]!
      i = child
    }
    keys[i] = key
    ids[i] = id
    versions[i] = version
  }

  private grow(): void {
    this.resize(this.ids.length * 2)
  }

  private resize(capacity: number): void {
    const ids = new Int32Array(capacity)
    ids.set(this.ids.subarray(0, this.count))
    const versions = new Uint32Array(capacity)
    versions.set(this.versions.subarray(0, this.count))
    this.ids = ids
    this.versions = versions
  }
}
