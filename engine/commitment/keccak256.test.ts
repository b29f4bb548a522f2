import { keccak_256 } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { keccak256, keccak256Pair, keccak256PairsInto, keccak256Twice } from './keccak256.ts'
import { roundConstants } from './keccakWasm.ts'

const hex = bytesToHex

describe('keccak256', () => {
  it('matches the published digests of the empty string and "abc"', () => {
    expect(hex(keccak256(new Uint8Array(0)))).toBe(
      '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    )
    expect(hex(keccak256(new TextEncoder().encode('abc')))).toBe(
      '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45',
    )
  })

  it('derives the spec round constants', () => {
    const rc = roundConstants()
    expect(rc).toHaveLength(24)
    expect(rc[0]).toBe(0x1n)
    expect(rc[1]).toBe(0x8082n)
    expect(rc[2]).toBe(0x800000000000808an)
    expect(rc[23]).toBe(0x8000000080008008n)
  })

  it('equals @noble/hashes at every padding boundary and across input chunks', () => {
    const lengths = [0, 1, 31, 32, 33, 63, 64, 65, 95, 96, 135, 136, 137, 160, 192, 271, 272, 273]
    lengths.push(65_415, 65_416, 65_417, 131_000, 200_003)
    for (const n of lengths) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff)
      expect(hex(keccak256(data)), `length ${n}`).toBe(hex(keccak_256(data)))
    }
  })

  it('equals @noble/hashes on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        expect(hex(keccak256(data))).toBe(hex(keccak_256(data)))
      }),
      { numRuns: 300 },
    )
  })

  it('hashes subarrays by their own bytes, not their buffer', () => {
    const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
    const view = big.subarray(17, 17 + 140)
    expect(hex(keccak256(view))).toBe(hex(keccak_256(view.slice())))
  })

  it('keccak256Pair and keccak256Twice equal their definitions', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        (left, right, data) => {
          const both = new Uint8Array(64)
          both.set(left)
          both.set(right, 32)
          expect(hex(keccak256Pair(left, right))).toBe(hex(keccak_256(both)))
          expect(hex(keccak256Twice(data))).toBe(hex(keccak_256(keccak_256(data))))
          const ninetySix = new Uint8Array(96)
          ninetySix.set(both)
          ninetySix.set(left, 64)
          expect(hex(keccak256Twice(ninetySix))).toBe(hex(keccak_256(keccak_256(ninetySix))))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('keccak256Pair accepts parts that are not 32 bytes', () => {
    const left = new Uint8Array([1, 2, 3])
    const right = new Uint8Array(70).fill(9)
    const both = new Uint8Array(73)
    both.set(left)
    both.set(right, 3)
    expect(hex(keccak256Pair(left, right))).toBe(hex(keccak_256(both)))
  })

  it('keccak256PairsInto hashes a level at offsets, across call chunks', () => {
    const count = 2_500 // more than one WebAssembly call's worth of pairs
    const src = Uint8Array.from({ length: 64 * count + 64 }, (_, i) => (i * 7) & 0xff)
    const dst = new Uint8Array(32 * count + 32).fill(0xee)
    keccak256PairsInto(src, 64, count, dst, 32)
    expect(dst.subarray(0, 32).every((b) => b === 0xee)).toBe(true)
    for (const i of [0, 1, 1023, 1024, 2047, 2048, count - 1]) {
      const expected = keccak_256(src.subarray(64 + 64 * i, 128 + 64 * i))
      expect(hex(dst.subarray(32 + 32 * i, 64 + 32 * i))).toBe(hex(expected))
    }
    expect(() => keccak256PairsInto(src, 128, count, dst, 0)).toThrow(RangeError)
  })

  it('keccak256PairsInto hashes odd and even counts alike (two messages per SIMD pass, one left over)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(9), fc.constantFrom(1023, 1025, 2049)), fc.nat(255), (count, seed) => {
        const src = Uint8Array.from({ length: 64 * count }, (_, i) => (i * 13 + seed) & 0xff)
        const dst = new Uint8Array(32 * count)
        keccak256PairsInto(src, 0, count, dst, 0)
        for (let i = 0; i < count; i++) {
          const expected = keccak_256(src.subarray(64 * i, 64 * i + 64))
          expect(hex(dst.subarray(32 * i, 32 * i + 32)), `message ${i} of ${count}`).toBe(hex(expected))
        }
      }),
      { numRuns: 15 },
    )
  })
})
