import { type Logger, pino } from 'pino'
import type { Registry } from 'prom-client'
import { type Account, type Address, bytesToHex, formatEther, type Hex, zeroAddress } from 'viem'
import type { InboxRecord } from '../engine/batch/replayBatch.ts'
import type { EngineConfig } from '../engine/config.ts'
import { engineConfigHash } from '../engine/state/globalsDigest.ts'
import { beaconBlobSource } from '../settlement-contracts/ts/blobSource.ts'
import {
  BatchDataError,
  type ChainClient,
  connect,
  InboxKind,
  revertErrorName,
  SettlementClient,
} from '../settlement-contracts/ts/client.ts'
import { settlementAbi } from '../settlement-contracts/ts/generated/abis.ts'
import { checkGenesisOnChain } from '../settlement-contracts/ts/genesis.ts'
import {
  BatchReplayer,
  type PreparedBatch,
  type ReplayerCheckpoint,
  type Verdict,
  VerdictFault,
} from './replay/batchReplayer.ts'
import { RecoveryPool } from './replay/recoveryPool.ts'
import type { ScannedEvents, StoredChallenge, StoredProposal } from './store/watcherStore.ts'
import { WatcherStore } from './store/watcherStore.ts'
import { WatcherError, WatcherErrorCode } from './watcherError.ts'
import { createWatcherMetrics, type WatcherMetrics } from './watcherMetrics.ts'

export interface WatcherOptions {
  rpcUrl: string
  /** Beacon node API for blob-posted batch data; default: the RPC node's own blob methods (anvil's). */
  beaconUrl?: string
  /** The Settlement contract to follow. */
  settlement: Address
  /** The engine configuration the contract committed to (checked against CONFIG_HASH and GENESIS_STATE_ROOT). */
  config: EngineConfig
  /** Holds `watcher.db`: scan position, verdicts, challenges, checkpoints. */
  dataDir: string
  /** Pays challenge bonds and resolve gas, receives won bonds. Without one, the watcher only reports. */
  challenger?: Account
  /** Blocks a log must be buried under before it counts; default `defaultConfirmations(chainId)`. */
  confirmations?: number
  /** Between polls in `start()`; default 2,000 ms. */
  pollIntervalMs?: number
  /** Signer-recovery worker threads; default the machine's available parallelism, 0 for none. */
  workers?: number
  logger?: Logger
  /** prom-client registry for the watcher's metrics; a fresh one by default. */
  metrics?: Registry
  /** First block to scan on a fresh data directory: the settlement's deployment block. Default 0. */
  fromBlock?: bigint
  /** A checkpoint is kept every this many batches (and at the head, see below); default 100. */
  checkpointEveryBatches?: number
  /**
   * A checkpoint of the newest verified batch between those is kept at most this often, since each is a
   * whole engine snapshot; default 60,000 ms. The newest state is always kept when the watcher stops.
   */
  headCheckpointIntervalMs?: number
  /** Largest block range per log query; default 2,000. */
  maxBlockRange?: number
  /** Batches whose data is fetched ahead of replay; default 8. */
  prefetchBatches?: number
}

/** What one poll did. */
export interface PollReport {
  headBlock: bigint
  /** The block the poll scanned and verified up to (head minus confirmations). */
  targetBlock: bigint
  latestBatch: number
  finalizedBatch: number
  lastVerifiedBatch: number
  /** New verdicts, in batch order. */
  verdicts: Verdict[]
  opsReplayed: number
  /** Batches this watcher challenged. */
  challenged: number[]
  /** Batches this watcher resolved. */
  resolved: { batchIndex: number; outcome: 'finalized' | 'reverted' }[]
  claimedWei: bigint
  /** Set when verified batches were reverted and the replayer went back to this checkpoint. */
  rolledBackTo: number | null
}

/** `GET /status`. Block numbers and wei are decimal strings. */
export interface WatcherStatus {
  chain: { chainId: string; settlement: Address; configHash: Hex }
  challenger: Address | null
  lastVerified: { batchIndex: number; batchHash: Hex; stateRoot: Hex }
  latestBatch: number | null
  finalizedBatch: number | null
  headBlock: string | null
  scannedBlock: string | null
  behind: { batches: number; blocks: number }
  verdicts: { ok: number; wrong: number }
  /** The first live WRONG batch, while it is pending. */
  wrongBatch: { batchIndex: number; batchHash: Hex; fault: string; detail: string } | null
  openChallenges: {
    batchIndex: number
    batchHash: Hex
    challenger: Address
    ours: boolean
    proveDeadline: number
    /** A challenge by someone else on a batch this watcher verified OK. */
    griefing: boolean
  }[]
  frozen: boolean
  /** Why the watcher stopped verifying, when it did (a WRONG batch finalized, a corrupt checkpoint...). */
  halted: string | null
  /** The last poll's error, null when it succeeded. */
  error: string | null
  lastPollAt: string | null
}

/** Anvil and Hardhat dev chains have no reorgs to wait out; anything else waits a few blocks. */
export function defaultConfirmations(chainId: bigint): number {
  return chainId === 31337n || chainId === 1337n ? 0 : 3
}

const PROGRESS_EVERY_MS = 5_000
/** Batches decoded and recovering ahead of the one replaying: enough to keep every worker busy. */
const PREPARE_AHEAD = 3
const ChallengeState = { None: 0, Challenged: 1, Proven: 2, Settled: 3 } as const

const READ_ONLY_ACCOUNT = { address: zeroAddress, type: 'json-rpc' } as const

const count = (n: number): string => n.toLocaleString('en-US')
const shortHex = (h: Hex): string => `${h.slice(0, 10)}…`

/**
 * A settlement client on `rpcUrl`, signing as `account`; without one it can only read (the watcher
 * without a challenger key).
 */
export async function connectSettlement(params: {
  rpcUrl: string
  settlement: Address
  chainId: bigint
  account?: Account
  beaconUrl?: string
}): Promise<SettlementClient> {
  const client: ChainClient = connect({
    rpcUrl: params.rpcUrl,
    account: params.account ?? READ_ONLY_ACCOUNT,
    chainId: Number(params.chainId),
  })
  const token = await client.readContract({
    address: params.settlement,
    abi: settlementAbi,
    functionName: 'TOKEN',
  })
  return new SettlementClient(
    client,
    { settlement: params.settlement, token },
    params.beaconUrl === undefined ? {} : { blobSource: beaconBlobSource(params.beaconUrl, client) },
  )
}

/** One line per verdict: what an operator reads while the watcher syncs. */
export function verdictLine(v: Verdict): string {
  return v.ok
    ? `batch ${v.batchIndex} OK ${count(v.ops)} ops root ${shortHex(v.stateRoot)}`
    : `batch ${v.batchIndex} WRONG ${v.fault}: ${v.detail}`
}

/**
 * Verifies SCE from L1 alone. Each poll: scans the settlement's events (inbox, proposals, challenges,
 * reverts) up to head minus `confirmations`; goes back to a checkpoint when batches it verified were
 * reverted; fetches, decodes and replays every live batch it has not verified; challenges the first
 * WRONG one while its window is open; resolves challenged batches once their prove window has passed
 * (finalizing honest parents first), claims its credit, and reclaims stranded bonds.
 */
export class Watcher {
  readonly settlement: SettlementClient
  readonly store: WatcherStore
  readonly replayer: BatchReplayer
  readonly metrics: WatcherMetrics
  readonly confirmations: number
  readonly #config: EngineConfig
  readonly #pool: RecoveryPool
  readonly #log: Logger
  readonly #challenger: Address | null
  readonly #options: WatcherOptions
  readonly #windows: { challengeSeconds: bigint; proveSeconds: bigint; challengerBondWei: bigint }
  readonly #configHash: Hex
  readonly #checkpointEvery: number
  readonly #warned = new Set<string>()
  #polling: Promise<PollReport> | null = null
  #loop: Promise<void> | null = null
  #stopping = false
  #closed = false
  #wake: (() => void) | null = null
  #lastCheckpointBatch: number
  /** performance.now() of the last checkpoint kept (-Infinity: none yet this run). */
  #lastCheckpointAtMs = Number.NEGATIVE_INFINITY
  readonly #headCheckpointIntervalMs: number
  #wrong: { proposal: StoredProposal; verdict: Verdict } | null = null
  #head: { block: bigint; latestBatch: number; finalizedBatch: number } | null = null
  #frozen = false
  #halted: string | null = null
  #error: string | null = null
  #lastPollAt: Date | null = null

  private constructor(init: {
    options: WatcherOptions
    settlement: SettlementClient
    store: WatcherStore
    pool: RecoveryPool
    replayer: BatchReplayer
    log: Logger
    metrics: WatcherMetrics
    windows: { challengeSeconds: bigint; proveSeconds: bigint; challengerBondWei: bigint }
    configHash: Hex
  }) {
    this.#options = init.options
    this.#config = init.options.config
    this.settlement = init.settlement
    this.store = init.store
    this.#pool = init.pool
    this.replayer = init.replayer
    this.#log = init.log
    this.metrics = init.metrics
    this.#windows = init.windows
    this.#configHash = init.configHash
    const challenger = init.options.challenger
    this.#challenger = challenger === undefined ? null : (challenger.address.toLowerCase() as Address)
    this.confirmations = init.options.confirmations ?? defaultConfirmations(init.options.config.chainId)
    this.#checkpointEvery = init.options.checkpointEveryBatches ?? 100
    this.#headCheckpointIntervalMs = init.options.headCheckpointIntervalMs ?? 60_000
    this.#lastCheckpointBatch = init.replayer.batchIndex
  }

  /**
   * Connects, checks that the contract committed to `config` (GenesisError otherwise), opens the data
   * directory (DATA_DIR_MISMATCH when it belongs to another deployment), starts the recovery workers and
   * restores the newest checkpoint.
   */
  static async open(options: WatcherOptions): Promise<Watcher> {
    const log = options.logger ?? pino({ base: { service: 'sce-watcher' } })
    const settlement = await connectSettlement({
      rpcUrl: options.rpcUrl,
      settlement: options.settlement,
      chainId: options.config.chainId,
      ...(options.challenger === undefined ? {} : { account: options.challenger }),
      ...(options.beaconUrl === undefined ? {} : { beaconUrl: options.beaconUrl }),
    })
    await checkGenesisOnChain(settlement, options.config)
    const [challengeSeconds, proveSeconds, challengerBondWei] = await Promise.all([
      settlement.settlement.read.CHALLENGE_WINDOW(),
      settlement.settlement.read.PROVE_WINDOW(),
      settlement.settlement.read.CHALLENGER_BOND_WEI(),
    ])
    const configHash = bytesToHex(engineConfigHash(options.config))
    const store = WatcherStore.open(options.dataDir, {
      chainId: options.config.chainId,
      settlement: options.settlement,
      configHash,
    })
    let pool: RecoveryPool | undefined
    try {
      pool = await RecoveryPool.start(options.workers === undefined ? {} : { workers: options.workers })
      const newest = store.checkpoints()[0]
      const checkpoint =
        newest === undefined ? undefined : store.loadCheckpoint(newest.batchIndex, newest.batchHash)
      const replayer = new BatchReplayer(options.config, pool, checkpoint)
      const watcher = new Watcher({
        options,
        settlement,
        store,
        pool,
        replayer,
        log,
        metrics: createWatcherMetrics(options.metrics),
        windows: { challengeSeconds, proveSeconds, challengerBondWei },
        configHash,
      })
      log.info(
        {
          settlement: options.settlement,
          chainId: options.config.chainId.toString(),
          challenger: watcher.#challenger,
          checkpoint: replayer.batchIndex,
          confirmations: watcher.confirmations,
          workers: pool.workers,
          signatures: pool.signatureCheck.mode,
        },
        checkpoint === undefined
          ? 'watcher ready: replaying from genesis'
          : `watcher ready: resuming from the checkpoint at batch ${replayer.batchIndex}`,
      )
      if (pool.signatureCheck.mode === 'recovery') {
        log.warn(`signatures are recovered one by one, several times slower: ${pool.signatureCheck.reason}`)
      }
      if (watcher.#challenger === null) {
        log.warn(
          'no challenger key: this watcher reports WRONG batches but cannot challenge them (see --key)',
        )
      }
      return watcher
    } catch (error) {
      await pool?.close()
      store.close()
      throw error
    }
  }

  /** One poll; concurrent calls share the poll in progress. Throws on RPC failure (the next poll retries). */
  pollOnce(): Promise<PollReport> {
    if (this.#closed) return Promise.reject(new Error('the watcher is stopped'))
    if (this.#polling !== null) return this.#polling
    this.#polling = this.#poll()
      .then(
        (report) => {
          this.#error = null
          return report
        },
        (error: unknown) => {
          this.#error = error instanceof Error ? error.message : String(error)
          this.metrics.pollFailed()
          if (error instanceof WatcherError && error.code !== WatcherErrorCode.L1_DATA_MISSING) {
            this.#halted = `${error.code}: ${error.message}`
          }
          throw error
        },
      )
      .finally(() => {
        this.#lastPollAt = new Date()
        this.#polling = null
      })
    return this.#polling
  }

  /** Polls every `pollIntervalMs` until `stop()`; a failed poll is logged and retried. */
  start(): void {
    if (this.#loop !== null || this.#closed) return
    const interval = this.#options.pollIntervalMs ?? 2_000
    this.#loop = (async () => {
      while (!this.#stopping) {
        try {
          await this.pollOnce()
        } catch (error) {
          this.#log.error({ err: error }, `poll failed: ${(error as Error).message}; retrying`)
        }
        if (this.#stopping) break
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, interval)
          this.#wake = () => {
            clearTimeout(timer)
            wake()
          }
        })
        this.#wake = null
      }
    })()
  }

  /** Ends the loop and any poll in progress (between batches), keeps a checkpoint, releases everything. */
  async stop(): Promise<void> {
    if (this.#closed) return
    this.#stopping = true
    this.#wake?.()
    await this.#loop
    await this.#polling?.catch(() => {})
    this.#closed = true
    try {
      if (this.#halted === null && this.replayer.batchIndex > this.#lastCheckpointBatch) this.#checkpoint()
    } finally {
      await this.#pool.close()
      this.store.close()
    }
    this.#log.info({ batch: this.replayer.batchIndex }, 'watcher stopped')
  }

  status(): WatcherStatus {
    const head = this.#head
    const scanned = this.#closed ? null : this.store.scannedBlock
    const open = this.#closed
      ? []
      : this.store.openChallenges().filter((c) => head === null || this.#isLive(c, head.latestBatch))
    return {
      chain: {
        chainId: this.#config.chainId.toString(),
        settlement: this.settlement.settlementAddress,
        configHash: this.#configHash,
      },
      challenger: this.#challenger,
      lastVerified: {
        batchIndex: this.replayer.batchIndex,
        batchHash: this.replayer.batchHash,
        stateRoot: this.replayer.stateRoot,
      },
      latestBatch: head?.latestBatch ?? null,
      finalizedBatch: head?.finalizedBatch ?? null,
      headBlock: head?.block.toString() ?? null,
      scannedBlock: scanned?.toString() ?? null,
      behind: {
        batches: head === null ? 0 : Math.max(0, head.latestBatch - this.replayer.batchIndex),
        blocks: head === null || scanned === null ? 0 : Math.max(0, Number(head.block - scanned)),
      },
      verdicts: this.#closed ? { ok: 0, wrong: 0 } : this.store.verdictCounts(),
      wrongBatch:
        this.#wrong === null
          ? null
          : {
              batchIndex: this.#wrong.verdict.batchIndex,
              batchHash: this.#wrong.verdict.batchHash,
              fault: this.#wrong.verdict.fault ?? '',
              detail: this.#wrong.verdict.detail,
            },
      openChallenges: open.map((c) => ({
        batchIndex: c.batchIndex,
        batchHash: c.batchHash,
        challenger: c.challenger,
        ours: c.ours,
        proveDeadline: c.proveDeadline,
        griefing: this.#isGriefing(c),
      })),
      frozen: this.#frozen,
      halted: this.#halted,
      error: this.#error,
      lastPollAt: this.#lastPollAt?.toISOString() ?? null,
    }
  }

  // ---------------------------------------------------------------- one poll

  async #poll(): Promise<PollReport> {
    const client = this.settlement.client
    // viem caches the block number for its polling interval; a poll must see the head as it is now.
    const headBlock = await client.getBlockNumber({ cacheTime: 0 })
    const targetBlock = headBlock - BigInt(this.confirmations)
    const report: PollReport = {
      headBlock,
      targetBlock,
      latestBatch: 0,
      finalizedBatch: 0,
      lastVerifiedBatch: this.replayer.batchIndex,
      verdicts: [],
      opsReplayed: 0,
      challenged: [],
      resolved: [],
      claimedWei: 0n,
      rolledBackTo: null,
    }
    if (targetBlock < 0n) return report
    await this.#scan(targetBlock, headBlock)
    const read = this.settlement.settlement.read
    const [latest, finalized, frozen] = await Promise.all([
      read.latestBatchIndex({ blockNumber: targetBlock }),
      read.finalizedBatchIndex({ blockNumber: targetBlock }),
      read.isFrozen({ blockNumber: targetBlock }),
    ])
    report.latestBatch = Number(latest)
    report.finalizedBatch = Number(finalized)
    this.#head = { block: headBlock, latestBatch: report.latestBatch, finalizedBatch: report.finalizedBatch }
    if (frozen && !this.#frozen) {
      this.#log.error(
        'the settlement contract is frozen: no batch will be accepted or finalized again; accounts escape with proofs against the last finalized root',
      )
    }
    this.#frozen = frozen

    if (this.#halted === null) {
      report.rolledBackTo = this.#followReverts(report.latestBatch)
      await this.#verifyLive(report, headBlock)
      this.#checkWrongFinalized(report.finalizedBatch)
      if (!this.#stopping) this.#keepCheckpoints(report)
    }
    this.#reportGriefing()
    if (this.#challenger !== null && this.#halted === null && !frozen) await this.#act(report)
    else if (this.#challenger !== null) {
      // Halted or frozen: no new challenge, but the ones already opened still resolve or refund their bond.
      await this.#followDisputes(report, (await this.settlement.client.getBlock()).timestamp)
      await this.#claimCredit(report)
    }
    report.lastVerifiedBatch = this.replayer.batchIndex
    this.metrics.lastVerifiedBatch(this.replayer.batchIndex)
    this.metrics.headDistance(
      Math.max(0, report.latestBatch - this.replayer.batchIndex),
      Number(headBlock - (this.store.scannedBlock ?? headBlock)),
    )
    return report
  }

  // ---------------------------------------------------------------- scanning L1

  async #scan(targetBlock: bigint, headBlock: bigint): Promise<void> {
    const maxRange = BigInt(this.#options.maxBlockRange ?? 2_000)
    let from = (this.store.scannedBlock ?? (this.#options.fromBlock ?? 0n) - 1n) + 1n
    const total = targetBlock - from + 1n
    let lastProgress = performance.now()
    while (from <= targetBlock && !this.#stopping) {
      const to = from + maxRange - 1n < targetBlock ? from + maxRange - 1n : targetBlock
      const logs = await this.settlement.client.getContractEvents({
        address: this.settlement.settlementAddress,
        abi: settlementAbi,
        fromBlock: from,
        toBlock: to,
        strict: true,
      })
      const events = { inbox: [] as InboxRecord[], proposals: [] as StoredProposal[] }
      const challenges: StoredChallenge[] = []
      const proven: Hex[] = []
      const reverts: { from: number; to: number; challenger: Address }[] = []
      for (const log of logs) {
        switch (log.eventName) {
          case 'InboxItemAppended':
            events.inbox.push({
              index: Number(log.args.index),
              kind: log.args.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
              account: log.args.account.toLowerCase() as Address,
              amountQuantums: log.args.amountQuantums,
            })
            break
          case 'BatchProposed':
            events.proposals.push({
              batchIndex: Number(log.args.batchIndex),
              batchHash: log.args.batchHash,
              epoch: Number(log.args.header.epoch),
              header: { ...log.args.header },
              transactionHash: log.transactionHash,
              blockNumber: log.blockNumber,
              logIndex: log.logIndex,
            })
            break
          case 'BatchChallenged': {
            const challenger = log.args.challenger.toLowerCase() as Address
            challenges.push({
              batchHash: log.args.batchHash,
              batchIndex: Number(log.args.batchIndex),
              challenger,
              ours: challenger === this.#challenger,
              proveDeadline: Number(log.args.proveDeadline),
              status: 'open',
              blockNumber: log.blockNumber,
            })
            break
          }
          case 'BatchProven':
            proven.push(log.args.batchHash)
            break
          case 'BatchesReverted':
            reverts.push({
              from: Number(log.args.fromBatchIndex),
              to: Number(log.args.toBatchIndex),
              challenger: log.args.challenger.toLowerCase() as Address,
            })
            break
          default:
            break
        }
      }
      const scanned: ScannedEvents = { ...events, challenges, proven }
      this.store.recordScan(to, scanned)
      for (const hash of proven) this.#onProven(hash)
      for (const r of reverts) this.#onReverted(r)
      from = to + 1n
      if (performance.now() - lastProgress > PROGRESS_EVERY_MS) {
        lastProgress = performance.now()
        const done = total - (targetBlock - to)
        this.#log.info(
          { block: to.toString(), head: headBlock.toString() },
          `scanning L1: block ${count(Number(to))}, ${((Number(done) / Number(total)) * 100).toFixed(1)}% of ${count(Number(total))} blocks`,
        )
      }
    }
  }

  #onProven(batchHash: Hex): void {
    const challenge = this.store.challenge(batchHash)
    const verdict = challenge === undefined ? undefined : this.store.verdict(challenge.batchIndex, batchHash)
    if (challenge?.ours === true) this.metrics.challengeLost()
    if (verdict !== undefined && !verdict.ok) {
      this.#log.error(
        { batch: verdict.batchIndex, batchHash, fault: verdict.fault },
        `batch ${verdict.batchIndex} was PROVEN although replay finds it WRONG (${verdict.fault}): the prover's ` +
          'attesters signed a replay this watcher disagrees with, or this watcher runs another engine version. ' +
          'Check the engine version against the contract VKEY and raise it with the attesters',
      )
    } else if (challenge !== undefined) {
      this.#log.info(
        { batch: challenge.batchIndex, batchHash },
        `batch ${challenge.batchIndex}'s challenge was proven`,
      )
    }
  }

  #onReverted(r: { from: number; to: number; challenger: Address }): void {
    const ours = r.challenger === this.#challenger
    for (const c of this.store.openChallenges()) {
      // The challenge that reverted the batches; challenges on later ones are stranded and refundable.
      if (c.batchIndex === r.from && c.challenger === r.challenger)
        this.store.setChallengeStatus(c.batchHash, 'reverted')
    }
    if (ours) this.metrics.challengeWon()
    this.#log.warn(
      { from: r.from, to: r.to, challenger: r.challenger },
      `batches ${r.from} to ${r.to} were reverted by ${ours ? 'our' : `${r.challenger}'s`} challenge`,
    )
  }

  // ---------------------------------------------------------------- reverts and checkpoints

  /** When the last verified batch is no longer live, goes back to the newest live checkpoint. */
  #followReverts(latestBatch: number): number | null {
    if (this.#wrong !== null && !this.#isLive(this.#wrong.proposal, latestBatch)) this.#wrong = null
    const at = this.replayer.batchIndex
    if (at === 0) return null
    const live = this.store.latestProposal(at)
    if (at <= latestBatch && live?.batchHash === this.replayer.batchHash) return null
    let target: ReplayerCheckpoint | undefined
    for (const c of this.store.checkpoints()) {
      if (c.batchIndex <= latestBatch && this.store.latestProposal(c.batchIndex)?.batchHash === c.batchHash) {
        target = this.store.loadCheckpoint(c.batchIndex, c.batchHash)
        break
      }
      this.store.deleteCheckpoint(c.batchIndex, c.batchHash)
    }
    this.replayer.reset(target)
    this.#lastCheckpointBatch = this.replayer.batchIndex
    this.#log.warn(
      { from: at, to: this.replayer.batchIndex },
      `batch ${at}, verified before, is no longer live (reverted): going back to the checkpoint at batch ${this.replayer.batchIndex} and verifying the live batches again`,
    )
    return this.replayer.batchIndex
  }

  #isLive(p: { batchIndex: number; batchHash: Hex }, latestBatch: number): boolean {
    return p.batchIndex <= latestBatch && this.store.latestProposal(p.batchIndex)?.batchHash === p.batchHash
  }

  #checkpoint(): void {
    const t = performance.now()
    const checkpoint = this.replayer.checkpoint()
    this.store.putCheckpoint(checkpoint)
    this.#lastCheckpointBatch = checkpoint.batchIndex
    this.#lastCheckpointAtMs = performance.now()
    this.#log.debug(
      { batch: checkpoint.batchIndex, bytes: checkpoint.snapshot?.length ?? 0, ms: performance.now() - t },
      'checkpoint kept',
    )
  }

  /**
   * Takes a head checkpoint when the last one is older than `headCheckpointIntervalMs`. Keeps the newest
   * live checkpoint at or below the finalized batch (a revert always goes back there), one every
   * `checkpointEveryBatches` above it, and the newest; drops reverted ones.
   */
  #keepCheckpoints(report: PollReport): void {
    if (
      this.replayer.batchIndex > this.#lastCheckpointBatch &&
      performance.now() - this.#lastCheckpointAtMs >= this.#headCheckpointIntervalMs
    ) {
      this.#checkpoint()
    }
    let keptFinalized = false
    const all = this.store.checkpoints()
    for (const [i, c] of all.entries()) {
      let keep = this.#isLive(c, report.latestBatch)
      if (keep && i > 0) {
        if (c.batchIndex > report.finalizedBatch) keep = c.batchIndex % this.#checkpointEvery === 0
        else {
          keep = !keptFinalized
          keptFinalized = true
        }
      }
      if (!keep) this.store.deleteCheckpoint(c.batchIndex, c.batchHash)
    }
  }

  // ---------------------------------------------------------------- verifying

  async #verifyLive(report: PollReport, headBlock: bigint): Promise<void> {
    const first = this.replayer.batchIndex + 1
    const todo: StoredProposal[] = []
    for (let i = first; i <= report.latestBatch; i++) {
      const p = this.store.latestProposal(i)
      if (p === undefined) {
        throw new WatcherError(
          WatcherErrorCode.L1_DATA_MISSING,
          `batch ${i} is live on chain but its BatchProposed log was not scanned: start from the settlement's deployment block (--from-block)`,
        )
      }
      todo.push(p)
    }
    if (todo.length === 0) return
    const prefetch = Math.max(1, this.#options.prefetchBatches ?? 8)
    const fetches = new Map<number, Promise<Uint8Array>>()
    /** Data already fetched, by position in `todo`: batches ahead are prepared only from these. */
    const arrived = new Map<number, Uint8Array>()
    const fetchAt = (k: number): Promise<Uint8Array> | undefined => {
      const p = todo[k]
      if (p === undefined) return undefined
      let f = fetches.get(k)
      if (f === undefined) {
        f = this.settlement.batchData(p)
        f.then(
          (data) => arrived.set(k, data),
          () => {},
        )
        fetches.set(k, f)
      }
      return f
    }
    const knownWrong = (p: StoredProposal): Verdict | undefined => {
      const v = this.store.verdict(p.batchIndex, p.batchHash)
      return v !== undefined && !v.ok ? v : undefined
    }
    const inbox = (from: number, to: number): InboxRecord[] => {
      const items = this.store.inboxRange(from, to)
      if (items.length !== to - from) {
        throw new WatcherError(
          WatcherErrorCode.L1_DATA_MISSING,
          `inbox items ${from} to ${to - 1} are needed but only ${items.length} were scanned: start from the settlement's deployment block (--from-block)`,
        )
      }
      return items
    }
    const progress = { started: performance.now(), last: performance.now(), batches: 0, ops: 0 }
    // Batches prepared by an earlier poll that failed part-way are gone: start from the engine.
    this.replayer.discardPrepared()
    /** Prepared batches for todo[k], todo[k + 1], ...: recovering on the workers while todo[k] replays. */
    const ahead: PreparedBatch[] = []
    let preparedTo = 0
    for (let k = 0; k < todo.length && !this.#stopping; k++) {
      const p = todo[k]!
      if (this.#wrong === null) {
        const known = knownWrong(p)
        if (known !== undefined) {
          // Still pending and still wrong: replaying it again would only say so again.
          this.#wrong = { proposal: p, verdict: known }
          ahead.length = 0
          this.replayer.discardPrepared()
          continue
        }
      }
      if (this.#wrong !== null) {
        if (this.store.verdict(p.batchIndex, p.batchHash) === undefined) {
          this.#record(report, this.#parentWrong(p, this.#wrong.verdict))
        }
        continue
      }
      for (let j = k; j < k + prefetch; j++) fetchAt(j)
      if (preparedTo === k) {
        let data: Uint8Array
        try {
          data = await fetchAt(k)!
        } catch (error) {
          if (!isUnreadable(error)) throw error
          const verdict: Verdict = {
            batchIndex: p.batchIndex,
            epoch: p.epoch,
            batchHash: p.batchHash,
            ok: false,
            fault: VerdictFault.DATA_UNAVAILABLE,
            detail: `its data cannot be read from L1: ${(error as Error).message}`,
            ops: 0,
            ms: 0,
            stateRoot: this.replayer.stateRoot,
          }
          this.#record(report, verdict)
          this.#wrong = { proposal: p, verdict }
          ahead.length = 0
          this.replayer.discardPrepared()
          continue
        }
        ahead.push(this.replayer.prepare(p, data))
        preparedTo++
      }
      while (preparedTo <= k + PREPARE_AHEAD && arrived.has(preparedTo)) {
        const q = todo[preparedTo]!
        if (knownWrong(q) !== undefined) break
        ahead.push(this.replayer.prepare(q, arrived.get(preparedTo)!))
        preparedTo++
      }
      const current = ahead.shift()!
      const verdict = await this.replayer.verifyPrepared(current, inbox)
      fetches.delete(k)
      arrived.delete(k)
      this.#record(report, verdict)
      if (!verdict.ok) {
        this.#wrong = { proposal: p, verdict }
        ahead.length = 0
        continue
      }
      if (verdict.batchIndex % this.#checkpointEvery === 0) this.#checkpoint()
      progress.batches++
      progress.ops += verdict.ops
      const now = performance.now()
      if (now - progress.last > PROGRESS_EVERY_MS && k + 1 < todo.length) {
        progress.last = now
        const seconds = (now - progress.started) / 1000
        const batchesPerSecond = progress.batches / seconds
        const left = todo.length - k - 1
        this.#log.info(
          { batch: verdict.batchIndex, behind: left },
          `catching up: batch ${count(verdict.batchIndex)} of ${count(report.latestBatch)}, ` +
            `${batchesPerSecond.toFixed(1)} batches/s, ${count(Math.round(progress.ops / seconds))} ops/s, ` +
            `${count(left)} batches (${count(Number(headBlock - p.blockNumber))} blocks) behind, ` +
            `ETA ${formatDuration(left / batchesPerSecond)}`,
        )
      }
    }
  }

  #parentWrong(p: StoredProposal, wrong: Verdict): Verdict {
    return {
      batchIndex: p.batchIndex,
      epoch: p.epoch,
      batchHash: p.batchHash,
      ok: false,
      fault: VerdictFault.PARENT_WRONG,
      detail: `builds on batch ${wrong.batchIndex}, which is WRONG (${wrong.fault}); it goes when that one is reverted`,
      ops: 0,
      ms: 0,
      stateRoot: this.replayer.stateRoot,
    }
  }

  #record(report: PollReport, v: Verdict): void {
    this.store.putVerdict(v)
    report.verdicts.push(v)
    report.opsReplayed += v.ops
    this.metrics.verified(v.ok ? 'ok' : (v.fault ?? 'wrong'), v.ops, v.ms / 1000)
    this.metrics.signatures(this.#pool.counts)
    const fields = {
      batch: v.batchIndex,
      epoch: v.epoch,
      batchHash: v.batchHash,
      ops: v.ops,
      ms: Math.round(v.ms * 10) / 10,
      root: v.stateRoot,
      ...(v.fault === undefined ? {} : { fault: v.fault }),
    }
    if (v.ok) this.#log.info(fields, verdictLine(v))
    else if (v.fault === VerdictFault.PARENT_WRONG) this.#log.warn(fields, verdictLine(v))
    else this.#log.error(fields, verdictLine(v))
  }

  #checkWrongFinalized(finalizedBatch: number): void {
    const wrong = this.#wrong
    if (wrong === null || wrong.verdict.batchIndex > finalizedBatch) return
    this.#halted =
      `batch ${wrong.verdict.batchIndex} finalized although replay finds it WRONG (${wrong.verdict.fault}): ` +
      'the contract now holds a root this engine does not reach. Withdrawals and escapes from it are unsound; ' +
      'alert the operator and users, and do not rely on this deployment'
    this.#log.fatal({ batch: wrong.verdict.batchIndex }, this.#halted)
  }

  #isGriefing(c: StoredChallenge): boolean {
    if (c.ours) return false
    return this.store.verdict(c.batchIndex, c.batchHash)?.ok === true
  }

  #reportGriefing(): void {
    for (const c of this.store.openChallenges()) {
      if (!this.#isGriefing(c) || !this.#once(`griefing:${c.batchHash}`)) continue
      this.#log.warn(
        {
          batch: c.batchIndex,
          batchHash: c.batchHash,
          challenger: c.challenger,
          proveDeadline: c.proveDeadline,
        },
        `batch ${c.batchIndex}, which this watcher verified OK, was challenged by ${c.challenger}: a griefing ` +
          `challenge. The proposer must prove it before ${new Date(c.proveDeadline * 1000).toISOString()}, ` +
          'or the batch and every later one are reverted',
      )
    }
  }

  #once(key: string): boolean {
    if (this.#warned.has(key)) return false
    this.#warned.add(key)
    return true
  }

  // ---------------------------------------------------------------- challenge, resolve, claim

  async #act(report: PollReport): Promise<void> {
    const client = this.settlement.client
    const now = (await client.getBlock()).timestamp
    const wrong = this.#wrong
    if (wrong !== null) await this.#challengeWrong(report, wrong, now)
    await this.#followDisputes(report, now)
    await this.#claimCredit(report)
  }

  async #challengeWrong(
    report: PollReport,
    wrong: { proposal: StoredProposal; verdict: Verdict },
    now: bigint,
  ): Promise<void> {
    const { proposal, verdict } = wrong
    const read = this.settlement.settlement.read
    const onChain = await read.challengeOf([proposal.batchHash])
    if (onChain.status !== ChallengeState.None) return
    const header = proposal.header
    const deadline = header.proposedAt + this.#windows.challengeSeconds
    const what = `batch ${proposal.batchIndex} is WRONG (${verdict.fault})`
    if (now >= deadline) {
      if (this.#once(`closed:${proposal.batchHash}`)) {
        this.#log.fatal(
          { batch: proposal.batchIndex, deadline: deadline.toString() },
          `${what} and its challenge window closed at ${isoSeconds(deadline)} with no challenge: anyone can now ` +
            'finalize it. Alert the operator and users; stop relying on this deployment',
        )
      }
      return
    }
    const bond = this.#windows.challengerBondWei
    const balance = await this.settlement.client.getBalance({ address: this.#challenger! })
    if (balance < bond) {
      if (this.#once(`funds:${proposal.batchHash}:${balance}`)) {
        this.#log.fatal(
          { batch: proposal.batchIndex, balanceWei: balance.toString(), bondWei: bond.toString() },
          `${what} but the challenger ${this.#challenger} holds ${formatEther(balance)} ETH and the bond is ` +
            `${formatEther(bond)} ETH: send it at least ${formatEther(bond - balance)} ETH plus gas before ` +
            `${isoSeconds(deadline)}`,
        )
      }
      return
    }
    if (!(await this.#stillLive(proposal))) return
    try {
      const sent = await this.settlement.challenge(header, bond)
      this.store.putChallenge({
        batchHash: proposal.batchHash,
        batchIndex: proposal.batchIndex,
        challenger: this.#challenger!,
        ours: true,
        proveDeadline: Number(now + this.#windows.proveSeconds),
        status: 'open',
        blockNumber: sent.receipt.blockNumber,
      })
      this.metrics.challengeOpened()
      report.challenged.push(proposal.batchIndex)
      this.#log.warn(
        { batch: proposal.batchIndex, tx: sent.hash, bondWei: bond.toString() },
        `challenged batch ${proposal.batchIndex} (${verdict.fault}) with a bond of ${formatEther(bond)} ETH; ` +
          `it must be proven within ${this.#windows.proveSeconds} s or it is reverted`,
      )
    } catch (error) {
      const name = revertErrorName(error)
      if (name === 'AlreadyChallenged' || name === 'UnknownBatch') return // raced: someone challenged, or it was reverted
      this.#log.fatal(
        { batch: proposal.batchIndex, err: error, revert: name },
        `${what} and challenging it failed (${name ?? (error as Error).message}): challenge it by hand before ${isoSeconds(deadline)}`,
      )
    }
  }

  async #stillLive(p: StoredProposal): Promise<boolean> {
    const hash = await this.settlement.settlement.read.batchHashOf([BigInt(p.batchIndex)])
    return hash.toLowerCase() === p.batchHash.toLowerCase()
  }

  /**
   * Resolves every open challenge of ours (and any on the batch we found WRONG) once its prove window has
   * passed, finalizing the honest batches before it first; reclaims the bonds of ours that a revert stranded.
   */
  async #followDisputes(report: PollReport, now: bigint): Promise<void> {
    const read = this.settlement.settlement.read
    for (const c of this.store.openChallenges()) {
      const followed = c.ours || this.#wrong?.proposal.batchHash === c.batchHash
      if (!followed) continue
      const onChain = await read.challengeOf([c.batchHash])
      if (onChain.status === ChallengeState.Proven) {
        this.store.setChallengeStatus(c.batchHash, 'proven')
        continue
      }
      if (onChain.status === ChallengeState.Settled) {
        this.store.setChallengeStatus(c.batchHash, 'reverted')
        continue
      }
      const proposal = this.store.proposal(c.batchHash)
      if (proposal === undefined || !(await this.#stillLive(proposal))) {
        if (c.ours && onChain.status === ChallengeState.Challenged) await this.#reclaimBond(c)
        continue
      }
      const proveDeadline = BigInt(onChain.challengedAt) + this.#windows.proveSeconds
      if (now < proveDeadline) continue
      const finalized = Number(await read.finalizedBatchIndex())
      if (!(await this.#resolveParents(report, finalized, c.batchIndex))) continue
      try {
        const resolved = await this.settlement.resolve(proposal.header)
        report.resolved.push({ batchIndex: c.batchIndex, outcome: resolved.outcome })
        this.#log.warn(
          { batch: c.batchIndex, tx: resolved.hash, outcome: resolved.outcome },
          `resolved batch ${c.batchIndex}: ${resolved.outcome}`,
        )
      } catch (error) {
        this.#log.error(
          { batch: c.batchIndex, err: error, revert: revertErrorName(error) },
          `resolving batch ${c.batchIndex} failed (${revertErrorName(error) ?? (error as Error).message}); retrying next poll`,
        )
      }
    }
  }

  /** Finalizes the pending batches before `batchIndex` that can be; false while one must still wait. */
  async #resolveParents(report: PollReport, finalized: number, batchIndex: number): Promise<boolean> {
    for (let j = finalized + 1; j < batchIndex; j++) {
      const parent = this.store.latestProposal(j)
      if (parent === undefined) return false
      try {
        const resolved = await this.settlement.resolve(parent.header)
        report.resolved.push({ batchIndex: j, outcome: resolved.outcome })
        this.#log.info(
          { batch: j, outcome: resolved.outcome },
          `resolved batch ${j} first: ${resolved.outcome}`,
        )
        if (resolved.outcome === 'reverted') return false
      } catch (error) {
        const name = revertErrorName(error)
        if (this.#once(`wait:${parent.batchHash}:${name}`)) {
          this.#log.info(
            { batch: j, revert: name },
            `batch ${batchIndex} resolves after batch ${j}, which cannot finalize yet (${name ?? (error as Error).message})`,
          )
        }
        return false
      }
    }
    return true
  }

  async #reclaimBond(c: StoredChallenge): Promise<void> {
    try {
      await this.settlement.reclaimChallengeBond(c.batchHash)
      this.store.setChallengeStatus(c.batchHash, 'refunded')
      this.#log.info(
        { batch: c.batchIndex },
        `batch ${c.batchIndex} was reverted by an earlier challenge: our bond is refunded to our credit`,
      )
    } catch (error) {
      if (revertErrorName(error) === 'ChallengeNotRefundable')
        this.store.setChallengeStatus(c.batchHash, 'reverted')
      else throw error
    }
  }

  async #claimCredit(report: PollReport): Promise<void> {
    const credit = await this.settlement.settlement.read.creditOf([this.#challenger!])
    if (credit === 0n) return
    const sent = await this.settlement.claimCredit()
    report.claimedWei += credit
    this.metrics.creditClaimed(credit)
    this.#log.info(
      { wei: credit.toString(), tx: sent.hash },
      `claimed ${formatEther(credit)} ETH of credit (bonds won and refunded)`,
    )
  }
}

function isoSeconds(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString()
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown'
  if (seconds < 90) return `${Math.ceil(seconds)} s` // ceil: never promise less than is left
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`
  return `${(seconds / 3600).toFixed(1)} h`
}

/**
 * A batch's data that will never be readable, as opposed to an RPC or blob-source failure worth retrying:
 * the proposal was not a direct `proposeBatch`/`proposeBatchBlobs` call, its data does not hash to the
 * header's `dataHash`, or its blobs are not a canonical payload (client.ts `BatchDataError`).
 */
function isUnreadable(error: unknown): boolean {
  return error instanceof BatchDataError
}
