import type { Address } from 'viem'
import { keccak256 } from '../commitment/keccak256.ts'
import { ALL_MARKETS, type UserOp } from '../ops.ts'
import { eip712DomainType, eip712Types } from './eip712Types.ts'
import { encodeType } from './encodeType.ts'
import { SIGNING_DOMAIN_NAME, SIGNING_DOMAIN_VERSION } from './signingDomain.ts'

/**
 * The engine's fast EIP-712 digests: equal to viem's `hashTypedData` byte for byte, without hex
 * strings or ABI encoders. Each struct has a preallocated buffer of 32-byte words whose first word is
 * its type hash; a slot always holds the same type, so bytes a narrow type never writes stay zero
 * from allocation. Sync, single-threaded use makes the shared buffers safe.
 *
 * Out-of-range fields throw RangeError (viem also throws on them); address checksums are not
 * verified (the encoding is case-insensitive).
 */

const WORD = 32
const MAX_UINT8 = 0xff
const MAX_UINT32 = 0xffff_ffff
const MAX_UINT64_BIG = (1n << 64n) - 1n
const MAX_UINT256_BIG = (1n << 256n) - 1n
const TWO_POW_32 = 0x1_0000_0000

const utf8 = new TextEncoder()

interface StructBuffer {
  bytes: Uint8Array
  view: DataView
}

function structBuffer(
  primaryType: string,
  fields: readonly { readonly name: string; readonly type: string }[],
): StructBuffer {
  const bytes = new Uint8Array(WORD * (1 + fields.length))
  bytes.set(keccak256(utf8.encode(encodeType(primaryType, fields))), 0)
  return { bytes, view: new DataView(bytes.buffer) }
}

const placeOrderBuf = structBuffer('PlaceOrder', eip712Types.placeOrder.types.PlaceOrder)
const cancelOrderBuf = structBuffer('CancelOrder', eip712Types.cancelOrder.types.CancelOrder)
const cancelAllBuf = structBuffer('CancelAll', eip712Types.cancelAll.types.CancelAll)
const modifyOrderBuf = structBuffer('ModifyOrder', eip712Types.modifyOrder.types.ModifyOrder)
const withdrawBuf = structBuffer('Withdraw', eip712Types.withdraw.types.Withdraw)
const approveAgentBuf = structBuffer('ApproveAgent', eip712Types.approveAgent.types.ApproveAgent)
const revokeAgentBuf = structBuffer('RevokeAgent', eip712Types.revokeAgent.types.RevokeAgent)
const observationBuf = structBuffer('PriceObservation', eip712Types.priceObservation.types.PriceObservation)
const domainBuf = structBuffer('EIP712Domain', eip712DomainType)
const NAME_HASH = keccak256(utf8.encode(SIGNING_DOMAIN_NAME))
const VERSION_HASH = keccak256(utf8.encode(SIGNING_DOMAIN_VERSION))

/** 0x1901 ‖ domainSeparator ‖ structHash. */
const envelope = new Uint8Array(2 + 2 * WORD)
envelope[0] = 0x19
envelope[1] = 0x01

/** keccak256(encode(EIP712Domain{name: 'SCE', version: '1', chainId, verifyingContract: settlement})). */
export function domainSeparator(chainId: bigint, settlement: Address): Uint8Array {
  const b = domainBuf
  b.bytes.set(NAME_HASH, WORD)
  b.bytes.set(VERSION_HASH, 2 * WORD)
  putUint256(b, 3, chainId, 'domain.chainId')
  putAddress(b, 4, settlement, 'domain.verifyingContract')
  return keccak256(b.bytes)
}

/** The EIP-712 digest a user (or agent) signs for `op`; `op.signer` is not part of it. */
export function userOpDigest(op: UserOp, domainSeparator: Uint8Array): Uint8Array {
  let b: StructBuffer
  switch (op.type) {
    case 'placeOrder': {
      b = placeOrderBuf
      const o = op.order
      putUint(b, 3, o.marketId, MAX_UINT32, 'marketId')
      putUint(b, 4, o.side, MAX_UINT8, 'side')
      putUint(b, 5, o.kind, MAX_UINT8, 'kind')
      putUint(b, 6, o.tif, MAX_UINT8, 'tif')
      putUint(b, 7, o.priceTicks, Number.MAX_SAFE_INTEGER, 'priceTicks')
      putUint(b, 8, o.sizeLots, Number.MAX_SAFE_INTEGER, 'sizeLots')
      putUint(b, 9, o.triggerPriceTicks, Number.MAX_SAFE_INTEGER, 'triggerPriceTicks')
      putBool(b, 10, o.reduceOnly, 'reduceOnly')
      putBool(b, 11, o.postOnly, 'postOnly')
      putUint(b, 12, o.stp, MAX_UINT8, 'stp')
      putUint64Big(b, 13, o.clientOrderId, 'clientOrderId')
      putUint(b, 14, o.expiresAtMs, Number.MAX_SAFE_INTEGER, 'expiresAtMs')
      break
    }
    case 'cancelOrder':
      b = cancelOrderBuf
      putUint(b, 3, op.marketId, MAX_UINT32, 'marketId')
      putUint(b, 4, op.orderId, Number.MAX_SAFE_INTEGER, 'orderId')
      putUint64Big(b, 5, op.clientOrderId, 'clientOrderId')
      break
    case 'cancelAll':
      b = cancelAllBuf
      putUint(b, 3, op.marketId ?? ALL_MARKETS, MAX_UINT32, 'marketId')
      break
    case 'modifyOrder':
      b = modifyOrderBuf
      putUint(b, 3, op.marketId, MAX_UINT32, 'marketId')
      putUint(b, 4, op.orderId, Number.MAX_SAFE_INTEGER, 'orderId')
      putUint(b, 5, op.newPriceTicks, Number.MAX_SAFE_INTEGER, 'newPriceTicks')
      putUint(b, 6, op.newSizeLots, Number.MAX_SAFE_INTEGER, 'newSizeLots')
      break
    case 'withdraw':
      b = withdrawBuf
      putUint256(b, 3, op.amountQuantums, 'amountQuantums')
      break
    case 'approveAgent':
      b = approveAgentBuf
      putAddress(b, 3, op.agent, 'agent')
      putUint(b, 4, op.expiresAtMs, Number.MAX_SAFE_INTEGER, 'expiresAtMs')
      break
    case 'revokeAgent':
      b = revokeAgentBuf
      putAddress(b, 3, op.agent, 'agent')
      break
    default:
      throw new RangeError(`userOpDigest: not a user op: ${(op as { type: unknown }).type}`)
  }
  // Every user op starts with (account, nonce).
  putAddress(b, 1, op.account, 'account')
  putUint(b, 2, op.nonce, Number.MAX_SAFE_INTEGER, 'nonce')
  return finish(b, domainSeparator)
}

/** The EIP-712 digest an oracle signer signs for one observation of `oracleId`. */
export function observationDigest(
  oracleId: number,
  obs: { priceTicks: number; publishTimeMs: number },
  domainSeparator: Uint8Array,
): Uint8Array {
  const b = observationBuf
  putUint(b, 1, oracleId, MAX_UINT32, 'oracleId')
  putUint(b, 2, obs.priceTicks, Number.MAX_SAFE_INTEGER, 'priceTicks')
  putUint(b, 3, obs.publishTimeMs, Number.MAX_SAFE_INTEGER, 'publishTimeMs')
  return finish(b, domainSeparator)
}

function finish(b: StructBuffer, domainSeparator: Uint8Array): Uint8Array {
  if (domainSeparator.length !== WORD) {
    throw new RangeError(`domainSeparator must be 32 bytes, got ${domainSeparator.length}`)
  }
  envelope.set(domainSeparator, 2)
  envelope.set(keccak256(b.bytes), 2 + WORD)
  return keccak256(envelope)
}

/** A safe non-negative integer up to `max` into the low 8 bytes of word `w`. */
function putUint(b: StructBuffer, w: number, value: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in [0, ${max}], got ${String(value)}`)
  }
  const off = w * WORD + 24
  // Exact: value < 2^53, so value / 2^32 < 2^21 and truncation (rounding down) gives the high word.
  b.view.setUint32(off, Math.trunc(value / TWO_POW_32))
  b.view.setUint32(off + 4, value >>> 0)
}

function putUint64Big(b: StructBuffer, w: number, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64_BIG) {
    throw new RangeError(`${field} must be a uint64 bigint, got ${String(value)}`)
  }
  b.view.setBigUint64(w * WORD + 24, value)
}

function putUint256(b: StructBuffer, w: number, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256_BIG) {
    throw new RangeError(`${field} must be a uint256 bigint, got ${String(value)}`)
  }
  const off = w * WORD
  b.view.setBigUint64(off, value >> 192n)
  b.view.setBigUint64(off + 8, BigInt.asUintN(64, value >> 128n))
  b.view.setBigUint64(off + 16, BigInt.asUintN(64, value >> 64n))
  b.view.setBigUint64(off + 24, BigInt.asUintN(64, value))
}

function putBool(b: StructBuffer, w: number, value: boolean, field: string): void {
  if (typeof value !== 'boolean') throw new RangeError(`${field} must be a boolean, got ${String(value)}`)
  b.bytes[w * WORD + 31] = value ? 1 : 0
}

/** `0x` + 40 hex digits of either case into the low 20 bytes of word `w`. */
function putAddress(b: StructBuffer, w: number, address: string, field: string): void {
  if (
    typeof address !== 'string' ||
    address.length !== 42 ||
    address.charCodeAt(0) !== 48 ||
    address[1] !== 'x'
  ) {
    throw new RangeError(`${field} must be a 0x-prefixed 20-byte hex address, got ${String(address)}`)
  }
  const bytes = b.bytes
  const off = w * WORD + 12
  for (let i = 0; i < 20; i++) {
    const hi = nibble(address.charCodeAt(2 + 2 * i))
    const lo = nibble(address.charCodeAt(3 + 2 * i))
    if (hi < 0 || lo < 0) throw new RangeError(`${field} is not hex: ${address}`)
    bytes[off + i] = (hi << 4) | lo
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  if (c >= 97 && c <= 102) return c - 87 // a-f
  if (c >= 65 && c <= 70) return c - 55 // A-F
  return -1
}
