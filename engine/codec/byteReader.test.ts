import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteReader } from './byteReader.ts'
import { ByteWriter } from './byteWriter.ts'
import { CodecError } from './codecError.ts'

const MAX_U64 = (1n << 64n) - 1n

function write(f: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(1)
  f(w)
  return w.finish()
}
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Minimal LEB128 length: one byte per started group of 7 bits. */
function expectedLength(v: bigint): number {
  let n = 1
  for (let x = v >> 7n; x > 0n; x >>= 7n) n++
  return n
}

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (e instanceof CodecError) return e.code
    throw e
  }
  return 'OK'
}

describe('varints', () => {
  it('match published LEB128 examples', () => {
    // 624485 -> e5 8e 26 is the worked example of the LEB128 article on Wikipedia.
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [624_485, 'e58e26'],
      [2 ** 31, '8080808008'],
      [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    ]
    for (const [v, hex] of cases) {
      expect(toHex(write((w) => w.uvarint(v)))).toBe(hex)
      expect(toHex(write((w) => w.uvarintBig(BigInt(v))))).toBe(hex)
      expect(new ByteReader(fromHex(hex)).uvarint()).toBe(v)
    }
    expect(toHex(write((w) => w.uvarintBig(MAX_U64)))).toBe('ffffffffffffffffff01')
    expect(new ByteReader(fromHex('ffffffffffffffffff01')).uvarintBig()).toBe(MAX_U64)
  })

  it('round-trip every safe integer with the minimal length', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const bytes = write((w) => w.uvarint(v))
        expect(bytes.length).toBe(expectedLength(BigInt(v)))
        const r = new ByteReader(bytes)
        expect(r.uvarint()).toBe(v)
        expect(r.remaining).toBe(0)
      }),
      { numRuns: 2000 },
    )
  })

  it('round-trip every uint64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_U64 }), (v) => {
        const bytes = write((w) => w.uvarintBig(v))
        expect(bytes.length).toBe(expectedLength(v))
        expect(new ByteReader(bytes).uvarintBig()).toBe(v)
        expect(codeOf(() => new ByteReader(bytes).uvarint())).toBe(
          v > BigInt(Number.MAX_SAFE_INTEGER) ? 'VARINT_OVERFLOW' : 'OK',
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('zigzag maps 0, -1, 1, -2, 2 to 0, 1, 2, 3, 4 and round-trips every safe integer', () => {
    expect([0, -1, 1, -2, 2].map((v) => toHex(write((w) => w.zigzag(v))))).toEqual([
      '00',
      '01',
      '02',
      '03',
      '04',
    ])
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const bytes = write((w) => w.zigzag(v))
        const z = v >= 0 ? 2n * BigInt(v) : -2n * BigInt(v) - 1n
        expect(toHex(bytes)).toBe(toHex(write((w) => w.uvarintBig(z))))
        expect(new ByteReader(bytes).zigzag()).toBe(v)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuse non-minimal, overlong, oversized and cut-short varints', () => {
    const uvarint = (hex: string) => codeOf(() => new ByteReader(fromHex(hex)).uvarint())
    const uvarintBig = (hex: string) => codeOf(() => new ByteReader(fromHex(hex)).uvarintBig())
    expect(uvarint('8000')).toBe('NON_CANONICAL')
    expect(uvarint('ff7f')).toBe('OK')
    expect(uvarint('ff8000')).toBe('NON_CANONICAL')
    expect(uvarintBig('80808080808080808000')).toBe('NON_CANONICAL')
    expect(uvarint('8080808080808010')).toBe('VARINT_OVERFLOW') // 2^53
    expect(uvarintBig('ffffffffffffffffff02')).toBe('VARINT_OVERFLOW') // 2^64 and above
    expect(uvarintBig('8080808080808080808001')).toBe('VARINT_OVERFLOW') // 11 bytes
    expect(uvarint('')).toBe('TRUNCATED')
    expect(uvarint('80')).toBe('TRUNCATED')
    expect(uvarintBig('ffffffffffffffffff')).toBe('TRUNCATED')
    expect(codeOf(() => new ByteReader(fromHex('feffffffffffffffff01')).zigzag())).toBe('VALUE_OUT_OF_RANGE')
  })

  it('decode any bytes to a value or a CodecError, never anything else', () => {
    /** Whatever was accepted re-encodes to exactly the bytes consumed. */
    function check<T>(bytes: Uint8Array, read: (r: ByteReader) => T, rewrite: (w: ByteWriter, v: T) => void) {
      const r = new ByteReader(bytes)
      let value: T
      try {
        value = read(r)
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError)
        return
      }
      expect(toHex(write((w) => rewrite(w, value)))).toBe(toHex(bytes.subarray(0, r.pos)))
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        check(
          bytes,
          (r) => r.uvarint(),
          (w, v) => w.uvarint(v),
        )
        check(
          bytes,
          (r) => r.uvarintBig(),
          (w, v) => w.uvarintBig(v),
        )
        check(
          bytes,
          (r) => r.zigzag(),
          (w, v) => w.zigzag(v),
        )
      }),
      { numRuns: 3000 },
    )
  })
})
