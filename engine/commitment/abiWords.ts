import type { Address } from 'viem'

/**
 * Writers for 32-byte ABI words (the head encoding of static types in `abi.encode`), straight into a
 * caller's buffer. Hand-written because leaves are built a million at a time; tests check them against
 * viem's encodeAbiParameters.
 */

const MAX_UINT256 = (1n << 256n) - 1n
const MASK_64 = (1n << 64n) - 1n

// Value of each ASCII hex digit, -1 for every other code below 128.
const NIBBLE = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i
  NIBBLE[97 + i] = 10 + i
}

// The last address parsed, and its bytes. A leaf parses its account's address, and the account data
// usually parses the same string again as the signer of the account's own nonce window.
let memoAddress = ''
const memoBytes = new Uint8Array(20)

/** The 20 address bytes at `offset`. Case is ignored (no checksum check). */
export function writeAddressBytes(buf: Uint8Array, offset: number, address: Address): void {
  if (address !== memoAddress) {
    if (address.length !== 42 || address.charCodeAt(0) !== 48 || (address.charCodeAt(1) | 32) !== 120) {
      throw new Error(`commitment: not a 20-byte hex address: ${address}`)
    }
    // Cleared first, so that a failed parse leaves no stale memo behind.
    memoAddress = ''
    let bad = 0
    for (let i = 0; i < 20; i++) {
      // A non-digit makes `bad` negative; a code of 128 or more keeps high bits that push it past 15.
      const hiCode = address.charCodeAt(2 + 2 * i)
      const loCode = address.charCodeAt(3 + 2 * i)
      const hi = NIBBLE[hiCode & 127]! | (hiCode & ~127)
      const lo = NIBBLE[loCode & 127]! | (loCode & ~127)
      bad |= hi | lo
      memoBytes[i] = (hi << 4) | lo
    }
    if (bad < 0 || bad > 15) throw new Error(`commitment: not a 20-byte hex address: ${address}`)
    memoAddress = address
  }
  for (let i = 0; i < 20; i++) buf[offset + i] = memoBytes[i]!
}

/** `address`: 12 zero bytes, then the 20 address bytes. Case is ignored (no checksum check). */
export function writeAddressWord(buf: Uint8Array, offset: number, address: Address): void {
  buf.fill(0, offset, offset + 12)
  writeAddressBytes(buf, offset + 12, address)
}

/** `uint256`: big-endian. Throws outside [0, 2^256): a value the protocol cannot represent is a broken invariant. */
export function writeUint256Word(view: DataView, offset: number, value: bigint): void {
  if (value < 0n || value > MAX_UINT256) throw new Error(`commitment: uint256 out of range: ${value}`)
  if (value <= MASK_64) {
    // The common case: one bigint conversion instead of four.
    view.setBigUint64(offset, 0n)
    view.setBigUint64(offset + 8, 0n)
    view.setBigUint64(offset + 16, 0n)
    view.setBigUint64(offset + 24, value)
    return
  }
  view.setBigUint64(offset, value >> 192n)
  view.setBigUint64(offset + 8, (value >> 128n) & MASK_64)
  view.setBigUint64(offset + 16, (value >> 64n) & MASK_64)
  view.setBigUint64(offset + 24, value & MASK_64)
}

/** `uint256` from a safe non-negative integer. */
export function writeUint256WordFromNumber(view: DataView, offset: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`commitment: not a safe uint: ${value}`)
  view.setUint32(offset, 0)
  view.setUint32(offset + 4, 0)
  view.setBigUint64(offset + 8, 0n)
  view.setBigUint64(offset + 16, 0n)
  // Split at 2^32: exact, since value < 2^53 (floor division by a power of two).
  view.setUint32(offset + 24, Math.floor(value / 0x1_0000_0000))
  view.setUint32(offset + 28, value >>> 0)
}

/** `bytes32`: the 32 bytes as they are. */
export function writeBytes32Word(buf: Uint8Array, offset: number, bytes: Uint8Array): void {
  if (bytes.length !== 32) throw new Error(`commitment: bytes32 must be 32 bytes, got ${bytes.length}`)
  buf.set(bytes, offset)
}
