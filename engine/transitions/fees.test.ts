import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tradeFeeExact, tradeFeeQuantums } from './fees.ts'

describe('tradeFeeExact', () => {
  it('is tradeFeeQuantums for every notional below 2^52 and every fee within ±1e6 ppm', () => {
    const notional = fc.oneof(
      fc.integer({ min: 0, max: 1_000_000_000 }),
      fc.integer({ min: 0, max: 2 ** 52 - 1 }),
      fc.integer({ min: 2 ** 52 - 10_000, max: 2 ** 52 - 1 }),
      // Near multiples of 1e6, where a quotient rounded the wrong way would show.
      fc
        .integer({ min: 1, max: 4_503_599_627 })
        .chain((k) => fc.integer({ min: -2, max: 2 }).map((d) => Math.max(0, k * 1_000_000 + d))),
    )
    const feePpm = fc.oneof(
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.constantFrom(0, 1, -1, 500, -100, 1_000_000, -1_000_000),
    )
    fc.assert(
      fc.property(notional, feePpm, (n, ppm) => {
        expect(BigInt(tradeFeeExact(n, ppm))).toBe(tradeFeeQuantums(BigInt(n), ppm))
      }),
      { numRuns: 20_000 },
    )
  })

  it('rounds fees up and rebates down', () => {
    expect(tradeFeeQuantums(1n, 500)).toBe(1n)
    expect(tradeFeeExact(1, 500)).toBe(1)
    expect(tradeFeeQuantums(1n, -100)).toBe(0n)
    expect(BigInt(tradeFeeExact(1, -100))).toBe(0n)
    expect(tradeFeeExact(3_000_001, -1_000_000)).toBe(-3_000_001)
    expect(tradeFeeExact(2_000_001, 500)).toBe(1_001)
  })
})
