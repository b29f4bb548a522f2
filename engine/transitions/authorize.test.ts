import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NonceWindowConfig } from '../config.ts'
import { checkNonce, recordNonce } from '../signing/nonceWindow.ts'
import { takeNewestNonce } from './authorize.ts'

const NOW = 1_700_000_000_000

const cfgArb: fc.Arbitrary<NonceWindowConfig> = fc.record({
  size: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(20)),
  pastMs: fc.integer({ min: 0, max: 50 }),
  futureMs: fc.integer({ min: 0, max: 50 }),
})

/** A sorted window of distinct nonces near NOW or well before it, possibly longer than the size (a lowered size). */
const windowArb = fc
  .oneof(
    fc.uniqueArray(fc.integer({ min: NOW - 60, max: NOW + 60 }), { maxLength: 24 }),
    fc.uniqueArray(fc.integer({ min: NOW - 200, max: NOW - 60 }), { maxLength: 24 }),
  )
  .map((xs) => xs.sort((a, b) => a - b))

/** Nonces anywhere near NOW, and on each edge of the time window. */
const nonceArb = (cfg: NonceWindowConfig) =>
  fc.oneof(
    fc.integer({ min: NOW - 70, max: NOW + 70 }),
    fc.constantFrom(NOW - cfg.pastMs - 1, NOW - cfg.pastMs, NOW + cfg.futureMs, NOW + cfg.futureMs + 1),
  )

describe('takeNewestNonce', () => {
  it('accepts only what checkNonce accepts, and leaves the window recordNonce would', () => {
    fc.assert(
      fc.property(
        cfgArb.chain((cfg) => fc.tuple(fc.constant(cfg), windowArb, nonceArb(cfg))),
        ([cfg, window, nonce]) => {
          const fast = [...window]
          const taken = takeNewestNonce(fast, nonce, NOW, cfg)
          if (!taken) {
            expect(fast).toEqual(window)
            return
          }
          expect(checkNonce(window, nonce, NOW, cfg)).toBeNull()
          const slow = [...window]
          recordNonce(slow, nonce, cfg)
          expect(fast).toEqual(slow)
        },
      ),
      { numRuns: 5_000 },
    )
  })

  it('takes the common case: a fresh nonce above the window', () => {
    const cfg = { size: 3, pastMs: 1_000, futureMs: 1_000 }
    const window = [NOW - 3, NOW - 2, NOW - 1]
    expect(takeNewestNonce(window, NOW, NOW, cfg)).toBe(true)
    expect(window).toEqual([NOW - 2, NOW - 1, NOW])
    expect(takeNewestNonce(window, NOW, NOW, cfg)).toBe(false)
    expect(takeNewestNonce(window, NOW + 2_000, NOW, cfg)).toBe(false)
    const short = [NOW - 5]
    expect(takeNewestNonce(short, NOW, NOW, cfg)).toBe(true)
    expect(short).toEqual([NOW - 5, NOW])
  })
})
