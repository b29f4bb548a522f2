/**
 * A set of account ids for the hot path: a list of members plus each id's position in it, so add, has and
 * delete are O(1) with no hashing, and clearing costs the members only. Iterates in insertion order until
 * something is deleted (a delete moves the last member into the hole). Set-compatible where the engine
 * and the commitment use it.
 */
export class AccountIdSet implements Iterable<number> {
  private members: number[] = []
  /** members index + 1 per account id; 0 when absent. */
  private slots: Int32Array = new Int32Array(1024)

  get size(): number {
    return this.members.length
  }

  add(accountId: number): this {
    let slots = this.slots
    if (accountId >= slots.length) slots = this.grow(accountId)
    if (slots[accountId] === 0) {
      this.members.push(accountId)
      slots[accountId] = this.members.length
    }
    return this
  }

  has(accountId: number): boolean {
    return accountId < this.slots.length && this.slots[accountId] !== 0
  }

  delete(accountId: number): boolean {
    const slots = this.slots
    if (accountId >= slots.length) return false
    const slot = slots[accountId]!
    if (slot === 0) return false
    const members = this.members
    const last = members.pop()!
    if (last !== accountId) {
      members[slot - 1] = last
      slots[last] = slot
    }
    slots[accountId] = 0
    return true
  }

  clear(): void {
    const members = this.members
    const slots = this.slots
    for (let i = 0; i < members.length; i++) slots[members[i]!] = 0
    members.length = 0
  }

  [Symbol.iterator](): Iterator<number> {
    return this.members[Symbol.iterator]()
  }

  /** Moves every member, ascending, into `out` (emptied first) and clears the set. */
  drainSorted(out: number[]): void {
    const members = this.members
    const slots = this.slots
    const n = members.length
    out.length = n
    for (let i = 0; i < n; i++) {
      const id = members[i]!
      slots[id] = 0
      out[i] = id
    }
    members.length = 0
    if (n > 32) {
      out.sort(ascending)
      return
    }
    // Insertion sort: a handful of members is the common case.
    for (let i = 1; i < n; i++) {
      const id = out[i]!
      let j = i
      while (j > 0 && out[j - 1]! > id) {
        out[j] = out[j - 1]!
        j--
      }
      out[j] = id
    }
  }

  private grow(accountId: number): Int32Array {
    let capacity = this.slots.length * 2
    while (capacity <= accountId) capacity *= 2
    const slots = new Int32Array(capacity)
    slots.set(this.slots)
    this.slots = slots
    return slots
  }
}

function ascending(a: number, b: number): number {
  return a - b
}
