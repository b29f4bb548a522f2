import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { BaseError, bytesToHex, type Hex } from 'viem'
import {
  attachSigners,
  BatchFault,
  decodePostedBatch,
  type InboxRecord,
  replayDecodedBatch,
} from '../engine/batch/replayBatch.ts'
import type { SealedBatch } from '../engine/batch/sealBatch.ts'
import type { EngineConfig } from '../engine/config.ts'
import { Engine } from '../engine/engine.ts'
import { recoverAddress } from '../engine/signing/recoverAddress.ts'
import { engineConfigHash } from '../engine/state/globalsDigest.ts'
import type { BatchHeader, ProposedBatchLog, SettlementClient } from '../settlement-contracts/ts/client.ts'
import { ProverCode, type ProverRefusal, refusal } from './proverCode.ts'
import { encodePublicValues, type PublicValuesDomain } from './publicValues.ts'

/** Largest block range per log query. */
const MAX_LOG_RANGE = 2_000n

export interface ChainReplayerOptions {
  /** Reads L1 only; its account never signs anything. */
  client: SettlementClient
  /** Must be the configuration the deployment committed to (checkGenesisOnChain). */
  config: EngineConfig
  /** Where event scans start: the settlement's deployment block (0 scans the whole chain). */
  fromBlock?: bigint
  /**
   * Engine snapshots kept (each is the whole state), default 8: of the requested batches and of every
   * `SNAPSHOT_EVERY_BATCHES`-th batch on the way. The lowest are dropped first: challenges come for
   * recent batches. Results without snapshots (answers to repeated requests) are kept for up to 1,024.
   */
  maxCachedBatches?: number
  /**
   * Where the newest finalized state is kept across restarts (`keepFinalized`, `loadCheckpoint`). Blobs
   * are pruned after about 18 days: without it, a restarted attester must replay from genesis.
   */
  checkpointDir?: string
}

/** The finalized state on disk: `finalized.json` names the snapshot file beside it. */
interface CheckpointFile {
  batchIndex: string
  batchHash: Hex
  stateRoot: Hex
  configHash: Hex
  snapshotFile: string
}

/** Writes `dir/name` through a synced temporary file and a rename, then syncs the directory. */
function writeDurably(dir: string, name: string, bytes: Uint8Array): void {
  const tmp = join(dir, `${name}.tmp`)
  const fd = openSync(tmp, 'w')
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, join(dir, name))
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}

export class CheckpointError extends Error {
  override name = 'CheckpointError'
}

/** A batch whose replay matched its header: what an attester may sign. */
export interface ReplayedBatch {
  ok: true
  header: BatchHeader
  batchHash: Hex
  /** Rebuilt here, and checked byte-equal to the contract's `publicValuesOf(header)`. */
  publicValues: Hex
  sealed: SealedBatch
}

export type ReplayToResult = ReplayedBatch | ProverRefusal

export interface ChainReplayerStats {
  requests: number
  /** Batches run through the engine; a request answered from the cache adds none. */
  batchesReplayed: number
  /** Requests answered without replaying anything. */
  cacheHits: number
}

/** A replay of many batches keeps a snapshot at every this many batches, so the next starts near its batch. */
const SNAPSHOT_EVERY_BATCHES = 16n
const MAX_CACHED_RESULTS = 1_024

interface VerifiedBatch {
  batchIndex: bigint
  batchHash: Hex
  stateRoot: Hex
  /** Null for genesis (rebuilt from the configuration) and for a batch kept without one (not a base). */
  snapshot: Uint8Array | null
  result: ReplayedBatch | null
}

interface Verdict {
  batchIndex: bigint
  batchHash: Hex
  refusal: ProverRefusal
}

/** The L1 view moved under us or the scan started too late: not a verdict on any batch. */
class L1Inconsistency extends Error {}

/** L1 reads in flight at once when a replay needs many batches. */
const DATA_FETCH_CONCURRENCY = 8

/**
 * Replays the live batch chain from L1 with the engine (engine/batch/replayBatch.ts, the definition of
 * a right batch), so an attester can decide whether batch k is right.
 *
 * Batch k is replayed on the state its parent sealed, and every ancestor must itself replay to its own
 * header: a batch built on a wrong parent is refused (WRONG_PARENT) even when its own entries are fine,
 * because the state it starts from is one the engine never reaches.
 *
 * Signers are recovered on the calling thread with the engine's `recoverAddress`: a prover answers one
 * challenged batch at a time, rarely, so a worker pool would buy nothing. Requests are serialized.
 *
 * Engine snapshots are cached per verified (batchIndex, batchHash), so a second request starts from
 * the nearest verified ancestor instead of genesis. Every cached entry is live when stored; a revert is
 * the only way a live batch stops being live, and it bumps the contract's `epoch`, so on an epoch change
 * every entry is checked against `batchHashOf` and the dead ones dropped. Chain reorganisations of L1
 * itself are not handled: run against a node that only serves safe or finalized blocks where that matters.
 */
export class ChainReplayer {
  readonly client: SettlementClient
  readonly config: EngineConfig
  readonly stats: ChainReplayerStats = { requests: 0, batchesReplayed: 0, cacheHits: 0 }
  readonly #fromBlock: bigint
  readonly #maxCached: number
  readonly #domain: PublicValuesDomain
  readonly #genesis: VerifiedBatch
  readonly #verified = new Map<bigint, VerifiedBatch>()
  readonly #verdicts = new Map<bigint, Verdict>()
  readonly #checkpointDir: string | null
  /** The finalized state kept on disk: a replay base that survives restarts and the cache's evictions. */
  #pinned: VerifiedBatch | null = null
  /** Every BatchProposed seen, live or not, by lowercase batch hash. */
  readonly #proposals = new Map<Hex, ProposedBatchLog>()
  readonly #inbox: InboxRecord[] = []
  #scannedTo: bigint
  #epoch: bigint | null = null
  #queue: Promise<unknown> = Promise.resolve()

  constructor(options: ChainReplayerOptions) {
    this.client = options.client
    this.config = options.config
    this.#fromBlock = options.fromBlock ?? 0n
    this.#scannedTo = this.#fromBlock - 1n
    this.#maxCached = options.maxCachedBatches ?? 8
    this.#checkpointDir = options.checkpointDir ?? null
    this.#domain = {
      chainId: options.config.chainId,
      settlement: options.config.settlementAddress,
      configHash: bytesToHex(engineConfigHash(options.config)),
    }
    this.#genesis = {
      batchIndex: 0n,
      batchHash: '0x',
      stateRoot: bytesToHex(Engine.create(options.config).root()),
      snapshot: null,
      result: null,
    }
  }

  get genesisStateRoot(): Hex {
    return this.#genesis.stateRoot
  }

  /** What the cache holds: verified batches (`snapshot`: whether a replay can start there) and verdicts on wrong ones. */
  cachedBatches(): {
    batchIndex: bigint
    batchHash: Hex
    verdict: 'right' | ProverCode
    snapshot: boolean
  }[] {
    return [
      ...[...this.#verified.values()].map((e) => ({
        ...pick(e),
        verdict: 'right' as const,
        snapshot: e.snapshot !== null,
      })),
      ...[...this.#verdicts.values()].map((e) => ({ ...pick(e), verdict: e.refusal.code, snapshot: false })),
    ].sort((a, b) => (a.batchIndex < b.batchIndex ? -1 : a.batchIndex > b.batchIndex ? 1 : 0))
  }

  /**
   * Replays the live chain up to `batchIndex` as L1 shows it now. `{ok: true}` only when batch
   * `batchIndex` and every ancestor replay to their headers; otherwise a refusal with a stable code,
   * and for a wrong root the roots replay gives.
   */
  replayTo(batchIndex: bigint): Promise<ReplayToResult> {
    const run = this.#queue.then(() => this.#replayTo(batchIndex))
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** The finalized batch the disk checkpoint holds, or null. */
  get checkpointBatch(): bigint | null {
    return this.#pinned?.batchIndex ?? null
  }

  /**
   * Loads the finalized state from `checkpointDir`, after checking it belongs to this deployment and
   * configuration and that its batch is finalized on L1 under that hash. Null when there is none.
   * Throws CheckpointError when the directory holds another chain's state or a damaged snapshot.
   */
  loadCheckpoint(): Promise<bigint | null> {
    const run = this.#queue.then(() => this.#loadCheckpoint())
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #loadCheckpoint(): Promise<bigint | null> {
    const dir = this.#checkpointDir
    if (dir === null || !existsSync(join(dir, 'finalized.json'))) return null
    let file: CheckpointFile
    try {
      file = JSON.parse(readFileSync(join(dir, 'finalized.json'), 'utf8')) as CheckpointFile
      if (
        !/^[0-9]+$/.test(file.batchIndex) ||
        !/^0x[0-9a-f]{64}$/.test(file.batchHash) ||
        !/^0x[0-9a-f]{64}$/.test(file.stateRoot) ||
        !/^finalized-[0-9]+\.snapshot$/.test(file.snapshotFile)
      ) {
        throw new Error('fields missing or malformed')
      }
    } catch (error) {
      throw new CheckpointError(
        `${join(dir, 'finalized.json')} is unreadable (${(error as Error).message}): remove the directory's files to start over`,
      )
    }
    if (file.configHash !== this.#domain.configHash) {
      throw new CheckpointError(
        `${dir} holds the state of engine configuration ${file.configHash}, not ${this.#domain.configHash}: use another directory`,
      )
    }
    const batchIndex = BigInt(file.batchIndex)
    const read = this.client.settlement.read
    const blockNumber = await this.client.client.getBlockNumber({ cacheTime: 0 })
    const [finalized, liveHash] = await Promise.all([
      read.finalizedBatchIndex({ blockNumber }),
      read.batchHashOf([batchIndex], { blockNumber }),
    ])
    if (batchIndex > finalized || liveHash.toLowerCase() !== file.batchHash) {
      throw new CheckpointError(
        `${dir} holds batch ${batchIndex} as ${file.batchHash}, which is not finalized on this settlement: use another directory`,
      )
    }
    const path = join(dir, file.snapshotFile)
    let snapshot: Uint8Array
    let root: Hex
    try {
      snapshot = new Uint8Array(readFileSync(path))
      root = bytesToHex(Engine.restore(this.config, snapshot).root())
    } catch (error) {
      throw new CheckpointError(
        `${path} cannot be restored (${(error as Error).message}): damaged or missing`,
      )
    }
    // The root the batch's header carries on L1, not only the one the file says.
    await this.#scan(blockNumber)
    const onChain = this.#proposalOf(batchIndex, file.batchHash).header.stateRoot.toLowerCase()
    if (root !== file.stateRoot || root !== onChain) {
      throw new CheckpointError(
        `${path} restores to ${root}, but batch ${batchIndex} ends at ${onChain} on L1: damaged; remove the directory's files to start over`,
      )
    }
    this.#pinned = { batchIndex, batchHash: file.batchHash, stateRoot: root, snapshot, result: null }
    return batchIndex
  }

  /**
   * Replays up to the newest finalized batch and keeps its state on disk (when `checkpointDir` is set),
   * so that later replays, after restarts too, start there and need no older batch data. Returns the
   * batch kept, or null when nothing newer was finalized.
   */
  keepFinalized(): Promise<bigint | null> {
    const run = this.#queue.then(() => this.#keepFinalized())
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #keepFinalized(): Promise<bigint | null> {
    const finalized = await this.client.settlement.read.finalizedBatchIndex()
    if (finalized === 0n || (this.#pinned !== null && this.#pinned.batchIndex >= finalized)) return null
    // Cached from an earlier replay without a snapshot (an ancestor, or evicted): replay it again to keep one.
    if (this.#verified.get(finalized)?.snapshot === null) this.#verified.delete(finalized)
    const result = await this.#replayTo(finalized)
    if (!result.ok) {
      // L1 finalized it, so either L1 data is missing for now, or this engine is not the deployment's.
      throw new CheckpointError(
        `finalized batch ${finalized} does not replay here: ${result.code}: ${result.detail}`,
      )
    }
    const entry = this.#verified.get(finalized)
    if (entry === undefined || entry.snapshot === null) return null
    const pinned: VerifiedBatch = { ...entry, result: null }
    const dir = this.#checkpointDir
    if (dir !== null) {
      mkdirSync(dir, { recursive: true })
      const snapshotFile = `finalized-${finalized}.snapshot`
      // Snapshot first, then the file that names it, each synced and renamed into place, the directory
      // synced after each: a crash or a power cut leaves the old pair or the new one whole.
      writeDurably(dir, snapshotFile, pinned.snapshot!)
      const file: CheckpointFile = {
        batchIndex: finalized.toString(),
        batchHash: pinned.batchHash,
        stateRoot: pinned.stateRoot,
        configHash: this.#domain.configHash,
        snapshotFile,
      }
      writeDurably(dir, 'finalized.json', new TextEncoder().encode(JSON.stringify(file)))
      for (const old of readdirSync(dir)) {
        if (/^finalized-\d+\.snapshot$/.test(old) && old !== snapshotFile)
          rmSync(join(dir, old), { force: true })
      }
    }
    this.#pinned = pinned
    return finalized
  }

  async #replayTo(batchIndex: bigint): Promise<ReplayToResult> {
    this.stats.requests++
    try {
      return await this.#replayAt(batchIndex)
    } catch (error) {
      if (error instanceof BaseError) {
        return refusal(
          ProverCode.L1_UNAVAILABLE,
          `the L1 RPC failed (${error.shortMessage}): check the RPC endpoint and ask again`,
        )
      }
      if (error instanceof L1Inconsistency) return refusal(ProverCode.L1_UNAVAILABLE, error.message)
      throw error
    }
  }

  async #replayAt(k: bigint): Promise<ReplayToResult> {
    const { client } = this
    // One block for every read, so that events, hashes and the tip agree with each other. Uncached:
    // viem keeps the block number for a polling interval, and a batch proposed just now must be seen.
    const blockNumber = await client.client.getBlockNumber({ cacheTime: 0 })
    const at = { blockNumber }
    const [latest, epoch] = await Promise.all([
      client.settlement.read.latestBatchIndex(at),
      client.settlement.read.epoch(at),
    ])
    if (epoch !== this.#epoch) {
      await this.#dropDead(latest, blockNumber)
      this.#epoch = epoch
    }
    if (k < 1n || k > latest) {
      return refusal(
        ProverCode.UNKNOWN_BATCH,
        `there is no live batch ${k}: the latest live batch is ${latest}; it may have been reverted`,
      )
    }
    const hashK = await this.#liveHash(k, blockNumber)
    const known = this.#known(k, hashK)
    if (known !== null) {
      this.stats.cacheHits++
      return known
    }
    // Live entries below k are all ancestors of k: live batches form one chain.
    let wrongAncestor: Verdict | null = null
    for (const verdict of this.#verdicts.values()) {
      if (verdict.batchIndex < k && (wrongAncestor === null || verdict.batchIndex < wrongAncestor.batchIndex))
        wrongAncestor = verdict
    }
    await this.#scan(blockNumber)
    const live = this.#proposalOf(k, hashK)
    if (wrongAncestor !== null) {
      this.stats.cacheHits++
      return this.#remember(
        k,
        hashK,
        wrongParent(k, wrongAncestor.batchIndex, wrongAncestor.refusal),
      ) as ProverRefusal
    }
    const ours = encodePublicValues(this.#domain, live.header)
    const theirs = await client.settlement.read.publicValuesOf([live.header], at)
    if (ours.toLowerCase() !== theirs.toLowerCase()) {
      return refusal(
        ProverCode.PUBLIC_VALUES_MISMATCH,
        `the contract's public values for batch ${k} differ from ours: this prover runs with another ` +
          'engine configuration or contract version than the deployment; fix its configuration',
      )
    }

    let base = this.#pinned !== null && this.#pinned.batchIndex < k ? this.#pinned : this.#genesis
    for (const entry of this.#verified.values()) {
      if (entry.snapshot !== null && entry.batchIndex < k && entry.batchIndex > base.batchIndex) base = entry
    }
    const ancestors: bigint[] = []
    for (let i = base.batchIndex + 1n; i < k; i++) ancestors.push(i)
    const chain = await mapLimit(ancestors, DATA_FETCH_CONCURRENCY, async (i) =>
      this.#proposalOf(i, await this.#liveHash(i, blockNumber)),
    )
    chain.push(live)
    const posted = await mapLimit(chain, DATA_FETCH_CONCURRENCY, (batch) => this.#postedData(batch))

    const engine =
      base.snapshot === null ? Engine.create(this.config) : Engine.restore(this.config, base.snapshot)
    const seals = captureSeals(engine)
    let parentRoot = base.stateRoot
    for (let n = 0; n < chain.length; n++) {
      const batch = chain[n]!
      const { header, batchHash } = batch
      const i = header.batchIndex
      const data = posted[n]!
      let outcome: ReplayToResult
      if (typeof data === 'string') {
        outcome = refusal(ProverCode.DATA_UNAVAILABLE, data)
      } else if (header.prevStateRoot.toLowerCase() !== parentRoot) {
        outcome = refusal(
          ProverCode.WRONG_PARENT,
          `batch ${i} starts from ${header.prevStateRoot}, but batch ${i - 1n} replays to ${parentRoot}`,
        )
      } else {
        outcome = this.#replayOne(engine, seals, batch, data)
      }
      if (!outcome.ok) {
        if (outcome.code === ProverCode.DATA_UNAVAILABLE) {
          return i === k
            ? outcome
            : refusal(ProverCode.DATA_UNAVAILABLE, `ancestor batch ${i} of ${k}: ${outcome.detail}`)
        }
        this.#remember(i, batchHash, outcome)
        return i === k ? outcome : (this.#remember(k, hashK, wrongParent(k, i, outcome)) as ProverRefusal)
      }
      // A snapshot is the whole state: only of the batch asked for, and of every 16th on the way.
      const keep = i === k || i % SNAPSHOT_EVERY_BATCHES === 0n
      this.#remember(i, batchHash, outcome, keep ? engine.snapshot() : null)
      parentRoot = header.stateRoot.toLowerCase() as Hex
      if (i === k) return outcome
    }
    throw new Error(`unreachable: the chain to batch ${k} ended early`)
  }

  #replayOne(
    engine: Engine,
    seals: { last: SealedBatch | null },
    batch: ProposedBatchLog,
    data: Uint8Array,
  ): ReplayToResult {
    const { header, batchHash } = batch
    this.stats.batchesReplayed++
    const wrong = (fault: BatchFault, detail: string, roots: SealedBatch | null = null) =>
      refusal(ProverCode.WRONG_TRANSITION, `batch ${header.batchIndex}: ${fault}: ${detail}`, {
        fault,
        ...(roots === null
          ? {}
          : {
              correctStateRoot: bytesToHex(roots.stateRoot),
              correctWithdrawalsRoot: bytesToHex(roots.withdrawalsRoot),
            }),
      })
    const decoded = decodePostedBatch(engine, data)
    if (!('entries' in decoded)) return wrong(decoded.fault, decoded.detail)
    const signers = decoded.jobs.map((job) => recoverAddress(job.digest, job.signature))
    const badSignature = attachSigners(decoded, signers)
    if (badSignature !== null) return wrong(badSignature.fault, badSignature.detail)
    seals.last = null
    const replayed = replayDecodedBatch(
      engine,
      decoded.entries,
      {
        batchIndex: header.batchIndex,
        stateRoot: header.stateRoot,
        withdrawalsRoot: header.withdrawalsRoot,
        inboxConsumed: header.inboxConsumed,
      },
      // Only what this batch may consume: copying the whole rest of the inbox per batch is quadratic.
      this.#inbox.slice(
        engine.state.inboxConsumed,
        Math.max(engine.state.inboxConsumed, Number(header.inboxConsumed)),
      ),
    )
    if (!replayed.ok) {
      const rootsKnown =
        replayed.fault === BatchFault.STATE_ROOT_MISMATCH ||
        replayed.fault === BatchFault.WITHDRAWALS_ROOT_MISMATCH
      return wrong(replayed.fault, replayed.detail, rootsKnown ? seals.last : null)
    }
    return {
      ok: true,
      header,
      batchHash,
      publicValues: encodePublicValues(this.#domain, header),
      sealed: replayed.sealed,
    }
  }

  #known(batchIndex: bigint, batchHash: Hex): ReplayToResult | null {
    const verified = this.#verified.get(batchIndex)
    if (verified?.batchHash === batchHash && verified.result !== null) return verified.result
    const verdict = this.#verdicts.get(batchIndex)
    if (verdict?.batchHash === batchHash) return verdict.refusal
    return null
  }

  #remember(
    batchIndex: bigint,
    batchHash: Hex,
    result: ReplayToResult,
    snapshot: Uint8Array | null = null,
  ): ReplayToResult {
    // Transient failures say nothing about the batch and are never cached.
    if (!result.ok && result.code !== ProverCode.WRONG_TRANSITION && result.code !== ProverCode.WRONG_PARENT)
      return result
    const hash = batchHash.toLowerCase() as Hex
    if (!result.ok) {
      this.#verdicts.set(batchIndex, { batchIndex, batchHash: hash, refusal: result })
      return result
    }
    this.#verified.set(batchIndex, {
      batchIndex,
      batchHash: hash,
      stateRoot: result.header.stateRoot.toLowerCase() as Hex,
      snapshot,
      result,
    })
    const ascending = [...this.#verified.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    let snapshots = ascending.filter((i) => this.#verified.get(i)!.snapshot !== null).length
    for (const index of ascending) {
      if (snapshots <= this.#maxCached) break
      const entry = this.#verified.get(index)!
      if (entry.snapshot !== null) {
        entry.snapshot = null
        snapshots--
      }
    }
    for (const index of ascending.slice(0, Math.max(0, ascending.length - MAX_CACHED_RESULTS))) {
      this.#verified.delete(index)
    }
    return result
  }

  /** After a revert: keeps only the entries whose batch is still live at `blockNumber`. */
  async #dropDead(latest: bigint, blockNumber: bigint): Promise<void> {
    const entries = [...this.#verified.values(), ...this.#verdicts.values()]
    const live = await Promise.all(
      entries.map(
        async (e) =>
          e.batchIndex <= latest && (await this.#liveHash(e.batchIndex, blockNumber)) === e.batchHash,
      ),
    )
    entries.forEach((entry, n) => {
      if (live[n]) return
      const from = 'snapshot' in entry ? this.#verified : this.#verdicts
      if (from.get(entry.batchIndex)?.batchHash === entry.batchHash) from.delete(entry.batchIndex)
    })
  }

  async #liveHash(batchIndex: bigint, blockNumber: bigint): Promise<Hex> {
    const hash = await this.client.settlement.read.batchHashOf([batchIndex], { blockNumber })
    return hash.toLowerCase() as Hex
  }

  #proposalOf(batchIndex: bigint, batchHash: Hex): ProposedBatchLog {
    const proposal = this.#proposals.get(batchHash)
    if (proposal === undefined || proposal.header.batchIndex !== batchIndex) {
      throw new L1Inconsistency(
        `batch ${batchIndex} is live as ${batchHash}, but no BatchProposed event from block ` +
          `${this.#fromBlock} on has that hash: start the scan at or before the settlement's deployment block`,
      )
    }
    return proposal
  }

  /**
   * Reads new BatchProposed and InboxItemAppended events up to `blockNumber`, in ranges of at most
   * MAX_LOG_RANGE blocks (providers refuse larger log queries).
   */
  async #scan(blockNumber: bigint): Promise<void> {
    while (this.#scannedTo < blockNumber) {
      const fromBlock = this.#scannedTo + 1n
      const last = fromBlock + MAX_LOG_RANGE - 1n
      await this.#scanRange(fromBlock, last < blockNumber ? last : blockNumber)
    }
  }

  async #scanRange(fromBlock: bigint, toBlock: bigint): Promise<void> {
    const range = { fromBlock, toBlock }
    const [proposals, items] = await Promise.all([
      this.client.proposedBatches(range),
      this.client.inboxItems(range),
    ])
    const records: InboxRecord[] = []
    for (const { item } of items) {
      const expected = this.#inbox.length + records.length
      if (Number(item.index) !== expected) {
        throw new L1Inconsistency(
          `inbox item ${item.index} arrived where ${expected} was expected: start the scan at or before ` +
            "the settlement's deployment block",
        )
      }
      records.push({
        index: Number(item.index),
        kind: item.kind === 0 ? 'deposit' : 'forcedWithdrawal',
        account: item.account.toLowerCase() as InboxRecord['account'],
        amountQuantums: item.amountQuantums,
      })
    }
    for (const proposal of proposals) this.#proposals.set(proposal.batchHash.toLowerCase() as Hex, proposal)
    this.#inbox.push(...records)
    this.#scannedTo = toBlock
  }

  /** The posted bytes of `batch`, or why they cannot be had. */
  async #postedData(batch: ProposedBatchLog): Promise<Uint8Array | string> {
    const { header, transactionHash } = batch
    try {
      return await this.client.batchData(batch)
    } catch (error) {
      const message = error instanceof BaseError ? error.shortMessage : (error as Error).message
      return `cannot read batch ${header.batchIndex}'s data from transaction ${transactionHash}: ${message}`
    }
  }
}

function pick(e: { batchIndex: bigint; batchHash: Hex }): { batchIndex: bigint; batchHash: Hex } {
  return { batchIndex: e.batchIndex, batchHash: e.batchHash }
}

function wrongParent(k: bigint, ancestor: bigint, why: ProverRefusal): ProverRefusal {
  return refusal(
    ProverCode.WRONG_PARENT,
    `batch ${k} builds on batch ${ancestor}, which is wrong (${why.code}: ${why.detail})`,
  )
}

/**
 * Keeps the engine's last seal. replayDecodedBatch reports a root mismatch without the sealed batch,
 * and a refusal must carry the roots the header should have had.
 */
function captureSeals(engine: Engine): { last: SealedBatch | null } {
  const box: { last: SealedBatch | null } = { last: null }
  const seal = engine.sealBatch.bind(engine)
  engine.sealBatch = (batchIndex: bigint): SealedBatch => {
    box.last = seal(batchIndex)
    return box.last
  }
  return box
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const n = next++
      results[n] = await fn(items[n]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
