import { keccak256Pair, keccak256PairsInto } from './keccak256.ts'
import { MAX_TREE_DEPTH, zeroHash } from './zeroHashes.ts'

const NODE_BYTES = 32
const MIN_CAPACITY_NODES = 16
/** 1 MiB pages: big enough that a level is hashed in few calls, small enough that growth never copies much. */
const DEFAULT_PAGE_NODES = 1 << 15
/** Pairs gathered per hashing call on the sparse path. */
const GATHER_PAIRS = 1024
/**
 * Dirty leaves listed before the tree may stop listing them. Past this, and past a quarter of the used
 * leaves, the next root rehashes every used node anyway, so a full rebuild keeps no million-entry list.
 */
const DIRTY_LIST_LIMIT = 1 << 16

/** Even, at least `needNodes`, and at least 5/4 of `capacityNodes` so growth copies O(1) amortized per node. */
function grownCapacity(capacityNodes: number, needNodes: number): number {
  // floor: the 5/4 factor only needs to be approximate.
  const target = Math.max(needNodes, MIN_CAPACITY_NODES, capacityNodes + Math.floor(capacityNodes / 4))
  return target + (target & 1)
}

/** Writes the 32-byte `pattern` into nodes [fromNode, toNode) of `page`, by doubling copies. */
function fillNodes(page: Uint8Array, fromNode: number, toNode: number, pattern: Uint8Array): void {
  if (toNode <= fromNode) return
  const start = fromNode * NODE_BYTES
  const end = toNode * NODE_BYTES
  page.set(pattern, start)
  for (let filled = NODE_BYTES; start + filled < end; filled *= 2) {
    page.copyWithin(start + filled, start, Math.min(start + filled, end - filled))
  }
}

function wordsOf(page: Uint8Array): Uint32Array {
  return new Uint32Array(page.buffer, page.byteOffset, page.length >>> 2)
}

/**
 * A binary Merkle tree of fixed depth over 32-byte leaves, indexed 0..2^depth - 1, with
 * node = keccak256(left ‖ right) and empty subtrees equal to `zeroHash(height)`.
 *
 * Storage is dense up to the highest index used (`leafCount`), about 64 bytes per leaf over all
 * levels. Each level is a list of fixed-size pages, so growing never copies a whole level (nor leaves
 * the garbage collector a copy to find). Slots past a level's used width hold that level's zero hash,
 * and pages hold an even number of nodes, so every parent reads its two children as 64 contiguous bytes.
 *
 * `setLeaf` only records the leaf; `root()` rehashes each dirty ancestor once, so the cost of a root
 * is proportional to the leaves touched since the last one, not to the size of the tree.
 */
export class IncrementalMerkleTree {
  readonly depth: number
  readonly #pageNodes: number
  readonly #pageShift: number
  #leafCount = 0
  /** pages[l] holds level l (0 = leaves, depth = root): node i is in page i >> shift at node i & (pageNodes - 1). */
  readonly #pages: Uint8Array[][] = []
  /** Nodes allocated per level; always even. */
  readonly #capacityNodes: number[] = []
  readonly #zeros: Uint8Array[] = []
  /** 32-bit views of the leaf pages, so `setLeaves` copies words without a view per leaf. */
  readonly #leafWords: Uint32Array[] = []
  /** Leaf indices set since the last root, each once (guarded by #dirtyBits). */
  #dirty = new Uint32Array(MIN_CAPACITY_NODES)
  #dirtyCount = 0
  #dirtyBits = new Uint8Array(MIN_CAPACITY_NODES / 8)
  /** Every used leaf counts as dirty: the list and bits are empty, and the next root rehashes all. */
  #allDirty = false
  #clean = true
  /** Sparse path: children gathered here, parents hashed here, then scattered back. Allocated on first use. */
  #gather: Uint8Array | null = null
  #gathered: Uint8Array | null = null

  /**
   * @param expectedLeafCount leaves the caller expects to set (a restore knows its account count);
   *   their storage is allocated at once.
   * @param pageNodes nodes per storage page, a power of two of at least 2; only tests change it.
   */
  constructor(depth: number, expectedLeafCount = 0, pageNodes = DEFAULT_PAGE_NODES) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_TREE_DEPTH) {
      throw new Error(`commitment: tree depth must be an integer in 1..${MAX_TREE_DEPTH}, got ${depth}`)
    }
    if (!Number.isSafeInteger(expectedLeafCount) || expectedLeafCount < 0 || expectedLeafCount > 2 ** depth) {
      throw new Error(`commitment: expected leaf count ${expectedLeafCount} does not fit depth ${depth}`)
    }
    if (
      !Number.isInteger(pageNodes) ||
      pageNodes < 2 ||
      pageNodes > 2 ** 24 ||
      (pageNodes & (pageNodes - 1)) !== 0
    ) {
      throw new Error(`commitment: page size must be a power of two in 2..2^24 nodes, got ${pageNodes}`)
    }
    this.depth = depth
    this.#pageNodes = pageNodes
    this.#pageShift = 31 - Math.clz32(pageNodes)
    for (let l = 0; l <= depth; l++) {
      this.#zeros.push(zeroHash(l))
      this.#pages.push([])
      this.#capacityNodes.push(0)
      // ceil: a level needs one parent per started pair of children.
      this.#ensureCapacity(l, l === depth ? 1 : Math.ceil(expectedLeafCount / 2 ** l))
    }
  }

  /** Highest leaf index set so far, plus one. */
  get leafCount(): number {
    return this.#leafCount
  }

  /** Bytes held by the tree's buffers. */
  get byteLength(): number {
    let total = this.#dirty.byteLength + this.#dirtyBits.byteLength
    total += (this.#gather?.byteLength ?? 0) + (this.#gathered?.byteLength ?? 0)
    for (const level of this.#pages) for (const page of level) total += page.byteLength
    return total
  }

  /** Records `hash32` as leaf `index`. O(1) amortized; hashing waits for `root()`. */
  setLeaf(index: number, hash32: Uint8Array): void {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** this.depth) {
      throw new Error(`commitment: leaf index ${index} outside a tree of depth ${this.depth}`)
    }
    if (hash32.length !== NODE_BYTES) throw new Error(`commitment: a leaf is 32 bytes, got ${hash32.length}`)
    if (index >= this.#leafCount) {
      this.#leafCount = index + 1
      this.#ensureCapacity(0, index + 1)
    }
    this.#pages[0]![index >>> this.#pageShift]!.set(hash32, (index & (this.#pageNodes - 1)) * NODE_BYTES)
    this.#markDirty(index)
  }

  /**
   * `setLeaf(indices[k], leaves[32k, 32k + 32))` for k < count, in order; for leaves built in bulk.
   * `leaves` must start on a 4-byte boundary of its buffer.
   */
  setLeaves(indices: Uint32Array, count: number, leaves: Uint8Array): void {
    if (count > indices.length || NODE_BYTES * count > leaves.length || leaves.byteOffset % 4 !== 0) {
      throw new Error('commitment: setLeaves needs count indices and count 32-byte leaves')
    }
    const limit = 2 ** this.depth
    const shift = this.#pageShift
    const mask = this.#pageNodes - 1
    const src = new Uint32Array(leaves.buffer, leaves.byteOffset, 8 * count)
    for (let k = 0; k < count; k++) {
      const index = indices[k]!
      if (index >= limit) {
        throw new Error(`commitment: leaf index ${index} outside a tree of depth ${this.depth}`)
      }
      if (index >= this.#leafCount) {
        this.#leafCount = index + 1
        this.#ensureCapacity(0, index + 1)
      }
      const page = this.#leafWords[index >>> shift]!
      const at = 8 * (index & mask)
      for (let w = 0; w < 8; w++) page[at + w] = src[8 * k + w]!
      this.#markDirty(index)
    }
  }

  #markDirty(index: number): void {
    this.#clean = false
    if (this.#allDirty) return
    const bits = this.#dirtyBits
    const byte = index >>> 3
    const mask = 1 << (index & 7)
    if ((bits[byte]! & mask) === 0) {
      if (this.#dirtyCount >= DIRTY_LIST_LIMIT && this.#dirtyCount * 4 >= this.#leafCount) {
        this.#clearDirtyList()
        this.#allDirty = true
        return
      }
      bits[byte] = bits[byte]! | mask
      if (this.#dirtyCount === this.#dirty.length) {
        const grown = new Uint32Array(grownCapacity(this.#dirty.length, this.#dirtyCount + 1))
        grown.set(this.#dirty)
        this.#dirty = grown
      }
      this.#dirty[this.#dirtyCount++] = index
    }
  }

  /** Empties the dirty list and its bits. */
  #clearDirtyList(): void {
    const count = this.#dirtyCount
    const dirty = this.#dirty
    for (let k = 0; k < count; k++) this.#dirtyBits[dirty[k]! >>> 3] = 0
    this.#dirtyCount = 0
    // A large list is not worth keeping between rebuilds.
    if (dirty.length > DIRTY_LIST_LIMIT) this.#dirty = new Uint32Array(MIN_CAPACITY_NODES)
  }

  /** The current root, 32 bytes (a fresh copy). */
  root(): Uint8Array {
    if (!this.#clean) this.#rehash()
    return this.#pages[this.depth]![0]!.slice(0, NODE_BYTES)
  }

  /** The `depth` sibling hashes from leaf `index` up to the root, bottom-up. */
  proof(index: number): Uint8Array[] {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** this.depth) {
      throw new Error(`commitment: leaf index ${index} outside a tree of depth ${this.depth}`)
    }
    if (!this.#clean) this.#rehash()
    const siblings: Uint8Array[] = []
    let node = index
    for (let l = 0; l < this.depth; l++) {
      const sibling = node % 2 === 0 ? node + 1 : node - 1
      if (sibling < this.#capacityNodes[l]!) {
        const at = (sibling & (this.#pageNodes - 1)) * NODE_BYTES
        siblings.push(this.#pages[l]![sibling >>> this.#pageShift]!.slice(at, at + NODE_BYTES))
      } else {
        siblings.push(this.#zeros[l]!.slice())
      }
      // floor: the parent of nodes 2p and 2p + 1 is p.
      node = Math.floor(node / 2)
    }
    return siblings
  }

  /**
   * Whether `proof` (bottom-up siblings, as from `proof()`) leads from `leaf` at `index` to `root`.
   * At height l the running hash is the left input when bit l of `index` is 0, the right one when it is 1.
   */
  static verifyProof(
    leaf: Uint8Array,
    index: number,
    proof: readonly Uint8Array[],
    root: Uint8Array,
  ): boolean {
    const depth = proof.length
    if (depth < 1 || depth > MAX_TREE_DEPTH || !Number.isInteger(index) || index < 0 || index >= 2 ** depth) {
      return false
    }
    if (leaf.length !== NODE_BYTES || root.length !== NODE_BYTES) return false
    let hash = leaf
    let node = index
    for (const sibling of proof) {
      if (sibling.length !== NODE_BYTES) return false
      hash = node % 2 === 0 ? keccak256Pair(hash, sibling) : keccak256Pair(sibling, hash)
      // floor: the parent of nodes 2p and 2p + 1 is p.
      node = Math.floor(node / 2)
    }
    for (let i = 0; i < NODE_BYTES; i++) if (hash[i] !== root[i]) return false
    return true
  }

  /** Makes level `l` hold at least `widthNodes` nodes (rounded up to even), new slots set to its zero hash. */
  #ensureCapacity(l: number, widthNodes: number): void {
    const need = widthNodes + (widthNodes & 1)
    const pages = this.#pages[l]!
    const pageNodes = this.#pageNodes
    const zero = this.#zeros[l]!
    while (this.#capacityNodes[l]! < need) {
      const last = pages[pages.length - 1]
      const lastNodes = last === undefined ? pageNodes : last.length / NODE_BYTES
      // Grow the last page up to full size, or start a new one; only a partial page is ever copied.
      const base = last === undefined || lastNodes === pageNodes ? pages.length : pages.length - 1
      const fromNodes = base === pages.length ? 0 : lastNodes
      const toNodes = Math.min(pageNodes, grownCapacity(fromNodes, need - base * pageNodes))
      const page = new Uint8Array(toNodes * NODE_BYTES)
      if (base < pages.length) page.set(last!)
      // Level 0's zero hash is all zero bytes, which a new buffer already holds.
      if (l > 0) fillNodes(page, fromNodes, toNodes, zero)
      pages[base] = page
      if (l === 0) this.#leafWords[base] = wordsOf(page)
      this.#capacityNodes[l] = this.#capacityNodes[l]! + toNodes - fromNodes
    }
    if (l === 0 && this.#dirtyBits.length * 8 < this.#capacityNodes[0]!) {
      const bits = new Uint8Array(grownCapacity(this.#dirtyBits.length, (this.#capacityNodes[0]! >>> 3) + 1))
      bits.set(this.#dirtyBits)
      this.#dirtyBits = bits
    }
  }

  #rehash(): void {
    const depth = this.depth
    let widthNodes = this.#leafCount
    for (let l = 1; l < depth; l++) {
      // ceil: one parent per started pair.
      widthNodes = Math.ceil(widthNodes / 2)
      this.#ensureCapacity(l, widthNodes)
    }
    const count = this.#dirtyCount
    const dirty = this.#dirty
    // A path per dirty leaf costs up to `depth` hashes; past a quarter of the leaves, hashing every
    // used node once is cheaper and needs no sort.
    const all = this.#allDirty || count * 4 >= this.#leafCount
    // Before the paths: rehashing overwrites the list with parent indices.
    this.#clearDirtyList()
    this.#allDirty = false
    if (all) this.#rehashAll()
    else this.#rehashPaths(dirty.subarray(0, count).sort())
    this.#clean = true
  }

  /** Hashes every used node once, a page of children at a time. */
  #rehashAll(): void {
    const pageNodes = this.#pageNodes
    const halfPage = pageNodes / 2
    let width = this.#leafCount
    for (let l = 0; l < this.depth; l++) {
      const children = this.#pages[l]!
      const parents = this.#pages[l + 1]!
      // ceil: one parent per started pair.
      const parentWidth = Math.ceil(width / 2)
      // Child page p holds the children of parents [p * halfPage, (p + 1) * halfPage): half of parent page p >> 1.
      for (let p = 0; p * halfPage < parentWidth; p++) {
        const pairs = Math.min(halfPage, parentWidth - p * halfPage)
        keccak256PairsInto(children[p]!, 0, pairs, parents[p >>> 1]!, (p & 1) * halfPage * NODE_BYTES)
      }
      width = parentWidth
    }
  }

  /** Rehashes the ancestors of the sorted leaf indices in `nodes`, each once; overwrites `nodes`. */
  #rehashPaths(nodes: Uint32Array): void {
    const shift = this.#pageShift
    const mask = this.#pageNodes - 1
    this.#gather ??= new Uint8Array(GATHER_PAIRS * 64)
    this.#gathered ??= new Uint8Array(GATHER_PAIRS * 32)
    const gatherBytes = this.#gather
    const gatheredBytes = this.#gathered
    const gather = wordsOf(gatherBytes)
    const gathered = wordsOf(gatheredBytes)
    let n = nodes.length
    for (let l = 0; l < this.depth; l++) {
      // Sorted, so parents come out sorted and shared parents are adjacent: each is kept once.
      let m = 0
      let last = -1
      for (let k = 0; k < n; k++) {
        const parent = nodes[k]! >>> 1
        if (parent === last) continue
        nodes[m++] = parent
        last = parent
      }
      n = m
      const children = this.#pages[l]!.map(wordsOf)
      const parents = this.#pages[l + 1]!.map(wordsOf)
      for (let from = 0; from < n; from += GATHER_PAIRS) {
        const batch = Math.min(GATHER_PAIRS, n - from)
        // Parent p hashes children 2p and 2p + 1: 16 words from word 8 * (2p & mask) of their page.
        for (let k = 0; k < batch; k++) {
          const child = 2 * nodes[from + k]!
          const page = children[child >>> shift]!
          const at = 8 * (child & mask)
          for (let w = 0; w < 16; w++) gather[16 * k + w] = page[at + w]!
        }
        keccak256PairsInto(gatherBytes, 0, batch, gatheredBytes, 0)
        for (let k = 0; k < batch; k++) {
          const parent = nodes[from + k]!
          const page = parents[parent >>> shift]!
          const at = 8 * (parent & mask)
          for (let w = 0; w < 8; w++) page[at + w] = gathered[8 * k + w]!
        }
      }
    }
  }
}
