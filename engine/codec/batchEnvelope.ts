import { deflateSync, Inflate } from 'fflate'
import { CodecError, CodecErrorCode } from './codecError.ts'
import { BATCH_MAGIC } from './format.ts'

/**
 * What `proposeBatch` carries as `batchData`: the batch codec's bytes, either as they are or
 * deflate-compressed behind one marker byte (docs/protocol.md, "Posted batch data"). The contract
 * hashes these posted bytes; a replayer unpacks them and decodes the result with `decodeBatch`.
 */
export const DEFLATE_MARKER = 0xd1

/** Largest codec encoding a posted batch may inflate to: far above any batch that fits in an L1 block. */
export const MAX_UNPACKED_BYTES = 16 * 1024 * 1024

/** The smaller of the raw codec bytes and their deflate form; deterministic for a given fflate version. */
export function packBatchData(codecBytes: Uint8Array): Uint8Array {
  const deflated = deflateSync(codecBytes, { level: 9, mem: 8 })
  if (deflated.length + 1 >= codecBytes.length) return codecBytes
  const posted = new Uint8Array(deflated.length + 1)
  posted[0] = DEFLATE_MARKER
  posted.set(deflated, 1)
  return posted
}

/**
 * The codec bytes inside posted batch data. Raw codec bytes (first byte the batch magic) come back as
 * they are; a deflate payload is inflated, and refused with BAD_COMPRESSION when it is corrupt or would
 * exceed `maxBytes` (a small payload must not be able to exhaust a replayer's memory).
 */
export function unpackBatchData(posted: Uint8Array, maxBytes = MAX_UNPACKED_BYTES): Uint8Array {
  if (posted.length === 0)
    throw new CodecError(CodecErrorCode.TRUNCATED, 0, null, 'posted batch data is empty')
  if (posted[0] === BATCH_MAGIC) return posted
  if (posted[0] !== DEFLATE_MARKER) {
    throw new CodecError(
      CodecErrorCode.BAD_MAGIC,
      0,
      null,
      `first byte 0x${posted[0]!.toString(16).padStart(2, '0')} is neither the batch magic nor the deflate marker`,
    )
  }
  // Streamed, so memory follows the real output size and a bomb stops at the limit, not after it.
  const chunks: Uint8Array[] = []
  let total = 0
  const inflater = new Inflate((chunk) => {
    total += chunk.length
    if (total > maxBytes)
      throw new CodecError(CodecErrorCode.BAD_COMPRESSION, 1, null, `inflates past ${maxBytes} bytes`)
    chunks.push(chunk)
  })
  try {
    inflater.push(posted.subarray(1), true)
  } catch (error) {
    if (error instanceof CodecError) throw error
    throw new CodecError(CodecErrorCode.BAD_COMPRESSION, 1, null, `deflate payload: ${String(error)}`)
  }
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
