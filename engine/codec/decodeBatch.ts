import type { Address } from 'viem'
import {
  ALL_MARKETS,
  type Op,
  type OrderKind,
  type OrderParams,
  type PriceObservation,
  type SelfTradePrevention,
  type Side,
  type SignedEntry,
  type TimeInForce,
  ZERO_ADDRESS,
} from '../ops.ts'
import type { BatchContinuity, BatchData } from './batchData.ts'
import { ByteReader } from './byteReader.ts'
import type { CodecError } from './codecError.ts'
import {
  ADDRESS_BYTES,
  BATCH_MAGIC,
  CODEC_VERSION,
  MAX_ORDER_KIND,
  MAX_STP,
  OpTag,
  ORDER_FLAG_POST_ONLY,
  ORDER_FLAG_REDUCE_ONLY,
  ORDER_FLAG_SELL,
  ORDER_HAS_CLIENT_ORDER_ID,
  ORDER_HAS_EXPIRY,
  ORDER_HAS_TRIGGER,
  ORDER_KIND_MASK,
  ORDER_KIND_SHIFT,
  ORDER_RESERVED_BITS,
  ORDER_STP_MASK,
  ORDER_TIF_MASK,
  ORDER_TIF_SHIFT,
  SIGNATURE_BYTES,
} from './format.ts'

export type DecodeBatchErrorType = CodecError

const NO_SIGNATURES: readonly Uint8Array[] = Object.freeze([])
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/**
 * Decodes a batch posted by `encodeBatch`. Accepts exactly the canonical encodings: for every
 * accepted input, `encodeBatch(decodeBatch(bytes))` returns the same bytes. Anything else throws
 * CodecError with a stable code and the offending byte offset.
 *
 * Signers are not in the encoding: every `signer` comes back as ZERO_ADDRESS, to be recovered by the
 * caller from `signature` and `observationSignatures`. Signatures are disjoint views into one private
 * copy of `bytes` (mind `byteOffset` if you reach for `.buffer`); they never alias the caller's buffer.
 */
export function decodeBatch(bytes: Uint8Array, continuity: BatchContinuity = {}): BatchData {
  return new BatchDecoder(bytes).batch(continuity)
}

class BatchDecoder {
  private readonly r: ByteReader
  private table: Address[] = []
  /** Per table index: how many times ops refer to it, and the ordinal of the first reference. */
  private refCounts = new Uint32Array(0)
  private firstRefs = new Int32Array(0)
  private refOrdinal = 0
  /** Byte offset of the first table address, for error offsets. */
  private tableAt = 0

  constructor(bytes: Uint8Array) {
    this.r = new ByteReader(bytes)
  }

  batch(continuity: BatchContinuity): BatchData {
    const r = this.r
    if (r.byte() !== BATCH_MAGIC) throw r.fail('BAD_MAGIC', 0, 'not an SCE batch')
    const version = r.byte()
    if (version !== CODEC_VERSION) throw r.fail('BAD_VERSION', 1, `unknown codec version ${version}`)

    const countAt = r.pos
    const entryCount = r.uvarint()
    // Every entry takes at least one byte (its tag): a larger count is a lie; refused before allocating.
    if (entryCount > r.remaining) throw r.fail('TRUNCATED', countAt, `${entryCount} entries cannot fit`)

    let seq = 0
    let timestampMs = 0
    if (entryCount > 0) {
      const seqAt = r.pos
      seq = r.uvarint()
      if (seq > Number.MAX_SAFE_INTEGER - (entryCount - 1)) {
        throw r.fail('VALUE_OUT_OF_RANGE', seqAt, 'the last seq would exceed MAX_SAFE_INTEGER')
      }
      if (continuity.expectedFirstSeq !== undefined && seq !== continuity.expectedFirstSeq) {
        throw r.fail('SEQ_GAP', seqAt, `first seq ${seq}, expected ${continuity.expectedFirstSeq}`)
      }
      const timestampAt = r.pos
      timestampMs = r.uvarint()
      if (continuity.minFirstTimestampMs !== undefined && timestampMs < continuity.minFirstTimestampMs) {
        throw r.fail(
          'TIME_BACKWARDS',
          timestampAt,
          `first timestamp ${timestampMs} < ${continuity.minFirstTimestampMs}`,
        )
      }
    }

    this.readAddressTable()

    const entries: SignedEntry[] = new Array(entryCount)
    for (let i = 0; i < entryCount; i++) {
      r.entryIndex = i
      if (i > 0) {
        const deltaAt = r.pos
        timestampMs += r.uvarint()
        if (timestampMs > Number.MAX_SAFE_INTEGER) {
          throw r.fail('VALUE_OUT_OF_RANGE', deltaAt, 'timestamp exceeds MAX_SAFE_INTEGER')
        }
      }
      entries[i] = this.entry(seq + i, timestampMs)
    }
    r.entryIndex = null
    if (r.remaining > 0) throw r.fail('TRAILING_BYTES', r.pos, `${r.remaining} bytes after the last entry`)
    this.checkAddressOrder()
    return { version: CODEC_VERSION, entries }
  }

  private readAddressTable(): void {
    const r = this.r
    const countAt = r.pos
    const count = r.uvarint()
    // Rounded down: a partial address does not count.
    if (count > Math.floor(r.remaining / ADDRESS_BYTES)) {
      throw r.fail('TRUNCATED', countAt, `${count} addresses cannot fit`)
    }
    this.tableAt = r.pos
    const table: Address[] = new Array(count)
    const seen = new Set<string>()
    for (let i = 0; i < count; i++) {
      const at = r.pos
      let hex = '0x'
      for (let k = 0; k < ADDRESS_BYTES; k++) hex += HEX_BYTE[r.bytes[at + k]!]
      r.pos = at + ADDRESS_BYTES
      if (seen.has(hex)) throw r.fail('DUPLICATE_ADDRESS', at, `${hex} is listed twice`)
      seen.add(hex)
      table[i] = hex as Address
    }
    this.table = table
    this.refCounts = new Uint32Array(count)
    this.firstRefs = new Int32Array(count).fill(-1)
  }

  /** INVARIANT: the table is exactly what encodeBatch would build from the decoded ops. */
  private checkAddressOrder(): void {
    const counts = this.refCounts
    const firsts = this.firstRefs
    for (let i = 0; i < counts.length; i++) {
      const at = this.tableAt + i * ADDRESS_BYTES
      if (counts[i] === 0) throw this.r.fail('UNUSED_ADDRESS', at, `no op refers to address ${i}`)
      if (i > 0) {
        const before =
          counts[i - 1]! > counts[i]! || (counts[i - 1] === counts[i] && firsts[i - 1]! < firsts[i]!)
        if (!before)
          throw this.r.fail('BAD_ADDRESS_ORDER', at, `address ${i} must come before address ${i - 1}`)
      }
    }
  }

  private address(): Address {
    const r = this.r
    const at = r.pos
    const index = r.uvarint()
    const address = this.table[index]
    if (address === undefined) {
      throw r.fail('BAD_ADDRESS_INDEX', at, `address index ${index} >= table size ${this.table.length}`)
    }
    if (this.refCounts[index] === 0) this.firstRefs[index] = this.refOrdinal
    this.refCounts[index]!++
    this.refOrdinal++
    return address
  }

  /** An absolute time, coded as a signed offset from the entry's timestamp. */
  private time(timestampMs: number): number {
    const r = this.r
    const at = r.pos
    const value = timestampMs + r.zigzag()
    if (value < 0 || value > Number.MAX_SAFE_INTEGER) {
      throw r.fail('VALUE_OUT_OF_RANGE', at, 'time is not a safe non-negative integer')
    }
    return value
  }

  private signature(): Uint8Array {
    const r = this.r
    const at = r.pos
    const signature = r.take(SIGNATURE_BYTES)
    const v = signature[SIGNATURE_BYTES - 1]
    if (v !== 27 && v !== 28) {
      throw r.fail('BAD_SIGNATURE_V', at + SIGNATURE_BYTES - 1, `v = ${String(v)}, expected 27 or 28`)
    }
    return signature
  }

  private entry(seq: number, timestampMs: number): SignedEntry {
    const r = this.r
    const tagAt = r.pos
    const tag = r.byte()
    let op: Op
    switch (tag) {
      case OpTag.placeOrder: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        op = { type: 'placeOrder', account, signer: ZERO_ADDRESS, nonce, order: this.order(timestampMs) }
        break
      }
      case OpTag.cancelOrder: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        const marketId = r.uvarint()
        const orderId = r.uvarint()
        const clientOrderId = r.uvarintBig()
        op = { type: 'cancelOrder', account, signer: ZERO_ADDRESS, nonce, marketId, orderId, clientOrderId }
        break
      }
      case OpTag.cancelAll: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        const marketId = r.uvarint()
        op = {
          type: 'cancelAll',
          account,
          signer: ZERO_ADDRESS,
          nonce,
          marketId: marketId === ALL_MARKETS ? null : marketId,
        }
        break
      }
      case OpTag.modifyOrder: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        const marketId = r.uvarint()
        const orderId = r.uvarint()
        const newPriceTicks = r.uvarint()
        const newSizeLots = r.uvarint()
        op = {
          type: 'modifyOrder',
          account,
          signer: ZERO_ADDRESS,
          nonce,
          marketId,
          orderId,
          newPriceTicks,
          newSizeLots,
        }
        break
      }
      case OpTag.withdraw: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        op = { type: 'withdraw', account, signer: ZERO_ADDRESS, nonce, amountQuantums: r.uvarintBig() }
        break
      }
      case OpTag.approveAgent: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        const agent = this.address()
        const expiresAtMs = this.time(timestampMs)
        op = { type: 'approveAgent', account, signer: ZERO_ADDRESS, nonce, agent, expiresAtMs }
        break
      }
      case OpTag.revokeAgent: {
        const account = this.address()
        const nonce = this.time(timestampMs)
        op = { type: 'revokeAgent', account, signer: ZERO_ADDRESS, nonce, agent: this.address() }
        break
      }
      case OpTag.deposit:
      case OpTag.forcedWithdrawal: {
        const account = this.address()
        const amountQuantums = r.uvarintBig()
        const inboxIndex = r.uvarint()
        const type = tag === OpTag.deposit ? 'deposit' : 'forcedWithdrawal'
        return {
          seq,
          timestampMs,
          op: { type, account, amountQuantums, inboxIndex },
          signature: null,
          observationSignatures: NO_SIGNATURES,
        }
      }
      case OpTag.oracleUpdate:
        return this.oracleUpdate(seq, timestampMs)
      case OpTag.timeAdvance:
        return {
          seq,
          timestampMs,
          op: { type: 'timeAdvance' },
          signature: null,
          observationSignatures: NO_SIGNATURES,
        }
      default:
        throw r.fail('BAD_TAG', tagAt, `unknown op tag 0x${HEX_BYTE[tag]}`)
    }
    return { seq, timestampMs, op, signature: this.signature(), observationSignatures: NO_SIGNATURES }
  }

  private order(timestampMs: number): OrderParams {
    const r = this.r
    const flagsAt = r.pos
    const flags = r.byte()
    const flags2 = r.byte()
    const kind = (flags >> ORDER_KIND_SHIFT) & ORDER_KIND_MASK
    if (kind > MAX_ORDER_KIND) throw r.fail('BAD_ENUM', flagsAt, `order kind ${kind}`)
    const stp = flags2 & ORDER_STP_MASK
    if (stp > MAX_STP) throw r.fail('BAD_ENUM', flagsAt + 1, `self-trade prevention ${stp}`)
    if ((flags2 & ORDER_RESERVED_BITS) !== 0)
      throw r.fail('RESERVED_BITS', flagsAt + 1, 'reserved order flags set')
    const marketId = r.uvarint()
    const priceTicks = r.uvarint()
    const sizeLots = r.uvarint()
    let triggerPriceTicks = 0
    if ((flags2 & ORDER_HAS_TRIGGER) !== 0) {
      const at = r.pos
      triggerPriceTicks = r.uvarint()
      if (triggerPriceTicks === 0) throw r.fail('NON_CANONICAL', at, 'trigger flagged present but zero')
    }
    let clientOrderId = 0n
    if ((flags2 & ORDER_HAS_CLIENT_ORDER_ID) !== 0) {
      const at = r.pos
      clientOrderId = r.uvarintBig()
      if (clientOrderId === 0n) throw r.fail('NON_CANONICAL', at, 'client order id flagged present but zero')
    }
    let expiresAtMs = 0
    if ((flags2 & ORDER_HAS_EXPIRY) !== 0) {
      const at = r.pos
      expiresAtMs = this.time(timestampMs)
      if (expiresAtMs === 0) throw r.fail('NON_CANONICAL', at, 'expiry flagged present but zero')
    }
    return {
      marketId,
      side: (flags & ORDER_FLAG_SELL) as Side,
      kind: kind as OrderKind,
      tif: ((flags >> ORDER_TIF_SHIFT) & ORDER_TIF_MASK) as TimeInForce,
      priceTicks,
      sizeLots,
      triggerPriceTicks,
      reduceOnly: (flags & ORDER_FLAG_REDUCE_ONLY) !== 0,
      postOnly: (flags & ORDER_FLAG_POST_ONLY) !== 0,
      stp: stp as SelfTradePrevention,
      clientOrderId,
      expiresAtMs,
    }
  }

  private oracleUpdate(seq: number, timestampMs: number): SignedEntry {
    const r = this.r
    const oracleId = r.uvarint()
    const countAt = r.pos
    const count = r.uvarint()
    // Each observation takes at least 2 + 65 bytes; rounded down.
    if (count > Math.floor(r.remaining / (2 + SIGNATURE_BYTES))) {
      throw r.fail('TRUNCATED', countAt, `${count} observations cannot fit`)
    }
    const observations: PriceObservation[] = new Array(count)
    const observationSignatures: Uint8Array[] = new Array(count)
    for (let k = 0; k < count; k++) {
      const priceTicks = r.uvarint()
      const publishTimeMs = this.time(timestampMs)
      observations[k] = { signer: ZERO_ADDRESS, priceTicks, publishTimeMs }
      observationSignatures[k] = this.signature()
    }
    return {
      seq,
      timestampMs,
      op: { type: 'oracleUpdate', oracleId, observations },
      signature: null,
      observationSignatures,
    }
  }
}
