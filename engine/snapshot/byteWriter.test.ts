import fc from 'fast-check'
import { type Address, bytesToHex, encodePacked } from 'viem'
import { describe, expect, it } from 'vitest'
import { ByteReader, SnapshotFormatError } from './byteReader.ts'
import { ByteWriter } from './byteWriter.ts'

const SAFE = Number.MAX_SAFE_INTEGER
const arbInt256 = fc.bigInt({ min: -(1n << 255n), max: (1n << 255n) - 1n })
const arbAnyBig = fc.oneof(
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  arbInt256,
  fc.constantFrom(0n, -1n, 1n),
)
const arbAddress = fc
  .tuple(
    fc.uint8Array({ minLength: 20, maxLength: 20 }),
    fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  )
  .map(([bytes, upper]) => {
    const hex = bytesToHex(bytes).slice(2)
    let s = '0x'
    for (let i = 0; i < 40; i++) s += upper[i] ? hex[i]!.toUpperCase() : hex[i]!
    return s as Address
  })

describe('ByteWriter fixed-width fields', () => {
  it('writes int64, int256, uint32, uint8 and address exactly as encodePacked does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -SAFE, max: SAFE }),
        arbInt256,
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 255 }),
        arbAddress,
        (a, b, c, d, e) => {
          const w = new ByteWriter(1)
          w.i64(a)
          w.i256(b)
          w.u32(c)
          w.u8(d)
          w.address(e)
          const expected = encodePacked(
            ['int64', 'int256', 'uint32', 'uint8', 'address'],
            [BigInt(a), b, c, d, e.toLowerCase() as Address],
          )
          expect(bytesToHex(w.finish())).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('throws on values outside the type instead of truncating', () => {
    const w = new ByteWriter()
    expect(() => w.i64(0.5)).toThrow()
    expect(() => w.i64(SAFE + 1)).toThrow()
    expect(() => w.i64(Number.NaN)).toThrow()
    expect(() => w.i256(1n << 255n)).toThrow()
    expect(() => w.i256(-(1n << 255n) - 1n)).toThrow()
    expect(() => w.u32(2 ** 32)).toThrow()
    expect(() => w.u8(-1)).toThrow()
    expect(() => w.address('0x1234' as Address)).toThrow()
    expect(() => w.address('0xzz00000000000000000000000000000000000000' as Address)).toThrow()
    expect(() => w.varUint(-1)).toThrow()
    expect(() => w.varInt(2 ** 52)).toThrow()
    expect(() => w.varBig(1n << 256n)).toThrow()
  })
})

describe('ByteWriter variable-length fields round-trip through ByteReader', () => {
  it('varUint, varInt, varBig, addressExact', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.nat({ max: SAFE }).map((v) => ['u', v] as const),
            fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }).map((v) => ['i', v] as const),
            arbAnyBig.map((v) => ['b', v] as const),
            arbAddress.map((v) => ['a', v] as const),
          ),
          { maxLength: 30 },
        ),
        (items) => {
          const w = new ByteWriter(1)
          for (const [k, v] of items) {
            if (k === 'u') w.varUint(v)
            else if (k === 'i') w.varInt(v)
            else if (k === 'b') w.varBig(v)
            else w.addressExact(v)
          }
          const r = new ByteReader(w.finish())
          for (const [k, v] of items) {
            const back =
              k === 'u' ? r.varUint() : k === 'i' ? r.varInt() : k === 'b' ? r.varBig() : r.addressExact()
            expect(back).toBe(v)
          }
          expect(r.remaining).toBe(0)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('uses the documented byte forms', () => {
    const w = new ByteWriter()
    w.varUint(300)
    w.varInt(-1)
    w.varInt(1)
    w.varBig(-0x1234n)
    w.varBig(0n)
    expect(bytesToHex(w.finish())).toBe('0xac02010282123400')
  })

  it('rejects truncated and non-canonical input', () => {
    expect(() => new ByteReader(new Uint8Array([0x80])).varUint()).toThrow(SnapshotFormatError)
    expect(() => new ByteReader(new Uint8Array([0x80, 0x00])).varUint()).toThrow(/non-canonical/)
    expect(() => new ByteReader(new Uint8Array([0x02, 0x00, 0x01])).varBig()).toThrow(/non-canonical/)
    expect(() => new ByteReader(new Uint8Array([0x80])).varBig()).toThrow(/negative zero/)
    expect(() => new ByteReader(new Uint8Array([0x21])).varBig()).toThrow(SnapshotFormatError)
    expect(() => new ByteReader(new Uint8Array([0x02])).bool()).toThrow(SnapshotFormatError)
    expect(() => new ByteReader(new Uint8Array(new Array(9).fill(0xff))).varUint()).toThrow(
      SnapshotFormatError,
    )
  })
})
