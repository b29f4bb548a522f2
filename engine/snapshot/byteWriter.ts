import type { Address } from 'viem'

const TWO_POW_32 = 0x1_0000_0000
const TWO_POW_256 = 1n << 256n
const INT64_MIN_BIG = -(1n << 63n)
const INT64_MAX_BIG = (1n << 63n) - 1n
const INT256_MIN = -(1n << 255n)
const INT256_MAX = (1n << 255n) - 1n
const MASK_64 = (1n << 64n) - 1n
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER)
/** Signed `number`s are zigzag-encoded as varints; outside ±2^52 the zigzag value would not be a safe integer. */
const MAX_VARINT_MAGNITUDE = 2 ** 52

/** Character code → hex digit value, or -1; bit 4 (16) marks an upper-case letter. */
const HEX_VALUE = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c
for (let c = 0; c < 6; c++) {
  HEX_VALUE[97 + c] = 10 + c
  HEX_VALUE[65 + c] = 16 | (10 + c)
}

function broken(what: string, value: unknown): Error {
  return new Error(`encoding: ${what}: ${String(value)}`)
}

/**
 * An append-only byte buffer that grows by doubling and is reused between encodings (`reset`).
 * Fixed-width writers (`u8`, `u32`, `i64`, `i256`, `address`) are big-endian and serve the state digests;
 * the variable-length ones (`varUint`, `varInt`, `varBig`) serve the compact snapshot format.
 * A value outside its type's range throws: in the engine that is a broken invariant, never data to round.
 */
export class ByteWriter {
  bytes: Uint8Array
  view: DataView
  length = 0

  constructor(initialCapacity = 256) {
    this.bytes = new Uint8Array(initialCapacity)
    this.view = new DataView(this.bytes.buffer)
  }

  reset(): void {
    this.length = 0
  }

  /** The written bytes, sharing the buffer: valid until the next write or reset. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.length)
  }

  ensure(extra: number): void {
    const need = this.length + extra
    if (need <= this.bytes.length) return
    let capacity = this.bytes.length * 2
    while (capacity < need) capacity *= 2
    const grown = new Uint8Array(capacity)
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
    this.view = new DataView(grown.buffer)
  }

  u8(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw broken('not a uint8', value)
    this.ensure(1)
    this.bytes[this.length++] = value
  }

  bool(value: boolean): void {
    this.ensure(1)
    this.bytes[this.length++] = value ? 1 : 0
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) throw broken('not a uint32', value)
    this.ensure(4)
    this.view.setUint32(this.length, value)
    this.length += 4
  }

  /** A safe integer as 8 bytes of two's complement. */
  i64(value: number): void {
    if (!Number.isSafeInteger(value)) throw broken('not a safe integer', value)
    this.ensure(8)
    // floor: value = hi * 2^32 + lo with 0 <= lo < 2^32, so hi is the signed high word.
    this.view.setInt32(this.length, Math.floor(value / TWO_POW_32))
    this.view.setUint32(this.length + 4, value >>> 0)
    this.length += 8
  }

  /** A bigint as 32 bytes of two's complement. */
  i256(value: bigint): void {
    this.ensure(32)
    const view = this.view
    const at = this.length
    if (value >= INT64_MIN_BIG && value <= INT64_MAX_BIG) {
      // The common case: one conversion, sign-filled above.
      this.bytes.fill(value < 0n ? 0xff : 0, at, at + 24)
      view.setBigInt64(at + 24, value)
    } else {
      if (value < INT256_MIN || value > INT256_MAX) throw broken('not an int256', value)
      const u = value < 0n ? value + TWO_POW_256 : value
      view.setBigUint64(at, u >> 192n)
      view.setBigUint64(at + 8, (u >> 128n) & MASK_64)
      view.setBigUint64(at + 16, (u >> 64n) & MASK_64)
      view.setBigUint64(at + 24, u & MASK_64)
    }
    this.length += 32
  }

  /** The 20 address bytes; letter case is ignored. */
  address(address: Address): void {
    this.ensure(20)
    this.#addressBytes(address, this.length, -1)
    this.length += 20
  }

  /**
   * The address bytes followed by 5 bytes whose 40 bits (most significant first) mark the upper-case hex
   * digits, so that any spelling (lower case, EIP-55 checksum, other) comes back exactly.
   */
  addressExact(address: Address): void {
    this.ensure(25)
    this.#addressBytes(address, this.length, this.length + 20)
    this.length += 25
  }

  /** Appends a copy of `n` bytes already written at `from` (a repeated field, without re-encoding it). */
  repeat(from: number, n: number): void {
    if (from < 0 || from + n > this.length) throw broken('repeat outside the written bytes', from)
    this.ensure(n)
    const bytes = this.bytes
    // A loop beats copyWithin for the few bytes this copies.
    for (let i = 0; i < n; i++) bytes[this.length + i] = bytes[from + i]!
    this.length += n
  }

  /** Writes the 20 bytes at `at`, and the upper-case mask at `maskAt` unless it is negative. */
  #addressBytes(address: Address, at: number, maskAt: number): void {
    if (address.length !== 42 || address.charCodeAt(0) !== 48 || (address.charCodeAt(1) | 32) !== 120) {
      throw broken('not a 20-byte hex address', address)
    }
    const bytes = this.bytes
    let mask = 0
    for (let i = 0; i < 20; i++) {
      const hi = HEX_VALUE[address.charCodeAt(2 + 2 * i)] ?? -1
      const lo = HEX_VALUE[address.charCodeAt(3 + 2 * i)] ?? -1
      if (hi < 0 || lo < 0) throw broken('not a 20-byte hex address', address)
      bytes[at + i] = ((hi & 15) << 4) | (lo & 15)
      // Two mask bits per byte, flushed every 4 bytes (8 hex digits).
      mask = (mask << 2) | ((hi >>> 4) << 1) | (lo >>> 4)
      if ((i & 3) === 3) {
        if (maskAt >= 0) bytes[maskAt + (i >>> 2)] = mask
        mask = 0
      }
    }
  }

  raw(data: Uint8Array): void {
    this.ensure(data.length)
    this.bytes.set(data, this.length)
    this.length += data.length
  }

  /** LEB128: 7 bits a byte, least significant group first, high bit set on all but the last byte. */
  varUint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw broken('not a safe non-negative integer', value)
    this.ensure(8)
    const bytes = this.bytes
    let at = this.length
    while (value >= 0x80) {
      bytes[at++] = (value % 0x80) | 0x80
      // floor: the remaining high groups.
      value = Math.floor(value / 0x80)
    }
    bytes[at++] = value
    this.length = at
  }

  /** Zigzag (0, -1, 1, -2, … → 0, 1, 2, 3, …) then LEB128; -2^52 <= value < 2^52 keeps the zigzag safe. */
  varInt(value: number): void {
    if (!Number.isSafeInteger(value) || value >= MAX_VARINT_MAGNITUDE || value < -MAX_VARINT_MAGNITUDE) {
      throw broken('not a varint-encodable integer', value)
    }
    this.varUint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  /** One byte `n | 0x80 when negative` (n <= 32), then the n magnitude bytes, big-endian, no leading zero. */
  varBig(value: bigint): void {
    const negative = value < 0n
    let magnitude = negative ? -value : value
    if (magnitude >> 256n !== 0n) throw broken('bigint wider than 256 bits', value)
    this.ensure(33)
    const bytes = this.bytes
    const at = this.length
    let n = 0
    if (magnitude <= MAX_SAFE_BIG) {
      // Most amounts fit a double: one conversion, then exact number arithmetic.
      let m = Number(magnitude)
      for (let x = m; x !== 0; x = Math.floor(x / 256)) n++
      for (let i = n; i >= 1; i--) {
        bytes[at + i] = m % 256
        // floor: drop the byte just written.
        m = Math.floor(m / 256)
      }
    } else {
      for (let m = magnitude; m !== 0n; m >>= 8n) n++
      for (let i = n; i >= 1; i--) {
        bytes[at + i] = Number(magnitude & 0xffn)
        magnitude >>= 8n
      }
    }
    bytes[at] = negative ? n | 0x80 : n
    this.length = at + 1 + n
  }
}
