import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchDataArb } from '../testing/codecArbitraries.ts'
import { CodecError } from './codecError.ts'
import { decodeBatch } from './decodeBatch.ts'
import { encodeBatch } from './encodeBatch.ts'
import { BATCH_MAGIC, CODEC_VERSION } from './format.ts'

/**
 * The watcher's guarantee: decoding either yields a batch that re-encodes to the very same bytes, or
 * throws CodecError with an offset inside the input. Never another exception, never a second encoding.
 */
function checkDecode(bytes: Uint8Array): 'ok' | 'error' {
  let decoded: ReturnType<typeof decodeBatch>
  try {
    decoded = decodeBatch(bytes)
  } catch (e) {
    if (!(e instanceof CodecError)) throw e
    expect(e.offset).toBeGreaterThanOrEqual(0)
    expect(e.offset).toBeLessThanOrEqual(bytes.length)
    return 'error'
  }
  expect(encodeBatch(decoded)).toEqual(bytes)
  return 'ok'
}

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number }
  /** Turns a varint's last byte into a continuation followed by a zero byte: a non-minimal varint. */
  | { kind: 'pad'; at: number }
  | { kind: 'swap'; at: number; other: number; length: number }

const position = fc.nat({ max: 1 << 16 })
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 70 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: position,
    length: fc.integer({ min: 1, max: 70 }),
  }),
  fc.record({ kind: fc.constant('pad' as const), at: position }),
  fc.record({
    kind: fc.constant('swap' as const),
    at: position,
    other: position,
    length: fc.constantFrom(1, 20, 65),
  }),
)

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length
  const out = Array.from(bytes)
  switch (m.kind) {
    case 'set':
      out[at] = m.value
      break
    case 'flip':
      out[at] = (out[at] ?? 0) ^ (1 << m.bit)
      break
    case 'insert':
      out.splice(at, 0, m.value)
      break
    case 'delete':
      out.splice(at, m.length)
      break
    case 'truncate':
      out.length = at
      break
    case 'duplicate':
      out.splice(at, 0, ...out.slice(at, at + m.length))
      break
    case 'pad':
      out[at] = (out[at] ?? 0) | 0x80
      out.splice(at + 1, 0, 0)
      break
    case 'swap': {
      const other = bytes.length === 0 ? 0 : m.other % bytes.length
      const a = out.slice(at, at + m.length)
      const b = out.slice(other, other + m.length)
      if (a.length === m.length && b.length === m.length && Math.abs(at - other) >= m.length) {
        out.splice(at, m.length, ...b)
        out.splice(other, m.length, ...a)
      }
      break
    }
  }
  return Uint8Array.from(out)
}

describe('decodeBatch fuzzing', () => {
  it('random bytes: a canonical batch or a CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        checkDecode(bytes)
      }),
      { numRuns: 2000 },
    )
  })

  it('random bytes behind a valid magic and version', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        checkDecode(Uint8Array.from([BATCH_MAGIC, CODEC_VERSION, ...tail]))
      }),
      { numRuns: 3000 },
    )
  })

  it('mutated valid batches: a canonical batch or a CodecError', () => {
    let accepted = 0
    fc.assert(
      fc.property(
        batchDataArb({ maxEntries: 12 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (batch, ms) => {
          let bytes = encodeBatch(batch)
          for (const m of ms) bytes = mutate(bytes, m)
          if (checkDecode(bytes) === 'ok') accepted++
        },
      ),
      // Shrinking a batch and its mutations takes minutes and adds little: report the first failure as found.
      { numRuns: 4000, endOnFailure: true },
    )
    // Mutations inside signatures and values decode fine; a fuzzer that only ever hits errors tests little.
    expect(accepted).toBeGreaterThan(100)
  })
})
