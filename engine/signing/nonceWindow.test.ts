import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_NONCE_WINDOW, type NonceWindowConfig } from '../config.ts'
import { EngineInvariantError, RejectCode } from '../rejections.ts'
import { checkNonce, recordNonce } from './nonceWindow.ts'

const cfg: NonceWindowConfig = { size: 4, pastMs: 1_000, futureMs: 500 }
const T = 1_700_000_000_000

function accept(
  window: number[],
  nonce: number,
  timestampMs: number,
  c: NonceWindowConfig,
): RejectCode | null {
  const code = checkNonce(window, nonce, timestampMs, c)
  if (code === null) recordNonce(window, nonce, c)
  return code
}

function expectSortedWithin(window: readonly number[], size: number): void {
  expect(window.length).toBeLessThanOrEqual(size)
  for (let i = 1; i < window.length; i++) expect(window[i]!).toBeGreaterThan(window[i - 1]!)
}

describe('checkNonce', () => {
  it('accepts exactly [timestamp - pastMs, timestamp + futureMs]', () => {
    expect(checkNonce([], T - cfg.pastMs, T, cfg)).toBeNull()
    expect(checkNonce([], T + cfg.futureMs, T, cfg)).toBeNull()
    expect(checkNonce([], T - cfg.pastMs - 1, T, cfg)).toBe(RejectCode.NONCE_OUT_OF_WINDOW)
    expect(checkNonce([], T + cfg.futureMs + 1, T, cfg)).toBe(RejectCode.NONCE_OUT_OF_WINDOW)
    expect(checkNonce([], T + 0.5, T, cfg)).toBe(RejectCode.NONCE_OUT_OF_WINDOW)
    expect(checkNonce([], Number.NaN, T, cfg)).toBe(RejectCode.NONCE_OUT_OF_WINDOW)
  })

  it('rejects a nonce in the window as reused', () => {
    expect(checkNonce([T - 5, T, T + 3], T, T, cfg)).toBe(RejectCode.NONCE_REUSED)
    expect(checkNonce([T - 5, T, T + 3], T - 5, T, cfg)).toBe(RejectCode.NONCE_REUSED)
  })

  it('rejects a nonce at or below the smallest of a full window as too old, and only when full', () => {
    const full = [T - 40, T - 30, T - 20, T - 10]
    expect(checkNonce(full, T - 41, T, cfg)).toBe(RejectCode.NONCE_TOO_OLD)
    expect(checkNonce(full, T - 35, T, cfg)).toBeNull()
    expect(checkNonce(full.slice(1), T - 41, T, cfg)).toBeNull()
  })

  it('counts only the highest N of a window longer than N', () => {
    const long = [T - 50, T - 40, T - 30, T - 20, T - 10]
    expect(checkNonce(long, T - 45, T, cfg)).toBe(RejectCode.NONCE_TOO_OLD)
    expect(checkNonce(long, T - 35, T, cfg)).toBeNull()
  })

  it('refuses a window size below 1', () => {
    expect(() => checkNonce([], T, T, { ...cfg, size: 0 })).toThrow(EngineInvariantError)
  })
})

describe('recordNonce', () => {
  it('inserts in order and drops the smallest beyond N, in place', () => {
    const w: number[] = []
    for (const n of [T - 10, T - 30, T, T - 20]) recordNonce(w, n, cfg)
    expect(w).toEqual([T - 30, T - 20, T - 10, T])
    const same = w
    recordNonce(w, T - 15, cfg)
    expect(w).toBe(same)
    expect(w).toEqual([T - 20, T - 15, T - 10, T])
    recordNonce(w, T + 1, cfg)
    expect(w).toEqual([T - 15, T - 10, T, T + 1])
  })

  it('trims a window longer than N', () => {
    const w = [1, 2, 3, 4, 5, 6]
    recordNonce(w, 7, cfg)
    expect(w).toEqual([4, 5, 6, 7])
  })

  it('throws on a nonce checkNonce rejects, leaving the window unchanged', () => {
    const partial = [T - 30, T - 20, T - 10]
    const full = [T - 40, T - 30, T - 20, T - 10]
    for (const [w, n] of [
      [partial, T - 20],
      [partial, T - 30],
      [partial, T - 10],
      [full, T - 10],
      [full, T - 20],
      [full, T - 40],
      [full, T - 50],
    ] as const) {
      const copy = [...w]
      expect(() => recordNonce(copy, n, cfg)).toThrow(EngineInvariantError)
      expect(copy).toEqual(w)
    }
  })
})

describe('nonce window properties', () => {
  const cfgArb = fc.record({
    size: fc.integer({ min: 1, max: 24 }),
    pastMs: fc.integer({ min: 0, max: 200 }),
    futureMs: fc.integer({ min: 0, max: 200 }),
  })

  it('matches the reference model: never a duplicate, sorted, at most N, codes exact', () => {
    fc.assert(
      fc.property(
        cfgArb,
        // A small pool of nonces and timestamps makes reuse, staleness and out-of-window common.
        fc.array(fc.tuple(fc.nat({ max: 300 }), fc.nat({ max: 300 })), { maxLength: 300 }),
        (c, attempts) => {
          const window: number[] = []
          const accepted = new Set<number>()
          for (const [nonce, timestampMs] of attempts) {
            const top = [...accepted].sort((a, b) => a - b).slice(-c.size)
            let expected: RejectCode | null = null
            if (nonce < timestampMs - c.pastMs || nonce > timestampMs + c.futureMs) {
              expected = RejectCode.NONCE_OUT_OF_WINDOW
            } else if (top.includes(nonce)) expected = RejectCode.NONCE_REUSED
            else if (top.length === c.size && nonce <= top[0]!) expected = RejectCode.NONCE_TOO_OLD
            const code = accept(window, nonce, timestampMs, c)
            expect(code).toBe(expected)
            if (code === null) {
              expect(accepted.has(nonce)).toBe(false)
              accepted.add(nonce)
            }
            expectSortedWithin(window, c.size)
            expect(window).toEqual([...accepted].sort((a, b) => a - b).slice(-c.size))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('accepts every nonce from up to N concurrent processes when none is overtaken by N later ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }).chain((size) =>
          fc.record({
            size: fc.constant(size),
            // Each process stamps its nonces from its own clock: strictly increasing, distinct globally.
            processes: fc.integer({ min: 1, max: size }),
            ops: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 50 }), fc.nat({ max: size - 1 })), {
              maxLength: 400,
            }),
          }),
        ),
        ({ size, processes, ops }) => {
          const c = { ...DEFAULT_NONCE_WINDOW, size }
          let clockMs = T
          const lastOfProcess = new Array<number>(processes).fill(0)
          const created = ops.map(([p, gapMs, delay], index) => {
            clockMs += gapMs
            const process = p % processes
            expect(clockMs).toBeGreaterThan(lastOfProcess[process]!)
            lastOfProcess[process] = clockMs
            // Arrival key index + delay (delay < N): at most N - 1 later ops arrive before this one.
            return { nonce: clockMs, arrival: index + delay, index }
          })
          created.sort((a, b) => a.arrival - b.arrival || a.index - b.index)
          const window: number[] = []
          for (const { nonce } of created) {
            expect(accept(window, nonce, clockMs, c)).toBeNull()
            expectSortedWithin(window, size)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('rejects an op overtaken by N later ones as too old', () => {
    const window: number[] = []
    const nonces = [T + 1, T + 2, T + 3, T + 4, T + 5]
    // T + 1 arrives after the N = 4 later ones.
    for (const n of nonces.slice(1)) expect(accept(window, n, T, cfg)).toBeNull()
    expect(accept(window, nonces[0]!, T, cfg)).toBe(RejectCode.NONCE_TOO_OLD)
  })
})
