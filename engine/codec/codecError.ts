/**
 * Stable codes of everything the codec refuses. A watcher treats any of them as "the batch is wrong".
 * A code, once released, keeps its meaning; add new ones at the end.
 */
export const CodecErrorCode = {
  /** The input ends inside a field, or a count promises more than the input holds. */
  TRUNCATED: 'TRUNCATED',
  /** Bytes remain after the last entry. */
  TRAILING_BYTES: 'TRAILING_BYTES',
  /** The first byte is not the batch magic. */
  BAD_MAGIC: 'BAD_MAGIC',
  /** The version byte (or `BatchData.version`) is not one this codec knows. */
  BAD_VERSION: 'BAD_VERSION',
  /** Unknown op tag (or unknown `op.type` on encode). */
  BAD_TAG: 'BAD_TAG',
  /** A varint exceeds 2^64 - 1, or MAX_SAFE_INTEGER where the field is a number. */
  VARINT_OVERFLOW: 'VARINT_OVERFLOW',
  /** Another, shorter or canonical, encoding of the same value exists: non-minimal varint, present-but-zero field. */
  NON_CANONICAL: 'NON_CANONICAL',
  /** A flags bit that version 1 does not define is set. */
  RESERVED_BITS: 'RESERVED_BITS',
  /** An enum or boolean field holds a value outside its set. */
  BAD_ENUM: 'BAD_ENUM',
  /** A value lies outside its field's range (negative or unsafe numbers, uint64 bigints, derived times and seqs). */
  VALUE_OUT_OF_RANGE: 'VALUE_OUT_OF_RANGE',
  /** An op refers past the end of the address table. */
  BAD_ADDRESS_INDEX: 'BAD_ADDRESS_INDEX',
  /** The address table lists an address twice. */
  DUPLICATE_ADDRESS: 'DUPLICATE_ADDRESS',
  /** The address table lists an address no op refers to. */
  UNUSED_ADDRESS: 'UNUSED_ADDRESS',
  /** The address table is not in canonical order (most referenced first, ties by first reference). */
  BAD_ADDRESS_ORDER: 'BAD_ADDRESS_ORDER',
  /** A signature's v byte is not 27 or 28. */
  BAD_SIGNATURE_V: 'BAD_SIGNATURE_V',
  /** Encode: seqs are not consecutive. Decode: the first seq is not the one the caller expected. */
  SEQ_GAP: 'SEQ_GAP',
  /** Encode: a timestamp goes back. Decode: the first timestamp is before the caller's minimum. */
  TIME_BACKWARDS: 'TIME_BACKWARDS',
  /** Encode only: an address is not `0x` followed by 40 lowercase hex digits. */
  BAD_ADDRESS: 'BAD_ADDRESS',
  /** Encode only: a signature is missing, present where none belongs, or not 65 bytes. */
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** The posted envelope's compressed payload does not inflate, or inflates past the size limit. */
  BAD_COMPRESSION: 'BAD_COMPRESSION',
} as const
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode]

/**
 * The only error `encodeBatch` and `decodeBatch` throw for bad input.
 * `offset` is the byte offset in the decoder's input where the offending field starts; -1 on encode.
 * `entryIndex` is the batch entry concerned, or null for the header and the address table.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError'
  constructor(
    readonly code: CodecErrorCode,
    readonly offset: number,
    readonly entryIndex: number | null,
    details: string,
  ) {
    const where = [
      offset >= 0 ? `byte ${offset}` : null,
      entryIndex !== null ? `entry ${entryIndex}` : null,
    ].filter((s) => s !== null)
    super(`${code}${where.length > 0 ? ` at ${where.join(', ')}` : ''}: ${details}`)
  }
}
