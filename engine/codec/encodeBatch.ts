import { ALL_MARKETS, type Op, type OrderParams, type SignedEntry } from '../ops.ts'
import type { BatchContinuity, BatchData } from './batchData.ts'
import { ByteWriter } from './byteWriter.ts'
import { CodecError, type CodecErrorCode } from './codecError.ts'
import {
  ADDRESS_BYTES,
  BATCH_MAGIC,
  CODEC_VERSION,
  MAX_ORDER_KIND,
  MAX_STP,
  MAX_TIF,
  MAX_U64,
  OpTag,
  ORDER_FLAG_POST_ONLY,
  ORDER_FLAG_REDUCE_ONLY,
  ORDER_HAS_CLIENT_ORDER_ID,
  ORDER_HAS_EXPIRY,
  ORDER_HAS_TRIGGER,
  ORDER_KIND_SHIFT,
  ORDER_TIF_SHIFT,
  SIGNATURE_BYTES,
} from './format.ts'

export type EncodeBatchErrorType = CodecError

const LOWER_HEX_ADDRESS = /^0x[0-9a-f]{40}$/

/**
 * Encodes a batch for data availability (layout: docs/protocol.md ("Batch codec")).
 * Signers are not encoded: the decoder yields ZERO_ADDRESS and the reader recovers them from the signatures.
 * Throws CodecError when the batch cannot be encoded canonically (seq gap, time going back, a value
 * out of range, an uppercase address, a missing signature...).
 */
export function encodeBatch(batch: BatchData, continuity: BatchContinuity = {}): Uint8Array {
  if (batch.version !== CODEC_VERSION)
    throw fail('BAD_VERSION', null, `unknown version ${String(batch.version)}`)
  const entries = batch.entries
  const table = buildAddressTable(entries)

  const w = new ByteWriter(16 + table.addresses.length * ADDRESS_BYTES + entries.length * 96)
  w.byte(BATCH_MAGIC)
  w.byte(CODEC_VERSION)
  w.uvarint(entries.length)

  const first = entries[0]
  if (first !== undefined) {
    const seq = u53(first.seq, 'seq', 0)
    const timestampMs = u53(first.timestampMs, 'timestampMs', 0)
    if (seq + entries.length - 1 > Number.MAX_SAFE_INTEGER) {
      throw fail('VALUE_OUT_OF_RANGE', 0, 'the last seq would exceed MAX_SAFE_INTEGER')
    }
    if (continuity.expectedFirstSeq !== undefined && seq !== continuity.expectedFirstSeq) {
      throw fail('SEQ_GAP', 0, `first seq ${seq}, expected ${continuity.expectedFirstSeq}`)
    }
    if (continuity.minFirstTimestampMs !== undefined && timestampMs < continuity.minFirstTimestampMs) {
      throw fail('TIME_BACKWARDS', 0, `first timestamp ${timestampMs} < ${continuity.minFirstTimestampMs}`)
    }
    w.uvarint(seq)
    w.uvarint(timestampMs)
  }

  w.uvarint(table.addresses.length)
  for (const address of table.addresses) w.bytes(hexToBytes(address))

  let prevSeq = 0
  let prevTimestampMs = 0
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const timestampMs = u53(entry.timestampMs, 'timestampMs', i)
    if (i > 0) {
      if (entry.seq !== prevSeq + 1) throw fail('SEQ_GAP', i, `seq ${entry.seq} after ${prevSeq}`)
      if (timestampMs < prevTimestampMs) {
        throw fail('TIME_BACKWARDS', i, `timestamp ${timestampMs} after ${prevTimestampMs}`)
      }
      w.uvarint(timestampMs - prevTimestampMs)
    }
    writeEntry(w, entry, timestampMs, table.index, i)
    prevSeq = entry.seq
    prevTimestampMs = timestampMs
  }
  return w.finish()
}

interface AddressTable {
  /** Canonical order: most referenced first, ties broken by first reference. */
  addresses: string[]
  index: Map<string, number>
}

/** The order in which addresses are visited here must match the order in which writeEntry writes them. */
function buildAddressTable(entries: readonly SignedEntry[]): AddressTable {
  const slot = new Map<string, number>()
  const addresses: string[] = []
  const counts: number[] = []
  const see = (address: string, entryIndex: number): void => {
    const s = slot.get(address)
    if (s !== undefined) {
      counts[s]!++
      return
    }
    if (typeof address !== 'string' || !LOWER_HEX_ADDRESS.test(address)) {
      throw fail('BAD_ADDRESS', entryIndex, `address ${String(address)} is not 0x + 40 lowercase hex digits`)
    }
    slot.set(address, addresses.length)
    addresses.push(address)
    counts.push(1)
  }
  for (let i = 0; i < entries.length; i++) {
    const op = entries[i]!.op
    switch (op.type) {
      case 'placeOrder':
      case 'cancelOrder':
      case 'cancelAll':
      case 'modifyOrder':
      case 'withdraw':
      case 'deposit':
      case 'forcedWithdrawal':
        see(op.account, i)
        break
      case 'approveAgent':
      case 'revokeAgent':
        see(op.account, i)
        see(op.agent, i)
        break
      case 'oracleUpdate':
      case 'timeAdvance':
        break
      default:
        throw fail('BAD_TAG', i, `unknown op type ${String((op as { type: unknown }).type)}`)
    }
  }
  // Slots are numbered by first reference, so comparing slots breaks count ties by first reference.
  const order = addresses.map((_, s) => s).sort((a, b) => counts[b]! - counts[a]! || a - b)
  const sorted = order.map((s) => addresses[s]!)
  const index = new Map<string, number>()
  for (let i = 0; i < sorted.length; i++) index.set(sorted[i]!, i)
  return { addresses: sorted, index }
}

function writeEntry(
  w: ByteWriter,
  entry: SignedEntry,
  timestampMs: number,
  index: Map<string, number>,
  i: number,
): void {
  const op: Op = entry.op
  w.byte(OpTag[op.type])
  switch (op.type) {
    case 'placeOrder':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      writeOrder(w, op.order, timestampMs, i)
      break
    case 'cancelOrder':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      w.uvarint(u53(op.marketId, 'marketId', i))
      w.uvarint(u53(op.orderId, 'orderId', i))
      w.uvarintBig(u64(op.clientOrderId, 'clientOrderId', i))
      break
    case 'cancelAll':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      if (op.marketId === ALL_MARKETS) {
        throw fail('VALUE_OUT_OF_RANGE', i, 'marketId ALL_MARKETS is written as null in a CancelAllOp')
      }
      w.uvarint(op.marketId === null ? ALL_MARKETS : u53(op.marketId, 'marketId', i))
      break
    case 'modifyOrder':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      w.uvarint(u53(op.marketId, 'marketId', i))
      w.uvarint(u53(op.orderId, 'orderId', i))
      w.uvarint(u53(op.newPriceTicks, 'newPriceTicks', i))
      w.uvarint(u53(op.newSizeLots, 'newSizeLots', i))
      break
    case 'withdraw':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      w.uvarintBig(u64(op.amountQuantums, 'amountQuantums', i))
      break
    case 'approveAgent':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      w.uvarint(index.get(op.agent)!)
      w.zigzag(u53(op.expiresAtMs, 'expiresAtMs', i) - timestampMs)
      break
    case 'revokeAgent':
      w.uvarint(index.get(op.account)!)
      w.zigzag(u53(op.nonce, 'nonce', i) - timestampMs)
      w.uvarint(index.get(op.agent)!)
      break
    case 'deposit':
    case 'forcedWithdrawal':
      w.uvarint(index.get(op.account)!)
      w.uvarintBig(u64(op.amountQuantums, 'amountQuantums', i))
      w.uvarint(u53(op.inboxIndex, 'inboxIndex', i))
      break
    case 'oracleUpdate': {
      const observations = op.observations
      if (entry.signature !== null)
        throw fail('BAD_SIGNATURE', i, 'an oracle update carries no entry signature')
      if (entry.observationSignatures.length !== observations.length) {
        throw fail('BAD_SIGNATURE', i, 'oracle update needs exactly one signature per observation')
      }
      w.uvarint(u53(op.oracleId, 'oracleId', i))
      w.uvarint(observations.length)
      for (let k = 0; k < observations.length; k++) {
        const observation = observations[k]!
        w.uvarint(u53(observation.priceTicks, 'priceTicks', i))
        w.zigzag(u53(observation.publishTimeMs, 'publishTimeMs', i) - timestampMs)
        writeSignature(w, entry.observationSignatures[k], i)
      }
      return
    }
    case 'timeAdvance':
      break
  }
  if (op.type === 'deposit' || op.type === 'forcedWithdrawal' || op.type === 'timeAdvance') {
    if (entry.signature !== null) throw fail('BAD_SIGNATURE', i, `a ${op.type} op carries no signature`)
  } else {
    writeSignature(w, entry.signature, i)
  }
  if (entry.observationSignatures.length !== 0) {
    throw fail('BAD_SIGNATURE', i, 'observation signatures belong to oracle updates only')
  }
}

function writeOrder(w: ByteWriter, order: OrderParams, timestampMs: number, i: number): void {
  const side = order.side
  const kind = order.kind
  const tif = order.tif
  const stp = order.stp
  if (side !== 0 && side !== 1) throw fail('BAD_ENUM', i, `side ${String(side)}`)
  if (!isSmallEnum(kind, MAX_ORDER_KIND)) throw fail('BAD_ENUM', i, `kind ${String(kind)}`)
  if (!isSmallEnum(tif, MAX_TIF)) throw fail('BAD_ENUM', i, `tif ${String(tif)}`)
  if (!isSmallEnum(stp, MAX_STP)) throw fail('BAD_ENUM', i, `stp ${String(stp)}`)
  if (typeof order.reduceOnly !== 'boolean') throw fail('BAD_ENUM', i, 'reduceOnly is not a boolean')
  if (typeof order.postOnly !== 'boolean') throw fail('BAD_ENUM', i, 'postOnly is not a boolean')
  const marketId = u53(order.marketId, 'marketId', i)
  const priceTicks = u53(order.priceTicks, 'priceTicks', i)
  const sizeLots = u53(order.sizeLots, 'sizeLots', i)
  const triggerPriceTicks = u53(order.triggerPriceTicks, 'triggerPriceTicks', i)
  const clientOrderId = u64(order.clientOrderId, 'clientOrderId', i)
  const expiresAtMs = u53(order.expiresAtMs, 'expiresAtMs', i)

  w.byte(
    side |
      (kind << ORDER_KIND_SHIFT) |
      (tif << ORDER_TIF_SHIFT) |
      (order.reduceOnly ? ORDER_FLAG_REDUCE_ONLY : 0) |
      (order.postOnly ? ORDER_FLAG_POST_ONLY : 0),
  )
  w.byte(
    stp |
      (triggerPriceTicks !== 0 ? ORDER_HAS_TRIGGER : 0) |
      (clientOrderId !== 0n ? ORDER_HAS_CLIENT_ORDER_ID : 0) |
      (expiresAtMs !== 0 ? ORDER_HAS_EXPIRY : 0),
  )
  w.uvarint(marketId)
  w.uvarint(priceTicks)
  w.uvarint(sizeLots)
  if (triggerPriceTicks !== 0) w.uvarint(triggerPriceTicks)
  if (clientOrderId !== 0n) w.uvarintBig(clientOrderId)
  if (expiresAtMs !== 0) w.zigzag(expiresAtMs - timestampMs)
}

function writeSignature(w: ByteWriter, signature: Uint8Array | null | undefined, i: number): void {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) {
    throw fail('BAD_SIGNATURE', i, `expected a ${SIGNATURE_BYTES}-byte signature`)
  }
  const v = signature[SIGNATURE_BYTES - 1]
  if (v !== 27 && v !== 28) throw fail('BAD_SIGNATURE_V', i, `v = ${String(v)}, expected 27 or 28`)
  w.bytes(signature)
}

function isSmallEnum(x: unknown, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max
}

function u53(x: number, field: string, i: number): number {
  if (!Number.isSafeInteger(x) || x < 0) {
    throw fail('VALUE_OUT_OF_RANGE', i, `${field} = ${String(x)} is not a safe non-negative integer`)
  }
  return x
}

function u64(x: bigint, field: string, i: number): bigint {
  if (typeof x !== 'bigint' || x < 0n || x > MAX_U64) {
    throw fail('VALUE_OUT_OF_RANGE', i, `${field} = ${String(x)} is not a uint64 bigint`)
  }
  return x
}

function fail(code: CodecErrorCode, entryIndex: number | null, details: string): CodecError {
  return new CodecError(code, -1, entryIndex, details)
}

/** Already checked to be 0x + 40 lowercase hex digits. */
function hexToBytes(address: string): Uint8Array {
  const out = new Uint8Array(ADDRESS_BYTES)
  for (let k = 0; k < ADDRESS_BYTES; k++) {
    out[k] = (nibble(address.charCodeAt(2 + 2 * k)) << 4) | nibble(address.charCodeAt(3 + 2 * k))
  }
  return out
}

/** '0'-'9' are 48-57, 'a'-'f' are 97-102. */
function nibble(charCode: number): number {
  return charCode <= 57 ? charCode - 48 : charCode - 87
}
