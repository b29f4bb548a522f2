import type { Logger } from 'pino'
import { bytesToHex, type Hex } from 'viem'
import { blobDataHashOf, MAX_BLOB_DATA_BYTES } from '../../settlement-contracts/ts/blobs.ts'
import {
  type BatchHeader,
  type DataMode,
  MAX_CALLDATA_BATCH_BYTES,
  type ProposedBatchLog,
  revertErrorName,
  type SettlementClient,
} from '../../settlement-contracts/ts/client.ts'
import { settlementAbi } from '../../settlement-contracts/ts/generated/abis.ts'
import { HaltCode } from '../api.ts'
import type { StoredBatch } from '../log/opLog.ts'
import type { SequencerMetrics } from '../metrics.ts'
import { Repeating } from '../repeating.ts'
import type { Sequencer } from '../sequencer.ts'
import type { Prover, ProverAnswer } from './prover.ts'

export interface BatcherOptions {
  sequencer: Sequencer
  /** Signs as the settlement's PROPOSER. */
  client: SettlementClient
  /** Answers challenges on our batches; without one a challenge is logged and left to revert. */
  prover?: Prover | null
  /** Seal after this many sequenced ops... */
  maxOps: number
  /** ...or this many ms after the last seal, whichever comes first (when anything was sequenced). */
  intervalMs: number
  /** How often `start` runs a tick. Default 1,000 ms. */
  pollIntervalMs?: number
  /** The settlement's deployment block: where event scans start. */
  fromBlock: bigint
  /**
   * How batch data goes to L1: `'blobs'` (EIP-4844, the default) or `'calldata'`. A batch too large for
   * the blobs of one proposal goes as calldata whatever this says.
   */
  dataMode?: DataMode
  /** Wall-clock ms, for the seal interval only. */
  clock?: () => number
  /**
   * Re-post our batches that L1 reverted instead of halting. Off by default: a revert of a batch of ours
   * means the prover failed to defend it in time, and an operator should look first (docs/operations.md).
   */
  repostReverted?: boolean
  logger?: Logger
  metrics?: Pick<SequencerMetrics, 'batchPosted' | 'batchStatus'>
}

export interface TickReport {
  sealed: number | null
  posted: number[]
  proven: number[]
  resolved: number[]
  finalized: number[]
  creditClaimedWei: bigint
}

/** What a batch of ours is doing on L1, as of the last tick. */
export interface TrackedBatch {
  batchIndex: number
  status: 'sealed' | 'posted' | 'challenged' | 'proven' | 'finalized'
  header: BatchHeader | null
}

const MAX_LOG_RANGE = 2_000n

/**
 * The batcher: seals the sequencer's open batch every `maxOps` ops or `intervalMs`, posts sealed
 * batches to `proposeBatch` in order, and follows each to finalized, answering challenges through the
 * Prover and calling `resolve` when a batch is due.
 *
 * Posting is idempotent: L1 is the source of truth. Every tick reads which batches are live on L1 and
 * matches them with ours by content (roots, data hash, inbox count), so a post whose receipt was lost to
 * a crash or an RPC error is found, never sent twice; a batch is posted only on top of our own previous
 * root, so none is skipped. A batch of ours that L1 reverted halts the node (BATCH_REVERTED) unless
 * `repostReverted`; a batch on L1 that is not ours (someone else holding the proposer key) is never built
 * on: the batcher waits for it to be challenged and reverted.
 */
export class Batcher {
  readonly #o: BatcherOptions
  readonly #clock: () => number
  readonly #log: Logger | undefined
  /** Every BatchProposed seen, by batch hash. */
  readonly #proposals = new Map<Hex, ProposedBatchLog>()
  readonly #tracked = new Map<number, TrackedBatch>()
  /** Proofs being built for our challenged batches, by batch hash: the prover runs beside the ticks. */
  readonly #proofs = new Map<Hex, ProofJob>()
  readonly #warned = new Set<string>()
  /** Our batches' blob `dataHash`, by index: computing one takes a KZG commitment per blob. */
  readonly #blobDataHashes = new Map<number, Hex>()
  #scannedBlock: bigint
  #lastSealAtMs: number
  readonly #loop: Repeating
  #consecutiveErrors = 0
  /** Our lowest batch index not yet seen finalized. */
  #firstOpen = 1
  /** Our batches known live on L1 in `#liveEpoch`, so a tick reads each header once, not every tick. */
  readonly #live = new Map<number, BatchHeader>()
  #liveEpoch = -1n
  /** Hash of the block `#scannedBlock` when it was scanned: a change means an L1 reorg. */
  #scannedHash: Hex | null = null
  /** Set when a live header's log was not found: the next scan reads the last range again. */
  #rescanBack = false
  /** Dispute state by batch hash, from BatchChallenged and BatchProven logs. */
  readonly #disputes = new Map<Hex, 'challenged' | 'proven'>()

  constructor(options: BatcherOptions) {
    this.#o = options
    this.#clock = options.clock ?? Date.now
    this.#log = options.logger
    this.#scannedBlock = options.fromBlock - 1n
    this.#lastSealAtMs = this.#clock()
    this.#loop = new Repeating({
      task: () => this.tick(),
      everyMs: options.pollIntervalMs ?? 1_000,
      onError: (error) => this.#tickFailed(error),
    })
  }

  /** Ticks now, then `pollIntervalMs` after each tick ends. */
  start(): void {
    this.#loop.start()
  }

  /** Stops the timer and waits for a tick in flight. */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /** Resolves when every proof being built now has its answer (the next tick sends it). */
  async proofsSettled(): Promise<void> {
    await Promise.all([...this.#proofs.values()].map((job) => job.done))
  }

  /** Our batches from the last finalized one on, as of the last tick. */
  tracked(): TrackedBatch[] {
    return [...this.#tracked.values()].sort((a, b) => a.batchIndex - b.batchIndex)
  }

  /** One round: seal if due, read L1, post, prove, resolve, claim. Tests drive it directly. */
  async tick(options: { forceSeal?: boolean } = {}): Promise<TickReport> {
    const report: TickReport = {
      sealed: null,
      posted: [],
      proven: [],
      resolved: [],
      finalized: [],
      creditClaimedWei: 0n,
    }
    const sequencer = this.#o.sequencer
    if (sequencer.halted !== null) return report
    report.sealed = await this.#maybeSeal(options.forceSeal === true)
    const client = this.#o.client
    const settlement = client.settlement
    await this.#scan()
    const [latestIndex, finalizedIndex, latestRoot, frozen, epoch] = await Promise.all([
      settlement.read.latestBatchIndex(),
      settlement.read.finalizedBatchIndex(),
      settlement.read.latestStateRoot(),
      settlement.read.isFrozen(),
      settlement.read.epoch(),
    ])
    // A revert bumps the epoch: the live headers we knew may be gone.
    if (epoch !== this.#liveEpoch) {
      this.#live.clear()
      this.#liveEpoch = epoch
    }
    if (frozen) {
      sequencer.halt(
        HaltCode.SETTLEMENT_FROZEN,
        'the settlement contract is frozen: no batch can be posted again; users exit with escape (docs/operations.md, "Halts")',
      )
      return report
    }
    let latest = Number(latestIndex)
    const finalized = Number(finalizedIndex)
    const ours = sequencer.batches(this.#firstOpen, false)
    let chainRoot: Hex = latestRoot
    for (const batch of ours) {
      const i = batch.batchIndex
      if (i <= finalized) {
        if (batch.status !== 'finalized') {
          const header = await this.#liveHeader(i)
          if (header === null) {
            // Its log is not in what we scanned (an RPC lagging, or a reorg): look again next tick.
            this.#rescanBack = true
            break
          }
          if (!(await this.#isOurs(batch, header))) {
            sequencer.halt(
              HaltCode.BATCH_CONFLICT,
              `batch ${i} finalized on L1 is not ours (root ${header.stateRoot}, ours ${bytesToHex(batch.stateRoot)}): ` +
                'the node state is not what L1 settled; see docs/operations.md, "Halts"',
            )
            return report
          }
          await sequencer.setBatchStatus(i, 'finalized', batch.txHash)
          this.#o.metrics?.batchStatus('finalized', i)
          report.finalized.push(i)
          this.#log?.info({ batchIndex: i }, 'batch finalized')
        }
        this.#tracked.delete(i)
        this.#live.delete(i)
        this.#blobDataHashes.delete(i)
        if (i === this.#firstOpen) this.#firstOpen = i + 1
        continue
      }
      if (i <= latest) {
        const header = this.#live.get(i) ?? (await this.#liveHeader(i))
        if (header === null) {
          this.#rescanBack = true
          this.#warnOnce(`nolog-${i}`, () =>
            this.#log?.warn(
              { batchIndex: i },
              'batch is live on L1 but its BatchProposed log is not found yet',
            ),
          )
          break
        }
        if (!(await this.#isOurs(batch, header))) {
          this.#warnOnce(`foreign-${i}-${header.stateRoot}`, () =>
            this.#log?.error(
              { batchIndex: i, theirs: header.stateRoot, ours: bytesToHex(batch.stateRoot) },
              'batch on L1 at our next index is not ours: not building on it; waiting for it to be challenged and reverted',
            ),
          )
          break
        }
        this.#live.set(i, header)
        if (batch.status === 'sealed') {
          const found = [...this.#proposals.values()].find((p) => p.header.stateRoot === header.stateRoot)
          await sequencer.setBatchStatus(i, 'posted', found?.transactionHash ?? null)
          this.#log?.info({ batchIndex: i }, 'batch found on L1 (posted before a restart or an RPC error)')
        }
        await this.#follow(batch, header, report)
        continue
      }
      // Not on L1 (any more). A batch still recorded as sealed may have been posted and reverted while the
      // node was down (the post landed, the status write did not): the logs say so.
      if (batch.status === 'sealed' && (await this.#wasReverted(batch))) batch.status = 'posted'
      if (batch.status === 'posted' && !(await this.#wasReverted(batch))) {
        // Gone without a revert: an L1 reorg dropped the proposal. Post it again.
        this.#log?.warn({ batchIndex: i }, 'batch of ours is no longer on L1 (an L1 reorg); posting it again')
        await sequencer.setBatchStatus(i, 'sealed', null)
        batch.status = 'sealed'
      }
      if (batch.status === 'posted') {
        if (this.#o.repostReverted !== true) {
          this.#o.metrics?.batchStatus('reverted', i)
          sequencer.halt(
            HaltCode.BATCH_REVERTED,
            `batch ${i} of ours was reverted on L1 (L1 now ends at batch ${latest}); not building on state L1 dropped. ` +
              'See docs/operations.md, "Halts": after checking why it was not proven, restart with batch.repostReverted.',
          )
          return report
        }
        this.#log?.warn({ batchIndex: i }, 'batch of ours was reverted; posting it again (repostReverted)')
        await sequencer.setBatchStatus(i, 'sealed', null)
        batch.status = 'sealed'
      }
      if (i !== latest + 1 || bytesToHex(batch.prevStateRoot) !== chainRoot.toLowerCase()) break
      const withData = sequencer.batch(i)
      if (withData === null) break
      const header = await this.#post(withData)
      if (header === null) break
      report.posted.push(i)
      chainRoot = header.stateRoot
      latest = i
      this.#live.set(i, header)
      await this.#follow({ ...batch, status: 'posted' }, header, report)
    }
    await this.#resolveDue(finalized, report)
    // Proofs for batches no longer pending (finalized, or reverted) are not needed any more.
    if (this.#proofs.size > 0) {
      const pending = new Set<Hex>()
      for (const t of this.#tracked.values()) {
        try {
          if (t.header !== null) pending.add(this.#hashOf(t.header))
        } catch {
          // a header no longer in the scanned logs: its batch is not pending
        }
      }
      for (const hash of this.#proofs.keys()) if (!pending.has(hash)) this.#proofs.delete(hash)
    }
    report.creditClaimedWei = await this.#claimCredit()
    this.#consecutiveErrors = 0
    return report
  }

  async #maybeSeal(force: boolean): Promise<number | null> {
    const sequencer = this.#o.sequencer
    const ops = sequencer.opsSinceSeal
    if (ops === 0) return null
    const now = this.#clock()
    if (!force && ops < this.#o.maxOps && now - this.#lastSealAtMs < this.#o.intervalMs) return null
    const sealed = sequencer.sealBatch()
    if (sealed === null) return null
    this.#lastSealAtMs = now
    await sealed.durable
    return sealed.record.batchIndex
  }

  /**
   * Reads new BatchProposed, BatchChallenged and BatchProven logs, in block ranges of at most
   * MAX_LOG_RANGE. When the last block scanned is no longer on the chain (an L1 reorg), everything read
   * is dropped and the logs are read again from the deployment block: headers whose block was replaced
   * have another `proposedAt`, so another hash.
   */
  async #scan(): Promise<void> {
    const client = this.#o.client.client
    const head = await client.getBlockNumber({ cacheTime: 0 })
    if (this.#scannedHash !== null && this.#scannedBlock >= this.#o.fromBlock) {
      const block = await client.getBlock({ blockNumber: this.#scannedBlock }).catch(() => null)
      if (block === null || block.hash !== this.#scannedHash) {
        this.#log?.warn(
          { block: this.#scannedBlock.toString() },
          'L1 reorg under scanned blocks; reading the logs again',
        )
        this.#proposals.clear()
        this.#disputes.clear()
        this.#live.clear()
        this.#tracked.clear()
        this.#scannedBlock = this.#o.fromBlock - 1n
      }
    }
    if (this.#rescanBack) {
      this.#rescanBack = false
      const back = this.#scannedBlock - MAX_LOG_RANGE
      this.#scannedBlock = back < this.#o.fromBlock - 1n ? this.#o.fromBlock - 1n : back
    }
    while (this.#scannedBlock < head) {
      const fromBlock = this.#scannedBlock + 1n
      const toBlock = fromBlock + MAX_LOG_RANGE - 1n < head ? fromBlock + MAX_LOG_RANGE - 1n : head
      for (const log of await this.#o.client.proposedBatches({ fromBlock, toBlock })) {
        this.#proposals.set(log.batchHash.toLowerCase() as Hex, log)
      }
      const range = {
        address: this.#o.client.settlementAddress,
        abi: settlementAbi,
        fromBlock,
        toBlock,
        strict: true,
      } as const
      const [challenged, proven] = await Promise.all([
        this.#o.client.client.getContractEvents({ ...range, eventName: 'BatchChallenged' }),
        this.#o.client.client.getContractEvents({ ...range, eventName: 'BatchProven' }),
      ])
      // A proof always follows its challenge, so proofs are applied last.
      for (const log of challenged) this.#disputes.set(log.args.batchHash.toLowerCase() as Hex, 'challenged')
      for (const log of proven) this.#disputes.set(log.args.batchHash.toLowerCase() as Hex, 'proven')
      this.#scannedBlock = toBlock
    }
    if (this.#scannedBlock >= this.#o.fromBlock) {
      this.#scannedHash = (await client.getBlock({ blockNumber: this.#scannedBlock })).hash
    }
  }

  /** Whether L1 reverted our proposal of `batch` (the epoch moved past the one it was proposed in). */
  async #wasReverted(batch: StoredBatch): Promise<boolean> {
    const stateRoot = bytesToHex(batch.stateRoot)
    let epoch: bigint | null = null
    for (const p of this.#proposals.values()) {
      if (
        Number(p.header.batchIndex) === batch.batchIndex &&
        p.header.stateRoot.toLowerCase() === stateRoot
      ) {
        if (epoch === null || p.header.epoch > epoch) epoch = p.header.epoch
      }
    }
    if (epoch === null) return false
    return (await this.#o.client.settlement.read.epoch()) > epoch
  }

  /** The live header at `batchIndex` on L1, from the logs; null if not seen. */
  async #liveHeader(batchIndex: number): Promise<BatchHeader | null> {
    const hash = (await this.#o.client.settlement.read.batchHashOf([BigInt(batchIndex)])).toLowerCase() as Hex
    return this.#proposals.get(hash)?.header ?? null
  }

  #hashOf(header: BatchHeader): Hex {
    for (const [hash, log] of this.#proposals) {
      const h = log.header
      if (
        h.batchIndex === header.batchIndex &&
        h.epoch === header.epoch &&
        h.proposedAt === header.proposedAt &&
        h.stateRoot === header.stateRoot
      )
        return hash
    }
    throw new Error(`batch ${header.batchIndex}: header not from the scanned logs`)
  }

  async #post(batch: StoredBatch): Promise<BatchHeader | null> {
    const started = performance.now()
    const client = this.#o.client
    // A proposal sent before (by this run or before a restart) whose fate we never learned: do not send a
    // second one while it may still land; it would only revert and burn gas.
    if (batch.txHash !== null) {
      const state = await client.transactionState(batch.txHash)
      if (state === 'pending') {
        this.#log?.info({ batchIndex: batch.batchIndex, tx: batch.txHash }, 'proposal still pending; waiting')
        return null
      }
      // Mined and live: the next tick finds it on L1. Reverted or dropped: send it again.
      if (state === 'success') return null
    }
    const dataMode = this.#o.dataMode ?? 'blobs'
    const maxBytes = dataMode === 'blobs' ? MAX_BLOB_DATA_BYTES : MAX_CALLDATA_BATCH_BYTES
    if (batch.data.length > maxBytes) {
      // Sealed under a larger limit (another data mode, or before the node capped batches): it can never
      // be posted this way, and every later batch waits behind it.
      this.#o.sequencer.halt(
        HaltCode.BATCH_TOO_LARGE,
        `batch ${batch.batchIndex} is ${batch.data.length} bytes; one ${dataMode} proposal carries at most ${maxBytes}. ` +
          (dataMode === 'calldata'
            ? 'Restart with batch.dataMode "blobs" to post it (docs/operations.md, "Halts")'
            : 'It was sealed before the node capped batch sizes; see docs/operations.md, "Halts"'),
      )
      return null
    }
    try {
      const hash = await client.sendProposeBatch({
        prevStateRoot: bytesToHex(batch.prevStateRoot),
        stateRoot: bytesToHex(batch.stateRoot),
        withdrawalsRoot: bytesToHex(batch.withdrawalsRoot),
        inboxConsumed: BigInt(batch.inboxConsumed),
        batchData: batch.data,
        dataMode,
      })
      await this.#o.sequencer.setBatchStatus(batch.batchIndex, 'sealed', hash)
      const proposed = await client.proposed(hash)
      if (Number(proposed.header.batchIndex) !== batch.batchIndex) {
        // Cannot happen while prev roots chain; a loud log if it ever does.
        this.#log?.fatal(
          { ours: batch.batchIndex, onChain: proposed.header.batchIndex.toString() },
          'batch landed at another index',
        )
      }
      this.#proposals.set(proposed.batchHash.toLowerCase() as Hex, {
        header: proposed.header,
        batchHash: proposed.batchHash,
        blockNumber: proposed.receipt.blockNumber,
        transactionHash: proposed.hash,
      })
      await this.#o.sequencer.setBatchStatus(batch.batchIndex, 'posted', proposed.hash)
      const seconds = (performance.now() - started) / 1000
      this.#o.metrics?.batchPosted(seconds, proposed.gasUsed)
      this.#o.metrics?.batchStatus('proposed', batch.batchIndex)
      this.#log?.info(
        {
          batchIndex: batch.batchIndex,
          ops: batch.lastSeq - batch.firstSeq + 1,
          bytes: batch.data.length,
          gasUsed: proposed.gasUsed.toString(),
          tx: proposed.hash,
        },
        'batch proposed',
      )
      return proposed.header
    } catch (error) {
      const name = revertErrorName(error)
      // The next tick reads L1 again and decides; a post that did land is found there.
      this.#log?.warn(
        { batchIndex: batch.batchIndex, revert: name, err: name === undefined ? error : undefined },
        'proposeBatch failed; will retry after reading L1 again',
      )
      return null
    }
  }

  /** Tracks a live batch of ours; answers a challenge on it through the prover. */
  async #follow(batch: StoredBatch, header: BatchHeader, report: TickReport): Promise<void> {
    const i = batch.batchIndex
    const batchHash = this.#hashOf(header)
    const dispute = this.#disputes.get(batchHash)
    const tracked: TrackedBatch = { batchIndex: i, status: 'posted', header }
    this.#tracked.set(i, tracked)
    if (dispute === 'proven') {
      tracked.status = 'proven'
      this.#proofs.delete(batchHash) // proven by someone else meanwhile: the answer is not needed
      return
    }
    if (dispute !== 'challenged') return
    tracked.status = 'challenged'
    const prover = this.#o.prover
    if (prover === undefined || prover === null) {
      this.#warnOnce(`noprover-${batchHash}`, () => {
        this.#o.metrics?.batchStatus('challenged', i)
        this.#log?.error(
          { batchIndex: i },
          'no prover configured: the challenged batch will revert after the prove window',
        )
      })
      return
    }
    // Building a proof can take as long as replaying the chain: it runs beside the ticks, which keep
    // posting and resolving; a tick sends the proof once it is there (one sender, so no nonce races).
    let job = this.#proofs.get(batchHash)
    if (job === undefined) {
      this.#o.metrics?.batchStatus('challenged', i)
      this.#log?.warn({ batchIndex: i }, 'batch of ours challenged; proving')
      const started: ProofJob = { answer: null, done: Promise.resolve() }
      started.done = prover.prove(header).then(
        (answer) => {
          started.answer = answer
        },
        (error: unknown) => {
          started.answer = { ok: false, code: 'PROVER_ERROR', detail: String(error), refused: false }
        },
      )
      this.#proofs.set(batchHash, started)
      job = started
    }
    const answer = job.answer
    if (answer === null) return
    if (!answer.ok) {
      this.#proofs.delete(batchHash) // asked again on the next tick
      if (answer.refused) {
        this.#o.sequencer.halt(
          HaltCode.PROVER_REFUSED,
          `the prover refuses batch ${i} of ours (${answer.code}: ${answer.detail}); our engine and the prover disagree`,
        )
      } else {
        this.#log?.error(
          { batchIndex: i, code: answer.code, detail: answer.detail },
          'prover failed; asking again next tick',
        )
      }
      return
    }
    try {
      await this.#o.client.prove(header, answer.proof)
      this.#proofs.delete(batchHash)
      tracked.status = 'proven'
      this.#disputes.set(batchHash, 'proven')
      report.proven.push(i)
      this.#o.metrics?.batchStatus('proven', i)
      this.#log?.info({ batchIndex: i }, 'challenge answered: batch proven')
    } catch (error) {
      this.#log?.error(
        { batchIndex: i, revert: revertErrorName(error), err: error },
        'sending the proof failed; sending it again next tick',
      )
    }
  }

  /** Resolves our batches from the first pending one while each is due (proven, or its window passed unchallenged). */
  async #resolveDue(finalized: number, report: TickReport): Promise<void> {
    const windowSeconds = await this.#o.client.settlement.read.CHALLENGE_WINDOW()
    const now = (await this.#o.client.client.getBlock()).timestamp
    for (let i = finalized + 1; ; i++) {
      const tracked = this.#tracked.get(i)
      if (tracked === undefined || tracked.header === null) return
      // A challenged batch is ours to prove, not to resolve: resolving it now would revert it.
      if (tracked.status === 'challenged') return
      if (tracked.status !== 'proven' && now < tracked.header.proposedAt + windowSeconds) return
      try {
        const resolved = await this.#o.client.resolve(tracked.header)
        report.resolved.push(i)
        if (resolved.outcome === 'finalized') {
          await this.#o.sequencer.setBatchStatus(i, 'finalized', null)
          this.#o.metrics?.batchStatus('finalized', i)
          report.finalized.push(i)
          this.#tracked.delete(i)
          this.#log?.info({ batchIndex: i }, 'batch finalized')
        }
      } catch (error) {
        // Someone else may have resolved it first; the next tick reads L1 again.
        this.#log?.warn({ batchIndex: i, revert: revertErrorName(error) }, 'resolve failed')
        return
      }
    }
  }

  async #claimCredit(): Promise<bigint> {
    const client = this.#o.client
    const credit = await client.settlement.read.creditOf([client.account])
    if (credit === 0n) return 0n
    try {
      await client.claimCredit()
      this.#log?.info({ wei: credit.toString() }, 'bond credit claimed')
      return credit
    } catch (error) {
      this.#log?.warn({ revert: revertErrorName(error) }, 'claimCredit failed; will retry')
      return 0n
    }
  }

  async #isOurs(batch: StoredBatch, header: BatchHeader): Promise<boolean> {
    if (!sameRootsAndInbox(batch, header)) return false
    // Posted as calldata (keccak256 of the data) or as blobs (over the blobs' versioned hashes).
    const dataHash = header.dataHash.toLowerCase()
    if (dataHash === bytesToHex(batch.dataHash)) return true
    let blobHash = this.#blobDataHashes.get(batch.batchIndex)
    if (blobHash === undefined) {
      // Rows are listed without their data; read it only when the blob hash is needed.
      const data = this.#o.sequencer.batch(batch.batchIndex)?.data
      // Not readable now: fail the tick (retried) rather than call a batch of ours foreign.
      if (data === undefined)
        throw new Error(`batch ${batch.batchIndex}: its record cannot be read from the log`)
      blobHash = data.length > MAX_BLOB_DATA_BYTES ? '0x' : await blobDataHashOf(data)
      this.#blobDataHashes.set(batch.batchIndex, blobHash)
    }
    return dataHash === blobHash
  }

  #tickFailed(error: unknown): void {
    this.#consecutiveErrors++
    // RPC errors are expected now and then; the log says how long this has lasted.
    this.#log?.warn({ err: error, consecutive: this.#consecutiveErrors }, 'batcher tick failed; retrying')
  }

  /** Runs `emit` the first time `key` is seen; returns whether it had been seen. */
  #warnOnce(key: string, emit?: () => void): boolean {
    if (this.#warned.has(key)) return true
    this.#warned.add(key)
    emit?.()
    return false
  }
}

interface ProofJob {
  /** Null while the prover works. */
  answer: ProverAnswer | null
  done: Promise<void>
}

/** Our batch, by what L1 stores of it apart from the data: roots and inbox count. */
function sameRootsAndInbox(batch: StoredBatch, header: BatchHeader): boolean {
  return (
    header.stateRoot.toLowerCase() === bytesToHex(batch.stateRoot) &&
    header.prevStateRoot.toLowerCase() === bytesToHex(batch.prevStateRoot) &&
    header.withdrawalsRoot.toLowerCase() === bytesToHex(batch.withdrawalsRoot) &&
    header.inboxConsumed === BigInt(batch.inboxConsumed)
  )
}
