import { CodecError } from './codecError.ts'

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Reads the codec's primitives, turning every way they can be malformed into a CodecError.
 *
 * INVARIANT (canonical varints): a varint is at most 10 bytes; its last byte is non-zero unless it is
 * the only byte (so no value has two encodings); the 10th byte is 0 or 1 (so the value is below 2^64).
 */
export class ByteReader {
  pos = 0
  /** Entry being read, for error messages; null in the header. */
  entryIndex: number | null = null

  /** A private copy of the input: views into it (see `take`) never alias the caller's buffer. */
  readonly bytes: Uint8Array

  constructor(input: Uint8Array) {
    this.bytes = input.slice()
  }

  get remaining(): number {
    return this.bytes.length - this.pos
  }

  fail(code: CodecError['code'], offset: number, details: string): CodecError {
    return new CodecError(code, offset, this.entryIndex, details)
  }

  byte(): number {
    const b = this.bytes[this.pos]
    if (b === undefined) throw this.fail('TRUNCATED', this.pos, 'input ends before a one-byte field')
    this.pos++
    return b
  }

  /** A copy, so decoded values never alias the caller's buffer. */
  take(n: number): Uint8Array {
    const start = this.pos
    if (n > this.bytes.length - start)
      throw this.fail('TRUNCATED', start, `input ends inside a ${n}-byte field`)
    this.pos = start + n
    return this.bytes.slice(start, start + n)
  }

  /** A varint that must fit a safe integer. */
  uvarint(): number {
    const start = this.pos
    const small = this.small(start)
    if (small >= 0) return small
    const value = this.big(start)
    if (value > MAX_SAFE_BIG) throw this.fail('VARINT_OVERFLOW', start, 'value exceeds MAX_SAFE_INTEGER')
    return Number(value)
  }

  /** A varint in [0, 2^64 - 1]. */
  uvarintBig(): bigint {
    const start = this.pos
    const small = this.small(start)
    return small >= 0 ? BigInt(small) : this.big(start)
  }

  /** A zigzag varint whose value must be a safe integer of either sign. */
  zigzag(): number {
    const start = this.pos
    const z = this.small(start)
    // z < 2^49 here, so (z + 1) / 2 is exact.
    if (z >= 0) return z % 2 === 0 ? z / 2 : -(z + 1) / 2
    const zBig = this.big(start)
    const value = (zBig & 1n) === 0n ? zBig >> 1n : -((zBig + 1n) >> 1n)
    if (value > MAX_SAFE_BIG || value < -MAX_SAFE_BIG) {
      throw this.fail('VALUE_OUT_OF_RANGE', start, 'signed value exceeds MAX_SAFE_INTEGER')
    }
    return Number(value)
  }

  /**
   * Fast path: a varint of at most 7 bytes (value < 2^49, exact in a double). Returns -1, reading
   * nothing, when the varint is longer, so the exact bigint path takes over.
   */
  private small(start: number): number {
    const bytes = this.bytes
    let b = bytes[start]
    if (b === undefined) throw this.fail('TRUNCATED', start, 'input ends inside a varint')
    if (b < 0x80) {
      this.pos = start + 1
      return b
    }
    let value = b & 0x7f
    let scale = 0x80
    for (let i = 1; i < 7; i++) {
      b = bytes[start + i]
      if (b === undefined) throw this.fail('TRUNCATED', start, 'input ends inside a varint')
      value += (b & 0x7f) * scale
      if (b < 0x80) {
        if (b === 0) throw this.fail('NON_CANONICAL', start, 'varint has a redundant zero byte')
        this.pos = start + i + 1
        return value
      }
      scale *= 0x80
    }
    return -1
  }

  private big(start: number): bigint {
    const bytes = this.bytes
    let value = 0n
    for (let i = 0; i < 10; i++) {
      const b = bytes[start + i]
      if (b === undefined) throw this.fail('TRUNCATED', start, 'input ends inside a varint')
      if (i === 9 && b > 1) throw this.fail('VARINT_OVERFLOW', start, 'varint exceeds 2^64 - 1')
      value |= BigInt(b & 0x7f) << BigInt(7 * i)
      if (b < 0x80) {
        if (b === 0 && i > 0) throw this.fail('NON_CANONICAL', start, 'varint has a redundant zero byte')
        this.pos = start + i + 1
        return value
      }
    }
    // Unreachable: the 10th byte either ends the varint or fails the check above.
    throw this.fail('VARINT_OVERFLOW', start, 'varint exceeds 2^64 - 1')
  }
}
