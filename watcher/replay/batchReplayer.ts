import { type Address, bytesToHex, type Hex } from 'viem'
import {
  attachSigners,
  BatchFault,
  type BatchFaultReport,
  type BatchPosition,
  type DecodedEntries,
  decodeUnpackedEntries,
  type InboxRecord,
  nextBatchPosition,
  replayDecodedBatch,
  unpackPosted,
} from '../../engine/batch/replayBatch.ts'
import type { EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import type { BatchHeader } from '../../settlement-contracts/ts/client.ts'
import { WatcherError, WatcherErrorCode } from '../watcherError.ts'
import type { RecoveryPool } from './recoveryPool.ts'

/**
 * Why a batch is WRONG: the engine's batch faults (engine/batch/replayBatch.ts), plus two the watcher
 * sees from the chain of headers. Stable codes.
 */
export const VerdictFault = {
  ...BatchFault,
  /** The header's `prevStateRoot` is not the root this watcher verified for its parent. */
  PREV_STATE_ROOT_MISMATCH: 'PREV_STATE_ROOT_MISMATCH',
  /** An earlier live batch is WRONG and this one builds on it: not replayed, reverted with it. */
  PARENT_WRONG: 'PARENT_WRONG',
  /**
   * The data behind the header's `dataHash` cannot be read from L1 (the proposal was not a direct
   * `proposeBatch` transaction, or its calldata does not hash to `dataHash`): nobody can replay it, so
   * nobody can prove it, and it must be challenged.
   */
  DATA_UNAVAILABLE: 'DATA_UNAVAILABLE',
} as const
export type VerdictFault = (typeof VerdictFault)[keyof typeof VerdictFault]

/** The outcome of verifying one proposed batch. */
export interface Verdict {
  batchIndex: number
  epoch: number
  batchHash: Hex
  /** True when the batch is right: it must not be challenged. */
  ok: boolean
  fault?: VerdictFault
  /** For a WRONG batch, what differs, in words; for an OK one, a short summary. */
  detail: string
  /** Entries replayed (or decoded, when replay stopped early). */
  ops: number
  /** Time spent on this batch: decode, recovery, replay, seal. */
  ms: number
  /**
   * Our state root: after the batch when it replayed to the seal (for a root mismatch, the root replay
   * gives), else the root it was checked against (its parent's).
   */
  stateRoot: Hex
}

/** A verified point to restart from. `snapshot` is null only for genesis (batch 0). */
export interface ReplayerCheckpoint {
  batchIndex: number
  batchHash: Hex
  stateRoot: Hex
  snapshot: Uint8Array | null
}

/** What the replayer needs of a `BatchProposed` log. */
export interface BatchToVerify {
  header: BatchHeader
  batchHash: Hex
}

/**
 * The L1 inbox: either every item from index 0, or a reader of items `from` (inclusive) to `to`
 * (exclusive), as `InboxItemAppended` recorded them.
 */
export type InboxSource = readonly InboxRecord[] | ((from: number, to: number) => readonly InboxRecord[])

/** A batch decoded and sent to recovery ahead of its replay; pass it back to `verifyPrepared`. */
export interface PreparedBatch {
  readonly batch: BatchToVerify
  readonly posted: Uint8Array
  /** @internal */
  readonly generation: number
  /** @internal The engine's seq this batch starts from. */
  readonly startSeq: number
  /** @internal */
  readonly decoded: DecodedEntries | BatchFaultReport
  /** @internal */
  readonly signers: Promise<(Address | null)[]> | null
  /** @internal Milliseconds spent decoding. */
  readonly decodeMs: number
}

interface VerifiedSinceBase {
  batch: BatchToVerify
  posted: Uint8Array
  inbox: readonly InboxRecord[]
}

export const GENESIS_BATCH_HASH: Hex = `0x${'00'.repeat(32)}`

/** Past this much posted data since the last checkpoint, the replayer takes one in memory by itself. */
const MAX_SINCE_BYTES = 64 * 1024 * 1024

/**
 * Holds the engine at the last batch this watcher verified, and verifies the next: decode, recover
 * every signer on the pool, attach, replay, compare roots (engine/batch/replayBatch.ts is the one
 * definition of a right batch). A WRONG batch leaves the engine where it was: the replayer rebuilds
 * the pre-batch state from its last checkpoint and the batches verified since, which it keeps.
 *
 * `prepare` lets the caller decode batch k+1 and start its recovery while batch k replays: the
 * workers recover while the main thread replays.
 */
export class BatchReplayer {
  readonly config: EngineConfig
  readonly #pool: RecoveryPool
  #engine: Engine
  #batchIndex: number
  #batchHash: Hex
  #stateRoot: Hex
  #base: ReplayerCheckpoint
  #since: VerifiedSinceBase[] = []
  #sinceBytes = 0
  /** Bumped whenever the engine moves other than by verifying prepared batches in order: stales them. */
  #generation = 0
  /** Where the next prepared batch starts: after the last prepared one. */
  #tipSeq: number
  #tipTimestampMs: number

  constructor(config: EngineConfig, pool: RecoveryPool, from?: ReplayerCheckpoint) {
    this.config = config
    this.#pool = pool
    const start = from ?? genesisCheckpoint(config)
    this.#engine = restoreCheckpoint(config, start)
    this.#base = start
    this.#batchIndex = start.batchIndex
    this.#batchHash = start.batchHash
    this.#stateRoot = start.stateRoot
    this.#tipSeq = this.#engine.state.seq
    this.#tipTimestampMs = this.#engine.state.timestampMs
  }

  /** The last verified batch (0: genesis). */
  get batchIndex(): number {
    return this.#batchIndex
  }

  get batchHash(): Hex {
    return this.#batchHash
  }

  /** Our state root after the last verified batch. */
  get stateRoot(): Hex {
    return this.#stateRoot
  }

  /** Inbox items consumed up to the last verified batch. */
  get inboxConsumed(): number {
    return this.#engine.state.inboxConsumed
  }

  /** The engine at the last verified batch; read it, never apply to it. */
  get engine(): Engine {
    return this.#engine
  }

  /**
   * Decodes `posted` as the batch after the last prepared one and hands it to the pool, whose worker
   * decodes it again, computes the digests and checks the signatures while this thread replays.
   */
  prepare(batch: BatchToVerify, posted: Uint8Array): PreparedBatch {
    const started = performance.now()
    const startSeq = this.#tipSeq
    const position: BatchPosition = {
      chainId: this.config.chainId,
      settlementAddress: this.config.settlementAddress,
      firstSeq: this.#tipSeq + 1,
      minTimestampMs: this.#tipTimestampMs,
    }
    const unpacked = unpackPosted(posted)
    const decoded = unpacked instanceof Uint8Array ? decodeUnpackedEntries(position, unpacked) : unpacked
    let signers: Promise<(Address | null)[]> | null = null
    if ('entries' in decoded) {
      signers = this.#pool.recoverBatch(unpacked as Uint8Array, position)
      // A prepared batch that is never verified (its parent was WRONG) must not leave an unhandled rejection.
      signers.catch(() => {})
      const last = decoded.entries[decoded.entries.length - 1]
      if (last !== undefined) {
        this.#tipSeq = last.seq
        this.#tipTimestampMs = last.timestampMs
      }
    }
    return {
      batch,
      posted,
      generation: this.#generation,
      startSeq,
      decoded,
      signers,
      decodeMs: performance.now() - started,
    }
  }

  /** Verifies the next batch. `inbox` must hold the items from `inboxConsumed` to the header's count. */
  verify(batch: BatchToVerify, posted: Uint8Array, inbox: InboxSource): Promise<Verdict> {
    return this.verifyPrepared(this.prepare(batch, posted), inbox)
  }

  /** Verifies a batch from `prepare`; prepared batches must come back in the order they were prepared. */
  async verifyPrepared(prepared: PreparedBatch, inbox: InboxSource): Promise<Verdict> {
    const started = performance.now()
    const { header, batchHash } = prepared.batch
    const batchIndex = Number(header.batchIndex)
    if (batchIndex !== this.#batchIndex + 1) {
      throw new WatcherError(
        WatcherErrorCode.OUT_OF_ORDER,
        `batch ${batchIndex} handed to the replayer, which holds batch ${this.#batchIndex}: batches verify in order`,
      )
    }
    if (prepared.generation !== this.#generation || prepared.startSeq !== this.#engine.state.seq) {
      throw new WatcherError(
        WatcherErrorCode.OUT_OF_ORDER,
        `batch ${batchIndex} was prepared against a state the replayer no longer holds: prepare it again`,
      )
    }
    const verdict = (ok: boolean, fields: Partial<Verdict>): Verdict => ({
      batchIndex,
      epoch: Number(header.epoch),
      batchHash,
      ok,
      detail: '',
      ops: 0,
      ms: prepared.decodeMs + (performance.now() - started),
      stateRoot: this.#stateRoot,
      ...fields,
    })
    const wrong = (fault: VerdictFault, detail: string, ops: number, stateRoot?: Hex): Verdict => {
      this.#resetPipeline()
      return verdict(false, { fault, detail, ops, ...(stateRoot === undefined ? {} : { stateRoot }) })
    }

    if (header.prevStateRoot.toLowerCase() !== this.#stateRoot) {
      return wrong(
        VerdictFault.PREV_STATE_ROOT_MISMATCH,
        `the batch builds on ${header.prevStateRoot}, but batch ${this.#batchIndex} verified to ${this.#stateRoot}`,
        0,
      )
    }
    const decoded = prepared.decoded
    if (!('entries' in decoded)) return wrong(decoded.fault, decoded.detail, 0)
    const ops = decoded.entries.length
    this.#pool.release(prepared.signers!)
    const signerFault = attachSigners(decoded, checkedSigners(decoded, await prepared.signers!, batchIndex))
    if (signerFault !== null) return wrong(signerFault.fault, signerFault.detail, ops)

    const consumed = this.#engine.state.inboxConsumed
    const items = inboxRange(inbox, consumed, Math.max(consumed, Number(header.inboxConsumed)))
    let result: ReturnType<typeof replayDecodedBatch>
    try {
      result = replayDecodedBatch(
        this.#engine,
        decoded.entries,
        {
          batchIndex: header.batchIndex,
          stateRoot: header.stateRoot,
          withdrawalsRoot: header.withdrawalsRoot,
          inboxConsumed: header.inboxConsumed,
        },
        items,
      )
    } catch (error) {
      // Not a verdict (a bug, or memory): the engine may be part-way, so it goes back before the error leaves.
      await this.#rebuild()
      this.#resetPipeline()
      throw error
    }
    if (!result.ok) {
      const sealed =
        result.fault === BatchFault.STATE_ROOT_MISMATCH ||
        result.fault === BatchFault.WITHDRAWALS_ROOT_MISMATCH
      const replayRoot = sealed ? bytesToHex(this.#engine.root()) : this.#stateRoot
      await this.#rebuild()
      return wrong(result.fault, result.detail, ops, replayRoot)
    }
    this.#batchIndex = batchIndex
    this.#batchHash = batchHash
    this.#stateRoot = bytesToHex(result.sealed.stateRoot)
    this.#since.push({ batch: prepared.batch, posted: prepared.posted, inbox: items })
    this.#sinceBytes += prepared.posted.length
    if (this.#sinceBytes > MAX_SINCE_BYTES) this.checkpoint()
    const rejected = result.rejections.length
    return verdict(true, {
      ops,
      detail:
        rejected === 0
          ? 'replays to the claimed roots'
          : `replays to the claimed roots; the engine rejected ${rejected >= 8 ? '8 or more' : rejected} ops (first: seq ${result.rejections[0]!.seq} ${result.rejections[0]!.code})`,
    })
  }

  /** Forgets every prepared batch not verified yet (the caller dropped them): the next `prepare` starts at the engine. */
  discardPrepared(): void {
    this.#resetPipeline()
  }

  /** Snapshots the state at the last verified batch; the replayer rebuilds from here from now on. */
  checkpoint(): ReplayerCheckpoint {
    const checkpoint: ReplayerCheckpoint = {
      batchIndex: this.#batchIndex,
      batchHash: this.#batchHash,
      stateRoot: this.#stateRoot,
      snapshot: this.#batchIndex === 0 && this.#engine.state.seq === 0 ? null : this.#engine.snapshot(),
    }
    this.#base = checkpoint
    this.#since = []
    this.#sinceBytes = 0
    return checkpoint
  }

  /** Goes back (or forward) to `to`, genesis by default: after a revert, to a checkpoint at or below the finalized batch. */
  reset(to?: ReplayerCheckpoint): void {
    const start = to ?? genesisCheckpoint(this.config)
    this.#engine = restoreCheckpoint(this.config, start)
    this.#base = start
    this.#since = []
    this.#sinceBytes = 0
    this.#batchIndex = start.batchIndex
    this.#batchHash = start.batchHash
    this.#stateRoot = start.stateRoot
    this.#resetPipeline()
  }

  #resetPipeline(): void {
    this.#generation++
    this.#tipSeq = this.#engine.state.seq
    this.#tipTimestampMs = this.#engine.state.timestampMs
  }

  /** After a replay fault: the checkpoint, then every batch verified since, again. */
  async #rebuild(): Promise<void> {
    const engine = restoreCheckpoint(this.config, this.#base)
    for (const { batch, posted, inbox } of this.#since) {
      const position = nextBatchPosition(engine)
      const unpacked = unpackPosted(posted)
      const decoded = unpacked instanceof Uint8Array ? decodeUnpackedEntries(position, unpacked) : unpacked
      const signers =
        'entries' in decoded ? this.#pool.recoverBatch(unpacked as Uint8Array, position) : Promise.resolve([])
      this.#pool.release(signers)
      const again =
        'entries' in decoded
          ? (attachSigners(decoded, checkedSigners(decoded, await signers, batch.header.batchIndex)) ??
            replayDecodedBatch(
              engine,
              decoded.entries,
              {
                batchIndex: batch.header.batchIndex,
                stateRoot: batch.header.stateRoot,
                withdrawalsRoot: batch.header.withdrawalsRoot,
                inboxConsumed: batch.header.inboxConsumed,
              },
              inbox,
            ))
          : decoded
      if (!again.ok) {
        throw new WatcherError(
          WatcherErrorCode.NONDETERMINISTIC_REPLAY,
          `batch ${batch.header.batchIndex} verified before but now fails with ${again.fault} (${again.detail}): ` +
            'the engine is not deterministic on this machine; report it with the data directory',
        )
      }
    }
    this.#engine = engine
  }
}

/** Batch 0: the empty engine the contract's GENESIS_STATE_ROOT commits to. */
export function genesisCheckpoint(config: EngineConfig): ReplayerCheckpoint {
  return {
    batchIndex: 0,
    batchHash: GENESIS_BATCH_HASH,
    stateRoot: bytesToHex(Engine.create(config).root()),
    snapshot: null,
  }
}

function restoreCheckpoint(config: EngineConfig, checkpoint: ReplayerCheckpoint): Engine {
  const engine =
    checkpoint.snapshot === null ? Engine.create(config) : Engine.restore(config, checkpoint.snapshot)
  const root = bytesToHex(engine.root())
  if (root !== checkpoint.stateRoot) {
    throw new WatcherError(
      WatcherErrorCode.CHECKPOINT_CORRUPT,
      `the checkpoint at batch ${checkpoint.batchIndex} restores to ${root}, not ${checkpoint.stateRoot}: ` +
        'delete the data directory and let the watcher replay from genesis',
    )
  }
  return engine
}

function inboxRange(inbox: InboxSource, from: number, to: number): readonly InboxRecord[] {
  return typeof inbox === 'function' ? inbox(from, to) : inbox.slice(from, to)
}

/** The pool's signers, one per signature slot: both sides decode with the same code, so a mismatch is a bug. */
function checkedSigners(
  decoded: DecodedEntries,
  signers: readonly (Address | null)[],
  batchIndex: number | bigint,
): readonly (Address | null)[] {
  if (signers.length !== decoded.jobs.length) {
    throw new WatcherError(
      WatcherErrorCode.NONDETERMINISTIC_REPLAY,
      `batch ${batchIndex}: the signature workers decoded ${signers.length} signatures where this thread decoded ` +
        `${decoded.jobs.length}; report it with the data directory`,
    )
  }
  return signers
}
