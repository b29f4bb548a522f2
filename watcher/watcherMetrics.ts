import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { SignatureCounts } from './replay/recoveryPool.ts'

/** What the watcher reports; `createWatcherMetrics` is the prom-client implementation. */
export interface WatcherMetrics {
  readonly registry: Registry
  /** One verdict; `verdict` is `ok` or the fault code. */
  verified(verdict: string, ops: number, seconds: number): void
  /** Live batches and L1 blocks not verified or scanned yet. */
  headDistance(batches: number, blocks: number): void
  lastVerifiedBatch(batchIndex: number): void
  challengeOpened(): void
  /** Our challenge reverted the batch. */
  challengeWon(): void
  /** A batch we challenged was proven: the prover disagrees with this watcher's replay. */
  challengeLost(): void
  creditClaimed(wei: bigint): void
  pollFailed(): void
  /** The pool's running signature counts (RecoveryPool.counts); the counters follow them. */
  signatures(counts: Readonly<SignatureCounts>): void
}

const REPLAY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** A watcher reopened in the same process (a restart in tests, say) reports through the metrics it registered before. */
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/** prom-client metrics in `registry` (a fresh one by default, so that two watchers in one process do not collide). */
export function createWatcherMetrics(registry: Registry = new Registry()): WatcherMetrics {
  const registers = [registry]
  const verified = reuse(
    registry,
    'sce_watcher_batches_verified_total',
    () =>
      new Counter({
        name: 'sce_watcher_batches_verified_total',
        help: 'Batches verified, by verdict: ok, or the fault code of a WRONG batch.',
        labelNames: ['verdict'],
        registers,
      }),
  )
  const ops = reuse(
    registry,
    'sce_watcher_ops_replayed_total',
    () =>
      new Counter({
        name: 'sce_watcher_ops_replayed_total',
        help: 'Batch entries replayed.',
        registers,
      }),
  )
  const replay = reuse(
    registry,
    'sce_watcher_replay_seconds',
    () =>
      new Histogram({
        name: 'sce_watcher_replay_seconds',
        help: 'Time to verify one batch: decode, signer recovery, replay and seal.',
        buckets: REPLAY_BUCKETS_SECONDS,
        registers,
      }),
  )
  const behindBatches = reuse(
    registry,
    'sce_watcher_head_distance_batches',
    () =>
      new Gauge({
        name: 'sce_watcher_head_distance_batches',
        help: 'Live proposed batches not verified yet.',
        registers,
      }),
  )
  const behindBlocks = reuse(
    registry,
    'sce_watcher_head_distance_blocks',
    () =>
      new Gauge({
        name: 'sce_watcher_head_distance_blocks',
        help: 'L1 blocks between the chain head and the last block scanned.',
        registers,
      }),
  )
  const lastVerified = reuse(
    registry,
    'sce_watcher_last_verified_batch',
    () =>
      new Gauge({
        name: 'sce_watcher_last_verified_batch',
        help: 'Index of the last batch verified OK (0: genesis).',
        registers,
      }),
  )
  const opened = reuse(
    registry,
    'sce_watcher_challenges_opened_total',
    () =>
      new Counter({
        name: 'sce_watcher_challenges_opened_total',
        help: 'Challenges this watcher opened.',
        registers,
      }),
  )
  const won = reuse(
    registry,
    'sce_watcher_challenges_won_total',
    () =>
      new Counter({
        name: 'sce_watcher_challenges_won_total',
        help: 'Challenges of this watcher that reverted their batch.',
        registers,
      }),
  )
  const lost = reuse(
    registry,
    'sce_watcher_challenges_lost_total',
    () =>
      new Counter({
        name: 'sce_watcher_challenges_lost_total',
        help: 'Batches this watcher challenged that were proven anyway.',
        registers,
      }),
  )
  const credit = reuse(
    registry,
    'sce_watcher_credit_claimed_wei_total',
    () =>
      new Counter({
        name: 'sce_watcher_credit_claimed_wei_total',
        help: 'ETH credit (bonds won) claimed from the settlement contract, in wei.',
        registers,
      }),
  )
  const pollErrors = reuse(
    registry,
    'sce_watcher_poll_errors_total',
    () =>
      new Counter({
        name: 'sce_watcher_poll_errors_total',
        help: 'Polls that failed (RPC errors and the like); the next poll retries.',
        registers,
      }),
  )
  const signatures = reuse(
    registry,
    'sce_watcher_signatures_checked_total',
    () =>
      new Counter({
        name: 'sce_watcher_signatures_checked_total',
        help: 'Signatures checked, by how: batch (against the key last seen for the signer) or recovery (one by one).',
        labelNames: ['how'],
        registers,
      }),
  )
  const failedBatchChecks = reuse(
    registry,
    'sce_watcher_signature_batch_checks_failed_total',
    () =>
      new Counter({
        name: 'sce_watcher_signature_batch_checks_failed_total',
        help: 'Batch signature checks that failed (a signer changed keys, or a signature is bad): a batch then checked in groups, or a group then recovered one by one.',
        registers,
      }),
  )
  const seen: SignatureCounts = { batched: 0, recovered: 0, failedBatches: 0 }
  return {
    registry,
    signatures: (counts) => {
      signatures.inc({ how: 'batch' }, counts.batched - seen.batched)
      signatures.inc({ how: 'recovery' }, counts.recovered - seen.recovered)
      failedBatchChecks.inc(counts.failedBatches - seen.failedBatches)
      Object.assign(seen, counts)
    },
    verified: (verdict, n, seconds) => {
      verified.inc({ verdict })
      ops.inc(n)
      replay.observe(seconds)
    },
    headDistance: (batches, blocks) => {
      behindBatches.set(batches)
      behindBlocks.set(blocks)
    },
    lastVerifiedBatch: (batchIndex) => lastVerified.set(batchIndex),
    challengeOpened: () => opened.inc(),
    challengeWon: () => won.inc(),
    challengeLost: () => lost.inc(),
    creditClaimed: (wei) => credit.inc(Number(wei)),
    pollFailed: () => pollErrors.inc(),
  }
}
