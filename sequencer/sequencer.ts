import { mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { type Address, bytesToHex, type Hex } from 'viem'
import { packBatchData } from '../engine/codec/batchEnvelope.ts'
import { CodecError } from '../engine/codec/codecError.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import { keccak256 } from '../engine/commitment/keccak256.ts'
import type { EngineConfig } from '../engine/config.ts'
import { Engine } from '../engine/engine.ts'
import {
  type DepositOp,
  type ForcedWithdrawalOp,
  type Op,
  Side,
  type SignedEntry,
  type UserOp,
} from '../engine/ops.ts'
import { EngineInvariantError, RejectCode, reject } from '../engine/rejections.ts'
import { accountRisk } from '../engine/risk/margin.ts'
import { domainSeparator, observationDigest, userOpDigest } from '../engine/signing/digest.ts'
import { addressAt, JOB_BYTES, RESULT_BYTES } from '../engine/signing/recoverAddress.ts'
import { INSURANCE_FUND_ACCOUNT_ID } from '../engine/state/engineState.ts'
import {
  type AccountView,
  type BookView,
  HaltCode,
  type HaltInfo,
  IntakeCode,
  intakeReject,
  type SequencedOp,
  type SequencerApi,
  type SequencerRejection,
  type SequencerStatus,
  type SubmitResult,
} from './api.ts'
import { type Clock, MonotonicClock, systemClock } from './clock.ts'
import { SequencerError, SequencerErrorCode } from './errors.ts'
import { parseIntent } from './intake/parseIntent.ts'
import { parseOracleUpdate, type SignedOracleUpdate } from './intake/parseOracleUpdate.ts'
import { GroupOverlay, precheckUserOp } from './intake/precheck.ts'
import { RecoveryPool } from './intake/recoveryPool.ts'
import type { SignedIntent } from './intake/signedIntent.ts'
import { LogWriter } from './log/logWriter.ts'
import {
  type BatchRecord,
  type BatchStatus,
  type Durability,
  type EncodedGroup,
  encodeGroup,
  OpLog,
  type StoredBatch,
} from './log/opLog.ts'
import type { SequencerMetrics } from './metrics.ts'
import { restoreEngine } from './recovery/restoreEngine.ts'

export interface SequencerOptions {
  config: EngineConfig
  /** Holds `sequencer.db` (log and snapshots). Created if missing. */
  dataDir: string
  /** Default `full`. */
  durability?: Durability
  /** Signature recovery threads; 0 recovers on the main thread. Default: the number of cores. */
  workers?: number
  /** Snapshot after this many ops since the last one; 0 never. Default 100,000. */
  snapshotIntervalOps?: number
  /** Snapshots kept in the database. Default 2. */
  snapshotsKept?: number
  /** Write a snapshot on close when ops were sequenced since the last one. Default true. */
  snapshotOnClose?: boolean
  /** Sequence a time advance when this much sequenced time has passed since the last; 0 never. Default 1,000. */
  timeAdvanceIntervalMs?: number
  /** Most entries in one group commit. Default 8,192. */
  maxGroupOps?: number
  /**
   * Most encoded bytes in one batch: what one L1 proposal can carry. The sequencer seals the open batch
   * itself before a group that would take it past this, and splits a group larger than half of it, so no
   * sealed batch is too large to post however fast intents arrive. Default: no limit (batches end only
   * when `sealBatch` is called).
   */
  maxBatchBytes?: number
  /** Intents in flight (received, not yet answered) beyond which new ones are refused OVERLOADED. Default 100,000. */
  maxPendingIntents?: number
  /** Signatures per message to a recovery worker. Default 256. */
  recoveryChunkJobs?: number
  clock?: Clock
  logger?: Logger
  metrics?: SequencerMetrics
}

type ItemKind = 'user' | 'oracle' | 'l1'

/** One submission on its way through intake, recovery and the writer. */
interface Item {
  kind: ItemKind
  op: Op
  signature: Uint8Array | null
  observationSignatures: readonly Uint8Array[]
  /** Signatures to recover. */
  jobs: number
  receivedAtMs: number
  /** Answer through `Sequencer.#answer`, which also keeps the pending count. */
  resolve: (result: SubmitResult) => void
  /** Set when recovery refused the item; it is answered in its turn, never sequenced. */
  refusal: SequencerRejection | null
}

interface Chunk {
  items: Item[]
  results: Uint8Array | null
  failed: boolean
  done: boolean
}

const NO_SIGNATURES: readonly Uint8Array[] = Object.freeze([])
const MAX_U64 = (1n << 64n) - 1n
const LOWER_ADDRESS = /^0x[0-9a-f]{40}$/

/**
 * The sequencer: a single writer that gives every intent one place in one total order, makes it
 * durable, then applies it.
 *
 * Pipeline, on the main thread except recovery and the log writer:
 * 1. intake: zod shape check, lowercased addresses, EIP-712 digest (the engine's fast path);
 * 2. recovery: chunks of (digest, signature) on the worker pool; chunks are released strictly in
 *    submission order, so recovery never reorders intents;
 * 3. writer: precheck against the live state, assign consecutive seqs and one timestamp from the
 *    monotonic clock, encode the group and hand it to the log-writer thread, which commits it in one
 *    transaction; what arrives meanwhile forms the next group (group commit);
 * 4. after the commit returns: apply each entry to the engine, publish it to subscribers, acknowledge.
 *
 * INVARIANT: nothing is acknowledged or published before the group holding it is committed, and the
 * engine only ever applies committed entries, in seq order, so a restart (snapshot + log tail) rebuilds
 * exactly the state the acknowledgements described.
 */
export class Sequencer implements SequencerApi {
  readonly config: EngineConfig
  readonly #engine: Engine
  readonly #writer: LogWriter
  readonly #pool: RecoveryPool
  readonly #clock: MonotonicClock
  readonly #domain: Uint8Array
  readonly #logger: Logger | undefined
  readonly #metrics: SequencerMetrics | undefined
  readonly #oracleSigners: Set<string>
  readonly #snapshotIntervalOps: number
  readonly #snapshotsKept: number
  readonly #snapshotOnClose: boolean
  readonly #timeAdvanceIntervalMs: number
  readonly #maxGroupOps: number
  readonly #maxBatchBytes: number | null
  /** Encoded bytes of the groups applied since the last seal: an upper bound of the open batch's encoding. */
  #bytesSinceSeal = 0
  /** Address references in those groups (see `addressRefs`). */
  #refsSinceSeal = 0
  readonly #maxPending: number
  readonly #chunkJobs: number
  /** A read connection on the log, for the batcher: entries of a batch, and the batches table. */
  readonly #readLog: OpLog
  #sealedBatches: number
  #lastSealedSeq: number
  #lastSealedRoot: Uint8Array

  // Intake: the chunk being filled, and chunks sent for recovery in submission order.
  #chunkItems: Item[] = []
  #chunkJobBuffer: Uint8Array
  #chunkJobCount = 0
  #chunkScheduled = false
  readonly #chunks: Chunk[] = []
  // Writer: recovered items waiting for the next group.
  #ready: Item[] = []
  #flushScheduled = false
  /** A group is with the log writer; the next one is built when it is applied. */
  #committing = false
  #snapshotWrite: Promise<void> = Promise.resolve()
  readonly #overlay = new GroupOverlay()

  #pending = 0
  #lastSnapshotSeq: number
  #lastTimeAdvanceMs: number
  #halted: HaltInfo | null = null
  #closing = false
  #drained: (() => void) | null = null
  readonly #listeners = new Set<(op: SequencedOp) => void>()
  readonly #haltListeners = new Set<(halt: HaltInfo) => void>()
  readonly #timer: NodeJS.Timeout | null

  private constructor(
    options: SequencerOptions,
    engine: Engine,
    writer: LogWriter,
    pool: RecoveryPool,
    snapshotSeq: number,
    lastTimeAdvanceMs: number | null,
    readLog: OpLog,
    seals: { sealedBatches: number; lastSealedSeq: number; lastSealedRoot: Uint8Array },
  ) {
    this.config = options.config
    this.#readLog = readLog
    this.#sealedBatches = seals.sealedBatches
    this.#lastSealedSeq = seals.lastSealedSeq
    this.#lastSealedRoot = seals.lastSealedRoot
    this.#engine = engine
    this.#writer = writer
    this.#pool = pool
    this.#clock = new MonotonicClock(options.clock ?? systemClock, engine.state.timestampMs)
    this.#domain = domainSeparator(options.config.chainId, options.config.settlementAddress)
    this.#logger = options.logger
    this.#metrics = options.metrics
    this.#oracleSigners = new Set(options.config.oracle.signers.map((s) => s.toLowerCase()))
    this.#snapshotIntervalOps = options.snapshotIntervalOps ?? 100_000
    this.#snapshotsKept = options.snapshotsKept ?? 2
    this.#snapshotOnClose = options.snapshotOnClose ?? true
    this.#timeAdvanceIntervalMs = options.timeAdvanceIntervalMs ?? 1_000
    this.#maxGroupOps = options.maxGroupOps ?? 8_192
    this.#maxBatchBytes = options.maxBatchBytes ?? null
    if (this.#maxBatchBytes !== null && this.#lastSealedSeq < engine.state.seq) {
      // After a restart: the open batch's size, as the seal will encode it.
      const open = readLog.entriesBetween(this.#lastSealedSeq + 1, engine.state.seq)
      this.#bytesSinceSeal = encodeBatch({ version: 1, entries: open }).length
      this.#refsSinceSeal = addressRefs(open)
    }
    this.#maxPending = options.maxPendingIntents ?? 100_000
    this.#chunkJobs = options.recoveryChunkJobs ?? 256
    this.#chunkJobBuffer = new Uint8Array(this.#chunkJobs * JOB_BYTES)
    this.#lastSnapshotSeq = snapshotSeq
    this.#lastTimeAdvanceMs = lastTimeAdvanceMs ?? engine.state.timestampMs
    this.#metrics?.lastSeq(engine.state.seq)
    if (this.#timeAdvanceIntervalMs > 0) {
      // Wall-time polling only decides when to look; whether a time advance is due is read from the clock.
      const everyMs = Math.max(5, Math.floor(this.#timeAdvanceIntervalMs / 2)) // floor: poll at least twice per interval
      this.#timer = setInterval(() => {
        if (this.#clock.nowMs() - this.#lastTimeAdvanceMs >= this.#timeAdvanceIntervalMs)
          this.#scheduleFlush()
      }, everyMs)
      this.#timer.unref()
    } else {
      this.#timer = null
    }
  }

  /**
   * Opens the data directory, recovers the engine (latest snapshot + log tail), then starts the log
   * writer and recovery threads.
   */
  static async open(options: SequencerOptions): Promise<Sequencer> {
    mkdirSync(options.dataDir, { recursive: true })
    const path = join(options.dataDir, 'sequencer.db')
    const durability = options.durability ?? 'full'
    // Opened (and created, with its identity) before the writer thread opens its own connection.
    const log = OpLog.open({ path, config: options.config, durability })
    // The threads boot while the main thread replays; both are awaited after.
    const writerStarting = LogWriter.start({ path, durability })
    const poolStarting = RecoveryPool.start(options.workers ?? availableParallelism())
    let restored: ReturnType<typeof restoreEngine>
    try {
      const started = performance.now()
      restored = restoreEngine(
        options.config,
        log,
        options.logger === undefined ? {} : { logger: options.logger },
      )
      const seconds = (performance.now() - started) / 1000
      options.metrics?.recovery(seconds, restored.replayedOps)
      options.logger?.info(
        {
          seq: restored.engine.state.seq,
          snapshotSeq: restored.snapshotSeq,
          replayedOps: restored.replayedOps,
          seconds,
        },
        'engine recovered',
      )
    } catch (error) {
      await Promise.allSettled([writerStarting.then((w) => w.close()), poolStarting.then((p) => p.close())])
      throw error
    } finally {
      log.close()
    }
    const [writer, pool] = await Promise.allSettled([writerStarting, poolStarting])
    if (writer.status === 'rejected' || pool.status === 'rejected') {
      if (writer.status === 'fulfilled') await writer.value.close()
      if (pool.status === 'fulfilled') await pool.value.close()
      throw writer.status === 'rejected' ? writer.reason : (pool as PromiseRejectedResult).reason
    }
    const readLog = OpLog.open({ path, config: options.config, readonly: true })
    const lastBatch = restored.sealedBatches === 0 ? undefined : readLog.batches(restored.sealedBatches)[0]
    const lastSealedRoot =
      lastBatch?.stateRoot ?? (restored.sealedBatches === 0 ? Engine.create(options.config).root() : null)
    if (lastSealedRoot === null) {
      readLog.close()
      await Promise.allSettled([writer.value.close(), pool.value.close()])
      throw new SequencerError(
        SequencerErrorCode.LOG_CORRUPT,
        `Batch ${restored.sealedBatches} is missing from the log.`,
      )
    }
    return new Sequencer(
      options,
      restored.engine,
      writer.value,
      pool.value,
      restored.snapshotSeq,
      restored.lastTimeAdvanceMs,
      readLog,
      { sealedBatches: restored.sealedBatches, lastSealedSeq: restored.lastSealedSeq, lastSealedRoot },
    )
  }

  // ------------------------------------------------------------------------------------------------
  // Intake

  submit(intent: SignedIntent): Promise<SubmitResult> {
    const type =
      typeof (intent as { type?: unknown })?.type === 'string' ? (intent as { type: string }).type : 'unknown'
    this.#metrics?.received(type)
    const refused = this.#refuseNew()
    if (refused !== null) return Promise.resolve(this.#refuse(refused))
    const parsed = parseIntent(intent)
    if (!('op' in parsed)) return Promise.resolve(this.#refuse(parsed))
    let digest: Uint8Array
    try {
      digest = userOpDigest(parsed.op, this.#domain)
    } catch (error) {
      // Schema and digest agree on ranges; this is a backstop, not a path.
      return Promise.resolve(this.#refuse(intakeReject(IntakeCode.BAD_REQUEST, String(error))))
    }
    return this.#enqueue('user', parsed.op, parsed.signature, NO_SIGNATURES, [digest], [parsed.signature])
  }

  /** A signed oracle price update (the oracle publisher's path, not the API's). */
  submitOracleUpdate(update: SignedOracleUpdate): Promise<SubmitResult> {
    this.#metrics?.received('oracleUpdate')
    const refused = this.#refuseNew()
    if (refused !== null) return Promise.resolve(this.#refuse(refused))
    const parsed = parseOracleUpdate(update)
    if (!('op' in parsed)) return Promise.resolve(this.#refuse(parsed))
    const digests = parsed.op.observations.map((o) => observationDigest(parsed.op.oracleId, o, this.#domain))
    return this.#enqueue('oracle', parsed.op, null, parsed.signatures, digests, parsed.signatures)
  }

  /**
   * An L1 inbox item (deposit or forced withdrawal), for the inbox reader. Items must arrive exactly
   * once and in inbox order; one out of order is refused INBOX_ORDER, never applied.
   */
  submitL1(op: DepositOp | ForcedWithdrawalOp): Promise<SubmitResult> {
    this.#metrics?.received(op.type)
    const refused = this.#refuseNew()
    if (refused !== null) return Promise.resolve(this.#refuse(refused))
    const bad = checkL1Op(op)
    if (bad !== null) return Promise.resolve(this.#refuse(intakeReject(IntakeCode.BAD_REQUEST, bad)))
    return this.#enqueue('l1', { ...op }, null, NO_SIGNATURES, [], [])
  }

  /** Answers a submission once; null items (the sequencer's own time advances) have no one to answer. */
  #answer(item: Item | null | undefined, result: SubmitResult): void {
    if (item === null || item === undefined) return
    this.#pending--
    item.resolve(result)
    if (this.#pending === 0) this.#drained?.()
  }

  #refuseNew(): SequencerRejection | null {
    if (this.#halted !== null) return intakeReject(IntakeCode.HALTED, this.#halted.message)
    if (this.#closing) return intakeReject(IntakeCode.CLOSED)
    if (this.#pending >= this.#maxPending) return intakeReject(IntakeCode.OVERLOADED)
    return null
  }

  #refuse(rejection: SequencerRejection, stage: 'intake' | 'precheck' = 'intake'): SequencerRejection {
    this.#metrics?.rejected(rejection.code, stage)
    return rejection
  }

  #enqueue(
    kind: ItemKind,
    op: Op,
    signature: Uint8Array | null,
    observationSignatures: readonly Uint8Array[],
    digests: readonly Uint8Array[],
    signatures: readonly Uint8Array[],
  ): Promise<SubmitResult> {
    this.#pending++
    return new Promise<SubmitResult>((resolve) => {
      const item: Item = {
        kind,
        op,
        signature,
        observationSignatures,
        jobs: digests.length,
        receivedAtMs: performance.now(),
        resolve,
        refusal: null,
      }
      if (this.#chunkJobCount + digests.length > this.#chunkJobs) this.#dispatchChunk()
      const jobs = this.#chunkJobBuffer
      for (let i = 0; i < digests.length; i++) {
        const at = (this.#chunkJobCount + i) * JOB_BYTES
        jobs.set(digests[i]!, at)
        jobs.set(signatures[i]!, at + 32)
      }
      this.#chunkJobCount += digests.length
      this.#chunkItems.push(item)
      if (this.#chunkJobCount >= this.#chunkJobs) this.#dispatchChunk()
      else if (!this.#chunkScheduled) {
        this.#chunkScheduled = true
        // After the caller's synchronous burst: one chunk per burst, not one per intent.
        queueMicrotask(() => this.#dispatchChunk())
      }
    })
  }

  #dispatchChunk(): void {
    this.#chunkScheduled = false
    if (this.#chunkItems.length === 0) return
    const chunk: Chunk = { items: this.#chunkItems, results: null, failed: false, done: false }
    const count = this.#chunkJobCount
    const jobs = this.#chunkJobBuffer
    this.#chunkItems = []
    this.#chunkJobCount = 0
    this.#chunks.push(chunk)
    if (count === 0) {
      chunk.done = true
      this.#releaseChunks()
      return
    }
    this.#chunkJobBuffer = new Uint8Array(this.#chunkJobs * JOB_BYTES)
    this.#pool.recover(jobs, count).then(
      (results) => {
        chunk.results = results
        chunk.done = true
        this.#releaseChunks()
      },
      (error: unknown) => {
        this.#logger?.error({ err: error }, 'signature recovery failed; intents refused as retryable')
        chunk.failed = true
        chunk.done = true
        this.#releaseChunks()
      },
    )
  }

  /** Moves finished chunks to the writer, strictly in submission order. */
  #releaseChunks(): void {
    let released = false
    while (this.#chunks.length > 0 && this.#chunks[0]!.done) {
      const chunk = this.#chunks.shift()!
      let at = 0
      for (const item of chunk.items) {
        if (chunk.failed && item.jobs > 0)
          item.refusal = intakeReject(IntakeCode.OVERLOADED, 'signature recovery failed')
        else if (item.jobs > 0) this.#attachSigners(item, chunk.results!, at)
        at += item.jobs
        this.#ready.push(item)
      }
      released = true
    }
    if (released) this.#scheduleFlush()
  }

  #attachSigners(item: Item, results: Uint8Array, firstJob: number): void {
    const ok = (job: number): boolean => results[job * RESULT_BYTES] === 1
    if (item.kind === 'user') {
      if (!ok(firstJob)) {
        item.refusal = intakeReject(IntakeCode.BAD_SIGNATURE, 'it does not recover to a public key')
        return
      }
      const op = item.op as UserOp
      const signer = addressAt(results, firstJob * RESULT_BYTES + 1)
      // Share the account's string when it signed itself: one string to hash in the engine's maps.
      op.signer = signer === op.account ? op.account : signer
      return
    }
    if (item.op.type !== 'oracleUpdate') return
    const observations = item.op.observations
    for (let i = 0; i < observations.length; i++) {
      if (!ok(firstJob + i)) {
        item.refusal = intakeReject(
          IntakeCode.BAD_SIGNATURE,
          `observation ${i} does not recover to a public key`,
        )
        return
      }
      const signer = addressAt(results, (firstJob + i) * RESULT_BYTES + 1)
      if (!this.#oracleSigners.has(signer)) {
        item.refusal = reject(RejectCode.ORACLE_UNKNOWN_SIGNER, signer)
        return
      }
      observations[i]!.signer = signer
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Writer

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#halted !== null) return
    this.#flushScheduled = true
    // setImmediate, not a microtask: worker replies that arrived meanwhile join the same group commit.
    setImmediate(() => this.#flush())
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#halted !== null || this.#committing) return
    const state = this.#engine.state
    const nowMs = this.#clock.nowMs()
    const timeAdvanceDue =
      this.#timeAdvanceIntervalMs > 0 && nowMs - this.#lastTimeAdvanceMs >= this.#timeAdvanceIntervalMs
    if (this.#ready.length === 0 && !timeAdvanceDue) return

    const take =
      this.#ready.length <= this.#maxGroupOps ? this.#ready : this.#ready.slice(0, this.#maxGroupOps)
    this.#ready = take === this.#ready ? [] : this.#ready.slice(this.#maxGroupOps)
    const entries: SignedEntry[] = []
    const items: (Item | null)[] = []
    let seq = state.seq
    if (timeAdvanceDue) {
      entries.push({
        seq: ++seq,
        timestampMs: nowMs,
        op: { type: 'timeAdvance' },
        signature: null,
        observationSignatures: [],
      })
      items.push(null)
    }
    const overlay = this.#overlay
    overlay.clear()
    let inboxNext = state.inboxConsumed
    for (const item of take) {
      if (item.refusal !== null) {
        this.#answer(item, this.#refuse(item.refusal))
        continue
      }
      const op = item.op
      if (item.kind === 'user') {
        const rejection = precheckUserOp(state, op as UserOp, nowMs, overlay)
        if (rejection !== null) {
          this.#answer(item, this.#refuse(rejection, 'precheck'))
          continue
        }
      } else if (op.type === 'deposit' || op.type === 'forcedWithdrawal') {
        if (op.inboxIndex !== inboxNext) {
          this.#answer(
            item,
            this.#refuse(
              intakeReject(IntakeCode.INBOX_ORDER, `item ${op.inboxIndex}, expected ${inboxNext}`),
            ),
          )
          continue
        }
        inboxNext++
        if (op.type === 'deposit') overlay.unsettled.add(op.account)
      }
      entries.push({
        seq: ++seq,
        timestampMs: nowMs,
        op,
        signature: item.signature,
        observationSignatures: item.observationSignatures,
      })
      items.push(item)
    }
    const encoded = this.#encode(entries, items)
    if (encoded === null) {
      if (this.#ready.length > 0) this.#scheduleFlush()
      return
    }
    let group = encoded
    let groupRefs = 0
    if (this.#maxBatchBytes !== null) {
      const limit = this.#maxBatchBytes
      // A group too large for half a batch keeps the entries that fit; the rest go back to the queue.
      while (group.batch.length + 2 * addressRefs(entries) > limit / 2 && entries.length > 1) {
        const keep = Math.max(1, Math.floor((entries.length * limit) / 4 / group.batch.length)) // floor: stay under
        const back = items.splice(keep).filter((item): item is Item => item !== null)
        entries.length = keep
        this.#ready = [...back, ...this.#ready]
        group = encodeGroup(entries, state.seq, state.timestampMs)! // entries is not empty
      }
      groupRefs = addressRefs(entries)
      // Seal before a group that would take the open batch past what one proposal carries. Group encodings
      // add up to at least the batch's, except that the batch indexes one larger address table: an index
      // can take up to 2 more bytes (a uvarint of 3 bytes instead of 1) per address reference.
      const bound = this.#bytesSinceSeal + 2 * this.#refsSinceSeal + group.batch.length + 2 * groupRefs
      if (this.#bytesSinceSeal > 0 && bound > limit) {
        if (this.sealBatch() === null) {
          // Halted by the seal, or closing: nothing more may join the open batch, queued intents included.
          const why =
            this.#halted !== null
              ? intakeReject(IntakeCode.HALTED, 'the node halted')
              : intakeReject(IntakeCode.CLOSED, 'the sequencer is shutting down')
          for (const item of items) this.#answer(item, why)
          for (const item of this.#ready) this.#answer(item, why)
          this.#ready = []
          return
        }
      }
    }
    const groupBytes = group.batch.length
    this.#committing = true
    const started = performance.now()
    this.#writer.append(group).then(
      () => {
        this.#metrics?.logCommit((performance.now() - started) / 1000, entries.length)
        this.#applyGroup(entries, items)
        this.#bytesSinceSeal += groupBytes
        this.#refsSinceSeal += groupRefs
        this.#committing = false
        // Whatever arrived during this commit forms the next group at once.
        this.#flush()
      },
      (error: unknown) => {
        this.#committing = false
        for (const item of items) this.#answer(item, intakeReject(IntakeCode.HALTED, 'the log write failed'))
        this.#halt(HaltCode.LOG_WRITE_FAILED, `log write failed: ${String(error)}`, null, error)
      },
    )
  }

  /**
   * Encodes the group; entries that cannot be encoded (a backstop: intake admits only encodable
   * intents) are refused and the rest renumbered, keeping `items` parallel to `entries`.
   */
  #encode(entries: SignedEntry[], items: (Item | null)[]): EncodedGroup | null {
    const { seq, timestampMs } = this.#engine.state
    try {
      return encodeGroup(entries, seq, timestampMs)
    } catch (error) {
      if (!(error instanceof CodecError)) throw error
      this.#logger?.error({ err: error }, 'a group did not encode; isolating the entries at fault')
    }
    const keptEntries: SignedEntry[] = []
    const keptItems: (Item | null)[] = []
    for (let i = 0; i < entries.length; i++) {
      const entry = { ...entries[i]!, seq: seq + keptEntries.length + 1 }
      try {
        encodeBatch({ version: 1, entries: [entry] })
      } catch (error) {
        this.#answer(
          items[i],
          this.#refuse(intakeReject(IntakeCode.BAD_REQUEST, `not encodable: ${String(error)}`)),
        )
        continue
      }
      keptEntries.push(entry)
      keptItems.push(items[i]!)
    }
    entries.length = 0
    entries.push(...keptEntries)
    items.length = 0
    items.push(...keptItems)
    return encodeGroup(entries, seq, timestampMs)
  }

  #applyGroup(entries: SignedEntry[], items: (Item | null)[]): void {
    const engine = this.#engine
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      const item = items[i] ?? null
      const op = entry.op
      let applied: ReturnType<Engine['apply']>
      try {
        applied = engine.apply(op, { seq: entry.seq, timestampMs: entry.timestampMs })
      } catch (error) {
        // Durable but not applied: these intents are in the log without an acknowledgement.
        for (let j = i; j < items.length; j++)
          this.#answer(items[j], intakeReject(IntakeCode.HALTED, 'engine invariant broken'))
        const message =
          error instanceof EngineInvariantError ? error.message : `engine threw: ${String(error)}`
        this.#halt(HaltCode.ENGINE_INVARIANT, message, entry.seq, error)
        return
      }
      if (op.type === 'timeAdvance') this.#lastTimeAdvanceMs = entry.timestampMs
      const outcome = applied.result
      this.#metrics?.sequenced(op.type, outcome.ok ? 'ok' : outcome.code)
      if (this.#listeners.size > 0) {
        this.#publish({
          seq: entry.seq,
          timestampMs: entry.timestampMs,
          type: op.type,
          account: 'account' in op ? op.account : null,
          outcome,
          events: applied.events,
        })
      }
      if (item !== null) {
        this.#metrics?.ackLatency((performance.now() - item.receivedAtMs) / 1000)
        this.#answer(item, { ok: true, seq: entry.seq, timestampMs: entry.timestampMs, outcome })
      }
    }
    this.#metrics?.lastSeq(engine.state.seq)
    if (
      this.#snapshotIntervalOps > 0 &&
      engine.state.seq - this.#lastSnapshotSeq >= this.#snapshotIntervalOps
    ) {
      this.#snapshot()
    }
  }

  #publish(op: SequencedOp): void {
    for (const listener of this.#listeners) {
      try {
        listener(op)
      } catch (error) {
        this.#logger?.error({ err: error, seq: op.seq }, 'subscriber threw; it keeps receiving')
      }
    }
  }

  /**
   * Serialises the state now and hands it to the log writer, behind the groups already sent. A failure
   * is logged, not fatal: the log alone can rebuild the state.
   */
  #snapshot(): void {
    const seq = this.#engine.state.seq
    const started = performance.now()
    this.#lastSnapshotSeq = seq // also on failure: retry after another interval, not on every group
    let bytes: Uint8Array
    let root: Uint8Array
    try {
      bytes = this.#engine.snapshot()
      root = this.#engine.root()
    } catch (error) {
      this.#logger?.error({ err: error, seq }, 'snapshot failed; the log still holds everything')
      return
    }
    const size = bytes.length
    this.#snapshotWrite = this.#writer
      .writeSnapshot(seq, root, bytes, this.#snapshotsKept, this.#sealedBatches)
      .then(
        () => {
          const seconds = (performance.now() - started) / 1000
          this.#metrics?.snapshot(seconds, size)
          this.#logger?.info({ seq, bytes: size, seconds }, 'snapshot written')
        },
        (error: unknown) =>
          this.#logger?.error({ err: error, seq }, 'snapshot not stored; the log still holds everything'),
      )
  }

  #halt(code: HaltCode, message: string, seq: number | null, cause: unknown): void {
    if (this.#halted !== null) return
    const halt: HaltInfo = { code, message, seq }
    this.#halted = halt
    this.#logger?.fatal({ code, seq, err: cause }, `sequencer halted: ${message}`)
    this.#metrics?.halted(code)
    if (this.#timer !== null) clearInterval(this.#timer)
    const refusal = intakeReject(IntakeCode.HALTED, message)
    for (const item of this.#ready) this.#answer(item, refusal)
    this.#ready = []
    for (const item of this.#chunkItems) this.#answer(item, refusal)
    this.#chunkItems = []
    this.#chunkJobCount = 0
    for (const chunk of this.#chunks) for (const item of chunk.items) this.#answer(item, refusal)
    this.#chunks.length = 0
    void this.#writer.close()
    for (const listener of this.#haltListeners) listener(halt)
  }

  // ------------------------------------------------------------------------------------------------
  // Batches

  /** Entries sequenced (and applied) since the last seal. */
  get opsSinceSeal(): number {
    return this.#engine.state.seq - this.#lastSealedSeq
  }

  get sealedBatches(): number {
    return this.#sealedBatches
  }

  /**
   * Seals the open batch at the engine's current seq: the invariant gate, the roots, the batch's entries
   * read back from the log and encoded, then packed for posting. The record is written behind every group
   * already sent to the log writer; `durable` resolves when it is committed, and nothing may be posted
   * before. Returns null when nothing was sequenced since the last seal, or when halted. A broken
   * invariant halts the node (ENGINE_INVARIANT): no root is built on a broken state.
   */
  sealBatch(): { record: BatchRecord; durable: Promise<void> } | null {
    if (this.#halted !== null || this.#closing) return null
    const engine = this.#engine
    const lastSeq = engine.state.seq
    if (lastSeq === this.#lastSealedSeq) return null
    const batchIndex = this.#sealedBatches + 1
    const firstSeq = this.#lastSealedSeq + 1
    let record: BatchRecord
    try {
      const entries = this.#readLog.entriesBetween(firstSeq, lastSeq)
      const data = packBatchData(encodeBatch({ version: 1, entries }))
      const dataHash = keccak256(data)
      const sealed = engine.sealBatch(BigInt(batchIndex))
      record = {
        batchIndex,
        firstSeq,
        lastSeq,
        prevStateRoot: this.#lastSealedRoot,
        stateRoot: sealed.stateRoot,
        withdrawalsRoot: sealed.withdrawalsRoot,
        inboxConsumed: sealed.inboxConsumed,
        data,
        dataHash,
        withdrawals: JSON.stringify(
          sealed.withdrawals.map((w) => ({
            account: w.account,
            amountQuantums: w.amountQuantums.toString(),
          })),
        ),
      }
    } catch (error) {
      const message =
        error instanceof EngineInvariantError
          ? `the seal of batch ${batchIndex} failed its invariant gate: ${error.message}`
          : `the seal of batch ${batchIndex} failed: ${String(error)}`
      this.#halt(HaltCode.ENGINE_INVARIANT, message, lastSeq, error)
      return null
    }
    this.#sealedBatches = batchIndex
    this.#lastSealedSeq = lastSeq
    this.#bytesSinceSeal = 0
    this.#refsSinceSeal = 0
    this.#lastSealedRoot = record.stateRoot
    this.#logger?.info(
      { batchIndex, firstSeq, lastSeq, bytes: record.data.length, stateRoot: bytesToHex(record.stateRoot) },
      'batch sealed',
    )
    this.#metrics?.batchSealed(lastSeq - firstSeq + 1, record.data.length)
    const durable = this.#writer.writeBatch(record)
    durable.catch((error: unknown) =>
      this.#halt(HaltCode.LOG_WRITE_FAILED, `batch ${batchIndex} not stored: ${String(error)}`, null, error),
    )
    return { record, durable }
  }

  /** Sealed batches from `fromIndex` on, as stored (committed records only); `withData` false leaves out the posted bytes. */
  batches(fromIndex = 1, withData = true): StoredBatch[] {
    return this.#readLog.batches(fromIndex, withData)
  }

  /** One sealed batch with its posted bytes, or null. */
  batch(batchIndex: number): StoredBatch | null {
    return this.#readLog.batch(batchIndex)
  }

  /** Records where a batch of ours stands on L1. */
  setBatchStatus(batchIndex: number, status: BatchStatus, txHash: Hex | null): Promise<void> {
    return this.#writer.setBatchStatus(batchIndex, status, txHash)
  }

  /** Stops the node loudly, for a part outside the core (the batcher) that found it must not go on. */
  halt(code: HaltCode, message: string): void {
    this.#halt(code, message, null, null)
  }

  // ------------------------------------------------------------------------------------------------
  // Queries, subscriptions, lifecycle

  subscribe(listener: (op: SequencedOp) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Called once if the node halts. */
  onHalt(listener: (halt: HaltInfo) => void): () => void {
    this.#haltListeners.add(listener)
    return () => {
      this.#haltListeners.delete(listener)
    }
  }

  get halted(): HaltInfo | null {
    return this.#halted
  }

  /** The live engine, for in-process readers that need more than the queries; never mutate it. */
  get engine(): Engine {
    return this.#engine
  }

  status(): Promise<SequencerStatus> {
    const state = this.#engine.state
    return Promise.resolve({
      seq: state.seq,
      timestampMs: state.timestampMs,
      stateRoot: bytesToHex(this.#engine.root()),
      snapshotSeq: this.#lastSnapshotSeq,
      inboxConsumed: state.inboxConsumed,
      pendingIntents: this.#pending,
      halted: this.#halted,
    })
  }

  account(address: string): Promise<AccountView | null> {
    const state = this.#engine.state
    const account =
      typeof address === 'string' ? state.accountByAddress(address.toLowerCase() as Address) : undefined
    if (account === undefined || account.accountId === INSURANCE_FUND_ACCOUNT_ID) return Promise.resolve(null)
    const risk = accountRisk(state, account)
    const positions = []
    for (let m = 0; m < account.markets.length; m++) {
      const am = account.markets[m]
      if (am !== undefined && am.sizeLots !== 0) {
        positions.push({ marketId: m, sizeLots: am.sizeLots, costBasisQuantums: am.costBasisQuantums })
      }
    }
    const openOrders = [...(account.orders?.values() ?? [])].map((o) => ({
      orderId: o.orderId,
      marketId: o.marketId,
      side: o.side,
      kind: o.kind,
      tif: o.tif,
      priceTicks: o.priceTicks,
      remainingLots: o.remainingLots,
      triggerPriceTicks: o.triggerPriceTicks,
      triggered: o.triggered,
      reduceOnly: o.reduceOnly,
      postOnly: o.postOnly,
      clientOrderId: o.clientOrderId,
      expiresAtMs: o.expiresAtMs,
    }))
    const agents = [...(account.agents?.entries() ?? [])].map(([agent, expiresAtMs]) => ({
      agent,
      expiresAtMs,
    }))
    return Promise.resolve({
      accountId: account.accountId,
      address: account.address,
      collateralQuantums: account.collateralQuantums,
      equityQuantums: risk.equityQuantums,
      initialMarginQuantums: risk.initialMarginQuantums,
      maintenanceMarginQuantums: risk.maintenanceMarginQuantums,
      positions,
      openOrders,
      agents,
    })
  }

  orderBook(marketId: number, levels: number): Promise<BookView | null> {
    const market = Number.isSafeInteger(marketId) ? this.#engine.state.markets[marketId] : undefined
    if (market === undefined) return Promise.resolve(null)
    const n = Number.isSafeInteger(levels) && levels > 0 ? Math.min(levels, 1_000) : 20
    return Promise.resolve({
      marketId,
      markPriceTicks: market.markPriceTicks,
      reduceOnly: market.reduceOnly,
      bids: market.book.depth(Side.Buy, n),
      asks: market.book.depth(Side.Sell, n),
    })
  }

  /**
   * Stops intake (new submissions get CLOSED), answers everything in flight, writes a snapshot if
   * anything happened since the last one, and releases the workers and the database.
   */
  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    if (this.#timer !== null) clearInterval(this.#timer)
    if (this.#pending > 0 && this.#halted === null) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve
        this.#dispatchChunk()
      })
    }
    if (this.#halted === null && this.#snapshotOnClose && this.#engine.state.seq > this.#lastSnapshotSeq) {
      this.#snapshot()
    }
    await this.#snapshotWrite
    await this.#pool.close()
    await this.#writer.close()
    this.#readLog.close()
  }
}

/**
 * An upper bound of the address-table references `entries` make in the batch codec: the account and one
 * more address (an agent, a signer) per entry, and one per oracle observation.
 */
function addressRefs(entries: readonly SignedEntry[]): number {
  let refs = 0
  for (const e of entries) refs += 2 + e.observationSignatures.length
  return refs
}

/** Shape of an L1 op as the codec and the engine need it; null when fine. */
function checkL1Op(op: DepositOp | ForcedWithdrawalOp): string | null {
  if (op === null || typeof op !== 'object' || (op.type !== 'deposit' && op.type !== 'forcedWithdrawal')) {
    return 'type must be deposit or forcedWithdrawal'
  }
  if (typeof op.account !== 'string' || !LOWER_ADDRESS.test(op.account))
    return 'account must be a lowercase address'
  if (typeof op.amountQuantums !== 'bigint' || op.amountQuantums > MAX_U64 || op.amountQuantums < 0n) {
    return 'amountQuantums must be a uint64 bigint'
  }
  if (op.type === 'deposit' && op.amountQuantums === 0n) return 'a deposit must be positive'
  if (!Number.isSafeInteger(op.inboxIndex) || op.inboxIndex < 0) return 'inboxIndex must be a safe integer'
  return null
}
