import type { Address } from 'viem'
import { ByteWriter } from '../snapshot/byteWriter.ts'
import { writeAddressWord, writeUint256Word } from './abiWords.ts'
import {
  keccak256,
  keccak256AccountLeaves,
  keccak256Twice,
  MAX_ACCOUNT_RECORDS,
  MAX_ACCOUNT_RECORDS_BYTES,
} from './keccak256.ts'
import { ACCOUNT_RECORD_HEADER_BYTES, RATE_BYTES } from './keccakWasm.ts'
import type { IncrementalMerkleTree } from './merkleTree.ts'

/**
 * Builds account leaves into a tree many at a time: the caller writes each account's data encoding
 * straight into a shared buffer, and one WebAssembly call per batch hashes the data, the leaf
 * preimage and the leaf. No per-account digest is copied out, so rebuilding a million leaves leaves
 * next to nothing for the garbage collector. Same leaves as
 * `accountLeafHash(address, escapeEquityQuantums, keccak256(data))`, byte for byte.
 *
 *     const w = batch.begin(accountId, address, escapeEquityQuantums)
 *     writeTheAccountData(w)   // appends only; never resets or rewinds
 *     batch.end()
 *     …
 *     batch.flush()            // before reading the tree
 */
export class AccountLeafBatch {
  readonly #tree: IncrementalMerkleTree
  readonly #maxBytes: number
  readonly #writer = new ByteWriter(4096)
  readonly #indices = new Uint32Array(MAX_ACCOUNT_RECORDS)
  readonly #leaves = new Uint8Array(32 * MAX_ACCOUNT_RECORDS)
  readonly #preimage = new Uint8Array(96)
  #count = 0
  /** Where the open record starts in the writer, or -1 between `end` and the next `begin`. */
  #open = -1

  /**
   * @param maxBatchBytes most record bytes hashed per call; only tests lower it, to reach the path for
   *   an account too large for one call.
   */
  constructor(tree: IncrementalMerkleTree, maxBatchBytes = MAX_ACCOUNT_RECORDS_BYTES) {
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1 || maxBatchBytes > MAX_ACCOUNT_RECORDS_BYTES) {
      throw new Error(
        `commitment: batch size must be 1..${MAX_ACCOUNT_RECORDS_BYTES} bytes, got ${maxBatchBytes}`,
      )
    }
    this.#tree = tree
    this.#maxBytes = maxBatchBytes
  }

  /** Opens leaf `index`'s record; append the account data encoding to the returned writer, then call `end`. */
  begin(index: number, address: Address, escapeEquityQuantums: bigint): ByteWriter {
    if (this.#open >= 0) throw new Error('commitment: begin while an account leaf record is open')
    if (escapeEquityQuantums < 0n) {
      throw new Error(`commitment: negative escape equity ${escapeEquityQuantums} for ${address}`)
    }
    const w = this.#writer
    w.ensure(ACCOUNT_RECORD_HEADER_BYTES)
    const at = w.length
    writeAddressWord(w.bytes, at + 8, address)
    writeUint256Word(w.view, at + 40, escapeEquityQuantums)
    this.#indices[this.#count] = index
    w.length = at + ACCOUNT_RECORD_HEADER_BYTES
    this.#open = at
    return w
  }

  /** Closes the open record: pads its data, and hashes the batch once it is full. */
  end(): void {
    const at = this.#open
    if (at < 0) throw new Error('commitment: end without begin')
    this.#open = -1
    const w = this.#writer
    const dataAt = at + ACCOUNT_RECORD_HEADER_BYTES
    const dataLength = w.length - dataAt
    // floor, plus one: the padding starts a block of its own when the data fills one exactly.
    const blocks = Math.floor(dataLength / RATE_BYTES) + 1
    const end = dataAt + blocks * RATE_BYTES
    w.ensure(end - w.length)
    const bytes = w.bytes
    bytes.fill(0, w.length, end)
    bytes[dataAt + dataLength] = 0x01
    bytes[end - 1]! |= 0x80
    w.view.setUint32(at, blocks, true)
    w.view.setUint32(at + 4, dataLength, true)
    w.length = end
    this.#count++
    if (end <= this.#maxBytes && this.#count < MAX_ACCOUNT_RECORDS) return
    if (end > this.#maxBytes) {
      // The new record does not fit with the others: hash those first, so leaves land in call order.
      const index = this.#indices[this.#count - 1]!
      this.#hash(at, this.#count - 1)
      if (end - at > this.#maxBytes) {
        this.#hashAlone(at, index, dataLength)
        w.reset()
        this.#count = 0
      } else {
        bytes.copyWithin(0, at, end)
        w.length = end - at
        this.#indices[0] = index
        this.#count = 1
      }
      return
    }
    this.flush()
  }

  /** Hashes every closed record into the tree. */
  flush(): void {
    if (this.#open >= 0) throw new Error('commitment: flush while an account leaf record is open')
    this.#hash(this.#writer.length, this.#count)
    this.#writer.reset()
    this.#count = 0
  }

  /** Drops the open record and every record not yet hashed: for a caller whose encoder threw. */
  discard(): void {
    this.#writer.reset()
    this.#count = 0
    this.#open = -1
  }

  #hash(byteLength: number, count: number): void {
    if (count === 0) return
    keccak256AccountLeaves(this.#writer.bytes, byteLength, count, this.#leaves)
    this.#tree.setLeaves(this.#indices, count, this.#leaves)
  }

  /** One record larger than a call takes: the data hashed by streaming, then the leaf as usual. */
  #hashAlone(at: number, index: number, dataLength: number): void {
    const bytes = this.#writer.bytes
    const dataAt = at + ACCOUNT_RECORD_HEADER_BYTES
    const preimage = this.#preimage
    preimage.set(bytes.subarray(at + 8, dataAt))
    preimage.set(keccak256(bytes.subarray(dataAt, dataAt + dataLength)), 64)
    this.#tree.setLeaf(index, keccak256Twice(preimage))
  }
}
