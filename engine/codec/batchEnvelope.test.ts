import fc from 'fast-check'
import { deflateSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { batchDataArb } from '../testing/codecArbitraries.ts'
import { DEFLATE_MARKER, packBatchData, unpackBatchData } from './batchEnvelope.ts'
import { CodecError, CodecErrorCode } from './codecError.ts'
import { decodeBatch } from './decodeBatch.ts'
import { encodeBatch } from './encodeBatch.ts'

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (error) {
    if (error instanceof CodecError) return error.code
    throw error
  }
  return undefined
}

describe('posted batch data', () => {
  it('unpacks to the codec bytes it packed, and never grows them', () => {
    fc.assert(
      fc.property(batchDataArb({ maxEntries: 40 }), (batch) => {
        const codec = encodeBatch(batch)
        const posted = packBatchData(codec)
        expect(posted.length).toBeLessThanOrEqual(codec.length)
        expect(unpackBatchData(posted)).toEqual(codec)
        expect(decodeBatch(unpackBatchData(posted)).entries.length).toBe(batch.entries.length)
      }),
      { numRuns: 200 },
    )
  })

  it('compresses a repetitive batch behind the deflate marker', () => {
    const codec = new Uint8Array(4_000)
    codec[0] = 0x5c
    const posted = packBatchData(codec)
    expect(posted[0]).toBe(DEFLATE_MARKER)
    expect(posted.length).toBeLessThan(100)
    expect(unpackBatchData(posted)).toEqual(codec)
  })

  it('refuses an unknown first byte, empty input, a corrupt stream and an inflation bomb', () => {
    expect(codeOf(() => unpackBatchData(new Uint8Array([0x00, 1, 2])))).toBe(CodecErrorCode.BAD_MAGIC)
    expect(codeOf(() => unpackBatchData(new Uint8Array()))).toBe(CodecErrorCode.TRUNCATED)
    expect(codeOf(() => unpackBatchData(new Uint8Array([DEFLATE_MARKER, 0xff, 0xff, 0xff])))).toBe(
      CodecErrorCode.BAD_COMPRESSION,
    )
    const bomb = deflateSync(new Uint8Array(1_000_001), { level: 9 })
    const posted = new Uint8Array(bomb.length + 1)
    posted[0] = DEFLATE_MARKER
    posted.set(bomb, 1)
    expect(codeOf(() => unpackBatchData(posted, 1_000_000))).toBe(CodecErrorCode.BAD_COMPRESSION)
    expect(unpackBatchData(posted, 1_000_001).length).toBe(1_000_001)
    expect(codeOf(() => unpackBatchData(posted.subarray(0, posted.length - 3)))).toBe(
      CodecErrorCode.BAD_COMPRESSION,
    )
  })
})
