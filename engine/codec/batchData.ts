import type { SignedEntry } from '../ops.ts'

/**
 * A batch as the batcher posts it and a watcher reads it back.
 * INVARIANT: `entries[i].seq === entries[0].seq + i` and timestamps never decrease.
 */
export interface BatchData {
  version: 1
  entries: SignedEntry[]
}

/** What the caller knows about the previous batch, checked against the first entry. */
export interface BatchContinuity {
  /** The first entry's seq must equal this. */
  expectedFirstSeq?: number
  /** The first entry's timestamp must not be below this (the previous batch's last timestamp). */
  minFirstTimestampMs?: number
}
