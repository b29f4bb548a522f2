import type { Address } from 'viem'

const latin1 = new TextDecoder('latin1')

/** Reads what `ByteWriter` wrote. Any read past the end, or a malformed value, throws `SnapshotFormatError`. */
export class ByteReader {
  readonly bytes: Uint8Array
  readonly view: DataView
  offset = 0
  /** "0x" and 40 hex digits, as character codes. */
  readonly #chars = new Uint8Array(42).fill(48)

  constructor(bytes: Uint8Array) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#chars[1] = 120 // x
  }

  get remaining(): number {
    return this.bytes.length - this.offset
  }

  need(n: number): void {
    if (this.offset + n > this.bytes.length) {
      throw new SnapshotFormatError(`truncated: need ${n} bytes at offset ${this.offset}`)
    }
  }

  u8(): number {
    this.need(1)
    return this.bytes[this.offset++]!
  }

  bool(): boolean {
    const b = this.u8()
    if (b > 1) throw new SnapshotFormatError(`bad boolean ${b} at offset ${this.offset - 1}`)
    return b === 1
  }

  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.offset)
    this.offset += 4
    return v
  }

  raw(n: number): Uint8Array {
    this.need(n)
    const out = this.bytes.slice(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  /** 20 address bytes then the 5-byte upper-case mask of `ByteWriter.addressExact`. */
  addressExact(): Address {
    this.need(25)
    const bytes = this.bytes
    const at = this.offset
    const maskAt = at + 20
    const chars = this.#chars
    for (let i = 0; i < 40; i++) {
      const b = bytes[at + (i >>> 1)]!
      const nibble = (i & 1) === 0 ? b >>> 4 : b & 15
      const upper = (bytes[maskAt + (i >>> 3)]! & (0x80 >>> (i & 7))) !== 0
      if (upper && nibble < 10) throw new SnapshotFormatError(`upper-case mark on a digit at offset ${at}`)
      chars[2 + i] = nibble < 10 ? 48 + nibble : (upper ? 55 : 87) + nibble
    }
    this.offset += 25
    // One decode gives a flat string: concatenating 40 pieces would leave a rope to flatten at every map lookup.
    return latin1.decode(chars) as Address
  }

  /** When the next `n` bytes equal those at `from`, skips them and returns true. */
  repeats(from: number, n: number): boolean {
    if (this.offset + n > this.bytes.length) return false
    const bytes = this.bytes
    for (let i = 0; i < n; i++) if (bytes[from + i] !== bytes[this.offset + i]) return false
    this.offset += n
    return true
  }

  varUint(): number {
    let value = 0
    let scale = 1
    for (;;) {
      const b = this.u8()
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (b === 0 && scale > 1)
          throw new SnapshotFormatError(`non-canonical varint at offset ${this.offset}`)
        break
      }
      scale *= 0x80
      if (scale > 2 ** 49) throw new SnapshotFormatError(`varint too long at offset ${this.offset}`)
    }
    if (!Number.isSafeInteger(value))
      throw new SnapshotFormatError(`varint not a safe integer at ${this.offset}`)
    return value
  }

  varInt(): number {
    const z = this.varUint()
    // floor: zigzag stores |v| in the high bits and the sign in bit 0.
    const half = Math.floor(z / 2)
    return z % 2 === 0 ? half : -half - 1
  }

  varBig(): bigint {
    const head = this.u8()
    const n = head & 0x7f
    if (n > 32) throw new SnapshotFormatError(`bigint of ${n} bytes at offset ${this.offset - 1}`)
    this.need(n)
    const bytes = this.bytes
    if (n > 0 && bytes[this.offset] === 0) {
      throw new SnapshotFormatError(`non-canonical bigint at offset ${this.offset}`)
    }
    if (n === 0 && head !== 0) throw new SnapshotFormatError(`negative zero at offset ${this.offset - 1}`)
    let magnitude = 0n
    if (n <= 6) {
      // Up to 48 bits: exact in a double, one bigint conversion.
      let m = 0
      for (let i = 0; i < n; i++) m = m * 256 + bytes[this.offset + i]!
      magnitude = BigInt(m)
    } else {
      for (let i = 0; i < n; i++) magnitude = (magnitude << 8n) | BigInt(bytes[this.offset + i]!)
    }
    this.offset += n
    return (head & 0x80) !== 0 ? -magnitude : magnitude
  }
}

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError'
}
