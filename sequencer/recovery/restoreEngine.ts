import type { Logger } from 'pino'
import { bytesToHex } from 'viem'
import type { EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import { EngineInvariantError } from '../../engine/rejections.ts'
import { SequencerError, SequencerErrorCode } from '../errors.ts'
import type { OpLog } from '../log/opLog.ts'

export interface RestoreOptions {
  /** false: ignore snapshots and replay from genesis. Default true. */
  useSnapshots?: boolean
  /** Check that a restored snapshot gives the root stored with it; a mismatch falls back to an older one. Default true. */
  verifySnapshotRoot?: boolean
  logger?: Logger
}

export interface RestoreResult {
  engine: Engine
  /** The seq of the snapshot restored; 0 when replayed from genesis. */
  snapshotSeq: number
  replayedOps: number
  /** Sequenced time of the last time advance replayed, if any. */
  lastTimeAdvanceMs: number | null
  /** Batches sealed so far (the snapshot's, then those re-sealed during replay). */
  sealedBatches: number
  /** The last seq of the last sealed batch; 0 before the first. */
  lastSealedSeq: number
}

/**
 * Rebuilds the engine from the newest usable snapshot and the log entries after it. The result equals
 * a replay from genesis (the SIGKILL test checks it). Throws SequencerError: LOG_CORRUPT for a broken
 * log, ENGINE_INVARIANT when a durable entry breaks the engine (the node must not start on it).
 */
export function restoreEngine(config: EngineConfig, log: OpLog, options: RestoreOptions = {}): RestoreResult {
  let engine: Engine | null = null
  let snapshotSeq = 0
  let sealedBatches = 0
  if (options.useSnapshots !== false) {
    for (const info of log.snapshots()) {
      if (info.seq > log.lastSeq) {
        options.logger?.warn(
          { snapshotSeq: info.seq, lastSeq: log.lastSeq },
          'snapshot is ahead of the log; skipped',
        )
        continue
      }
      const stored = log.readSnapshot(info.seq)
      if (stored === null) continue
      try {
        const restored = Engine.restore(config, stored.bytes)
        if (restored.state.seq !== info.seq) throw new Error(`snapshot holds seq ${restored.state.seq}`)
        if (options.verifySnapshotRoot !== false) {
          const root = bytesToHex(restored.root())
          if (root !== info.root) throw new Error(`restored root ${root}, stored ${info.root}`)
        }
        engine = restored
        snapshotSeq = info.seq
        sealedBatches = info.sealedBatches
        break
      } catch (error) {
        options.logger?.warn({ snapshotSeq: info.seq, err: error }, 'snapshot unusable; trying an older one')
      }
    }
  }
  engine ??= Engine.create(config)

  let replayedOps = 0
  let lastTimeAdvanceMs: number | null = null
  const live = engine
  // Batches sealed after the snapshot are sealed again at the same seqs, and must give the same roots.
  const seals = log.batches(sealedBatches + 1)
  let lastSealedSeq = 0
  if (sealedBatches > 0) {
    const last = log.batches(sealedBatches, false, 1)[0]
    if (last === undefined || last.batchIndex !== sealedBatches) {
      throw new SequencerError(
        SequencerErrorCode.LOG_CORRUPT,
        `The snapshot at seq ${snapshotSeq} counts ${sealedBatches} sealed batches, but batch ${sealedBatches} is not in the log.`,
        { details: 'Restore the data directory from a backup, or rebuild it from the batches posted on L1.' },
      )
    }
    lastSealedSeq = last.lastSeq
  }
  let nextSeal = 0
  const sealDue = (): void => {
    while (nextSeal < seals.length && seals[nextSeal]!.lastSeq === live.state.seq) {
      const batch = seals[nextSeal]!
      const sealed = live.sealBatch(BigInt(batch.batchIndex))
      const root = bytesToHex(sealed.stateRoot)
      if (root !== bytesToHex(batch.stateRoot)) {
        throw new SequencerError(
          SequencerErrorCode.BATCH_DIVERGED,
          `Re-sealing batch ${batch.batchIndex} at seq ${batch.lastSeq} gives root ${root}, but the node sealed ${bytesToHex(batch.stateRoot)}.`,
          {
            details:
              'The engine is not deterministic across this restart; do not post. See docs/operations.md, "Halts".',
          },
        )
      }
      sealedBatches = batch.batchIndex
      lastSealedSeq = batch.lastSeq
      nextSeal++
    }
  }
  if (seals[0] !== undefined && seals[0].lastSeq < snapshotSeq) {
    throw new SequencerError(
      SequencerErrorCode.LOG_CORRUPT,
      `The snapshot at seq ${snapshotSeq} counts ${sealedBatches} sealed batches, but batch ${seals[0].batchIndex} ends at seq ${seals[0].lastSeq}.`,
    )
  }
  sealDue()
  log.forEachEntry(snapshotSeq + 1, (entry) => {
    try {
      live.apply(entry.op, { seq: entry.seq, timestampMs: entry.timestampMs })
    } catch (error) {
      if (error instanceof EngineInvariantError) {
        throw new SequencerError(
          SequencerErrorCode.ENGINE_INVARIANT,
          `Replaying seq ${entry.seq} broke an engine invariant: ${error.message}`,
          {
            cause: error,
            details: 'The entry is durable; the node must not run on it. See docs/operations.md, "Halts".',
          },
        )
      }
      throw error
    }
    if (entry.op.type === 'timeAdvance') lastTimeAdvanceMs = entry.timestampMs
    replayedOps++
    sealDue()
  })
  if (nextSeal < seals.length) {
    throw new SequencerError(
      SequencerErrorCode.LOG_CORRUPT,
      `Batch ${seals[nextSeal]!.batchIndex} ends at seq ${seals[nextSeal]!.lastSeq}, past the end of the log (${log.lastSeq}).`,
    )
  }
  if (engine.state.seq !== log.lastSeq) {
    throw new SequencerError(
      SequencerErrorCode.LOG_CORRUPT,
      `The log ends at seq ${log.lastSeq} but replay reached ${engine.state.seq}.`,
    )
  }
  return { engine, snapshotSeq, replayedOps, lastTimeAdvanceMs, sealedBatches, lastSealedSeq }
}

/** The engine a replay of the whole log from genesis gives, ignoring snapshots. */
export function replayFromGenesis(config: EngineConfig, log: OpLog): Engine {
  return restoreEngine(config, log, { useSnapshots: false }).engine
}
