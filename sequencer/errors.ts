/**
 * Errors the node raises at start or on a broken log. Stable codes; the message says what to do.
 * Halts while running are not exceptions but `HaltInfo` (api.ts).
 */
export const SequencerErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** The data directory belongs to another chain, settlement contract or engine configuration. */
  CONFIG_MISMATCH: 'CONFIG_MISMATCH',
  /** The log has a gap, an entry that does not decode, or signers that do not match its entries. */
  LOG_CORRUPT: 'LOG_CORRUPT',
  /** Replaying a durable entry broke an engine invariant. */
  ENGINE_INVARIANT: 'ENGINE_INVARIANT',
  /** Re-sealing a batch during recovery gave another root than the node sealed (and maybe posted) before. */
  BATCH_DIVERGED: 'BATCH_DIVERGED',
} as const
export type SequencerErrorCode = (typeof SequencerErrorCode)[keyof typeof SequencerErrorCode]

export class SequencerError extends Error {
  override readonly name = 'SequencerError'
  readonly code: SequencerErrorCode
  readonly shortMessage: string

  constructor(
    code: SequencerErrorCode,
    shortMessage: string,
    options: { cause?: unknown; details?: string } = {},
  ) {
    super(options.details === undefined ? shortMessage : `${shortMessage}\n\nDetails: ${options.details}`, {
      cause: options.cause,
    })
    this.code = code
    this.shortMessage = shortMessage
  }
}
