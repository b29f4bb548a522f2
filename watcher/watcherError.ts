/**
 * What stops the watcher, with stable codes; the message says what to do. A wrong batch is not an
 * error: it is a verdict (watcher/replay/batchReplayer.ts `Verdict`).
 */
export const WatcherErrorCode = {
  /** The data directory was made for another chain, settlement contract or engine configuration. */
  DATA_DIR_MISMATCH: 'DATA_DIR_MISMATCH',
  /** A stored checkpoint does not restore to the root it was stored with. */
  CHECKPOINT_CORRUPT: 'CHECKPOINT_CORRUPT',
  /** Replaying a batch that verified before gave another result: the engine is not deterministic. */
  NONDETERMINISTIC_REPLAY: 'NONDETERMINISTIC_REPLAY',
  /** A batch was handed to the replayer out of order, or prepared against a position it no longer holds. */
  OUT_OF_ORDER: 'OUT_OF_ORDER',
  /** The L1 data the watcher needs is not there (a transaction, an inbox item, the contract itself). */
  L1_DATA_MISSING: 'L1_DATA_MISSING',
} as const
export type WatcherErrorCode = (typeof WatcherErrorCode)[keyof typeof WatcherErrorCode]

export class WatcherError extends Error {
  override readonly name = 'WatcherError'
  readonly code: WatcherErrorCode

  constructor(code: WatcherErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options)
    this.code = code
  }
}
