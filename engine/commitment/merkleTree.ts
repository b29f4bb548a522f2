import { keccak256Pair, keccak256PairsInto } from './keccak256.ts'
import { MAX_TREE_DEPTH, zeroHash } from './zeroHashes.ts'

const NODE_BYTES = 32
const MIN_CAPACITY_NODES = 16

/** Even, at least `needNodes`, and at least 5/4 of `capacityNodes` so growth copies O(1) amortized per node. */
function grownCapacity(capacityNodes: number, needNodes: number): number {
  // floor: the 5/4 factor only needs to be approximate.
  const target = Math.max(needNodes, MIN_CAPACITY_NODES, capacityNodes + Math.floor(capacityNodes / 4))
  return target + (target & 1)
}

/** Writes the 32-byte `pattern` into nodes [fromNode, toNode) of `level`, by doubling copies. */
function fillNodes(level: Uint8Array, fromNode: number, toNode: number, pattern: Uint8Array): void {
  if (toNode <= fromNode) return
  const start = fromNode * NODE_BYTES
  const end = toNode * NODE_BYTES
  level.set(pattern, start)
  for (let filled = NODE_BYTES; start + filled < end; filled *= 2) {
    level.copyWithin(start + filled, start, Math.min(start + filled, end - filled))
  }
}

/**
 * A binary Merkle tree of fixed depth over 32-byte leaves, indexed 0..2^depth - 1, with
 * node = keccak256(left ‖ right) and empty subtrees equal to `zeroHash(height)`.
 *
 * Storage is dense up to the highest index used (`leafCount`): level l keeps its nodes in one
 * Uint8Array, about 64 bytes per leaf over all levels. Slots past a level's used width hold that level's
 * zero hash, so every parent reads its two children as 64 contiguous bytes.
 *
 * `setLeaf` only records the leaf; `root()` rehashes each dirty ancestor once, so the cost of a root
 * is proportional to the leaves touched since the last one, not to the size of the tree.
 */
export class IncrementalMerkleTree {
  readonly depth: number
  #leafCount = 0
  /** levels[l] holds level l (0 = leaves, depth = root); capacity in nodes is length / 32, always even. */
  readonly #levels: Uint8Array[] = []
  readonly #zeros: Uint8Array[] = []
  /** Leaf indices set since the last root, each once (guarded by #dirtyBits). */
  #dirty = new Uint32Array(MIN_CAPACITY_NODES)
  #dirtyCount = 0
  #dirtyBits = new Uint8Array(MIN_CAPACITY_NODES / 8)
  #clean = true

  constructor(depth: number, expectedLeafCount = 0) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_TREE_DEPTH) {
      throw new Error(`commitment: tree depth must be an integer in 1..${MAX_TREE_DEPTH}, got ${depth}`)
    }
    if (!Number.isSafeInteger(expectedLeafCount) || expectedLeafCount < 0 || expectedLeafCount > 2 ** depth) {
      throw new Error(`commitment: expected leaf count ${expectedLeafCount} does not fit depth ${depth}`)
    }
    this.depth = depth
    for (let l = 0; l <= depth; l++) {
      const zero = zeroHash(l)
      this.#zeros.push(zero)
      // ceil: a level needs one parent per started pair of children.
      const widthNodes = Math.ceil(expectedLeafCount / 2 ** l)
      const capacityNodes = l === depth ? 2 : grownCapacity(0, widthNodes)
      const level = new Uint8Array(capacityNodes * NODE_BYTES)
      if (l > 0) fillNodes(level, 0, capacityNodes, zero)
      this.#levels.push(level)
    }
    this.#levels[depth]!.set(this.#zeros[depth]!, 0)
    this.#dirtyBits = new Uint8Array(((this.#levels[0]!.length / NODE_BYTES) >>> 3) + 1)
  }

  /** Highest leaf index set so far, plus one. */
  get leafCount(): number {
    return this.#leafCount
  }

  /** Bytes held by the tree's buffers. */
  get byteLength(): number {
    let total = this.#dirty.byteLength + this.#dirtyBits.byteLength
    for (const level of this.#levels) total += level.byteLength
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
      this.#ensureLevelCapacity(0, index + 1)
    }
    this.#levels[0]!.set(hash32, index * NODE_BYTES)
    const bits = this.#dirtyBits
    const byte = index >>> 3
    const mask = 1 << (index & 7)
    if ((bits[byte]! & mask) === 0) {
      bits[byte] = bits[byte]! | mask
      if (this.#dirtyCount === this.#dirty.length) {
        const grown = new Uint32Array(grownCapacity(this.#dirty.length, this.#dirtyCount + 1))
        grown.set(this.#dirty)
        this.#dirty = grown
      }
      this.#dirty[this.#dirtyCount++] = index
    }
    this.#clean = false
  }

  /** The current root, 32 bytes (a fresh copy). */
  root(): Uint8Array {
    if (!this.#clean) this.#rehash()
    return this.#levels[this.depth]!.slice(0, NODE_BYTES)
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
      const level = this.#levels[l]!
      siblings.push(
        sibling < level.length / NODE_BYTES
          ? level.slice(sibling * NODE_BYTES, (sibling + 1) * NODE_BYTES)
          : this.#zeros[l]!.slice(),
      )
      // floor: the parent of nodes 2p and 2p + 1 is p.
      node = Math.floor(node / 2)
    }
    return siblings
  }

  /**
   * Whether `proof` (bottom-up siblings, as from `proof()`) leads from `leaf` at `index` to `root`.
   * At height l the running hash is the left input when bit l of `index` is 0, the right one when it is 1.
   */
  static verifyProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
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

  #ensureLevelCapacity(l: number, widthNodes: number): void {
    const level = this.#levels[l]!
    const capacityNodes = level.length / NODE_BYTES
    if (widthNodes <= capacityNodes) return
    const grownNodes = grownCapacity(capacityNodes, widthNodes)
    const grown = new Uint8Array(grownNodes * NODE_BYTES)
    grown.set(level)
    // Level 0's zero hash is all zero bytes, which a new buffer already holds.
    if (l > 0) fillNodes(grown, capacityNodes, grownNodes, this.#zeros[l]!)
    this.#levels[l] = grown
    if (l === 0) {
      const bits = new Uint8Array((grownNodes >>> 3) + 1)
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
      this.#ensureLevelCapacity(l, widthNodes)
    }
    const count = this.#dirtyCount
    const dirty = this.#dirty
    for (let k = 0; k < count; k++) this.#dirtyBits[dirty[k]! >>> 3] = 0
    // A path per dirty leaf costs up to `depth` hashes; past a quarter of the leaves, hashing every
    // used node once is cheaper and needs no sort.
    if (count * 4 >= this.#leafCount) {
      let width = this.#leafCount
      for (let l = 0; l < depth; l++) {
        // ceil: one parent per started pair.
        width = Math.ceil(width / 2)
        keccak256PairsInto(this.#levels[l]!, 0, width, this.#levels[l + 1]!, 0)
      }
    } else {
      // Sorted, so parents come out sorted and shared parents are adjacent: each is hashed once.
      const nodes = dirty.subarray(0, count).sort()
      let n = count
      for (let l = 0; l < depth; l++) {
        const children = this.#levels[l]!
        const parents = this.#levels[l + 1]!
        let m = 0
        let last = -1
        for (let k = 0; k < n; k++) {
          const parent = nodes[k]! >>> 1
          if (parent === last) continue
          nodes[m++] = parent
          last = parent
          keccak256PairsInto(children, parent * 2 * NODE_BYTES, 1, parents, parent * NODE_BYTES)
        }
        n = m
      }
    }
    this.#dirtyCount = 0
    // A full rebuild can leave a large dirty buffer behind; do not keep it.
    if (this.#dirty.length > 1 << 16) this.#dirty = new Uint32Array(MIN_CAPACITY_NODES)
    this.#clean = true
  }
}
