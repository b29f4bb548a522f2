import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * What the sequencer reports. The core takes this interface, optional, and never imports prom-client;
 * `createPromMetrics` is the prom-client implementation.
 */
export interface SequencerMetrics {
  /** Intents (and system ops) received, before any check. */
  received(type: string): void
  /** Refused before sequencing: `stage` is `intake` (shape, signature, capacity) or `precheck` (engine rules). */
  rejected(code: string, stage: 'intake' | 'precheck'): void
  /** Sequenced; `outcome` is `ok` or the engine's rejection code. */
  sequenced(type: string, outcome: string): void
  ackLatency(seconds: number): void
  logCommit(seconds: number, entries: number): void
  snapshot(seconds: number, bytes: number): void
  lastSeq(seq: number): void
  halted(code: string): void
  recovery(seconds: number, replayedOps: number): void
  /** The L1 inbox: items on L1 (confirmed) not yet sequenced, and confirmed blocks not yet scanned. */
  inboxLag(items: number, blocks: number): void
  /** A batch sealed: its entries and posted bytes. */
  batchSealed(ops: number, bytes: number): void
  /** A proposeBatch landed: seconds from seal to receipt, and the gas it used. */
  batchPosted(seconds: number, gasUsed: bigint): void
  /** A batch of ours changed status: proposed, challenged, proven, finalized, reverted. */
  batchStatus(status: string, batchIndex: number): void
}

const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
]

/** prom-client metrics in `registry` (a fresh one by default, so that several nodes in one process do not collide). */
export function createPromMetrics(
  registry: Registry = new Registry(),
): SequencerMetrics & { registry: Registry } {
  const registers = [registry]
  const received = new Counter({
    name: 'sce_intents_received_total',
    help: 'Intents and system operations received, by op type.',
    labelNames: ['type'],
    registers,
  })
  const rejected = new Counter({
    name: 'sce_intents_rejected_total',
    help: 'Intents refused before sequencing, by code and stage (intake or precheck).',
    labelNames: ['code', 'stage'],
    registers,
  })
  const sequenced = new Counter({
    name: 'sce_intents_sequenced_total',
    help: 'Operations sequenced, by op type and engine outcome (ok or a rejection code).',
    labelNames: ['type', 'outcome'],
    registers,
  })
  const ack = new Histogram({
    name: 'sce_ack_latency_seconds',
    help: 'From receipt of an intent to its acknowledgement (durable and applied).',
    buckets: LATENCY_BUCKETS_SECONDS,
    registers,
  })
  const commit = new Histogram({
    name: 'sce_log_commit_seconds',
    help: 'Duration of one group commit to the write-ahead log.',
    buckets: LATENCY_BUCKETS_SECONDS,
    registers,
  })
  const groupEntries = new Counter({
    name: 'sce_log_entries_total',
    help: 'Entries written to the write-ahead log.',
    registers,
  })
  const groups = new Counter({ name: 'sce_log_groups_total', help: 'Group commits.', registers })
  const snapshotSeconds = new Histogram({
    name: 'sce_snapshot_seconds',
    help: 'Time to serialise and store one engine snapshot.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers,
  })
  const snapshotBytes = new Gauge({
    name: 'sce_snapshot_size_bytes',
    help: 'Size of the last snapshot.',
    registers,
  })
  const seq = new Gauge({ name: 'sce_sequenced_seq', help: 'The last sequenced seq.', registers })
  const halted = new Gauge({
    name: 'sce_halted',
    help: '1 while the node is halted, labelled with the halt code.',
    labelNames: ['code'],
    registers,
  })
  const recoverySeconds = new Gauge({
    name: 'sce_recovery_seconds',
    help: 'Duration of the last start-up recovery.',
    registers,
  })
  const recoveryOps = new Gauge({
    name: 'sce_recovery_replayed_ops',
    help: 'Log entries replayed at the last start-up.',
    registers,
  })
  const inboxLagItems = new Gauge({
    name: 'sce_inbox_lag_items',
    help: 'Confirmed L1 inbox items not yet sequenced.',
    registers,
  })
  const inboxLagBlocks = new Gauge({
    name: 'sce_inbox_lag_blocks',
    help: 'Confirmed L1 blocks the inbox reader has not scanned yet.',
    registers,
  })
  const batchOps = new Histogram({
    name: 'sce_batch_ops',
    help: 'Entries per sealed batch.',
    buckets: [0, 10, 100, 1_000, 5_000, 10_000, 50_000],
    registers,
  })
  const batchBytes = new Histogram({
    name: 'sce_batch_bytes',
    help: 'Posted bytes per sealed batch.',
    buckets: [100, 1_000, 10_000, 50_000, 100_000, 500_000],
    registers,
  })
  const postSeconds = new Histogram({
    name: 'sce_batch_post_seconds',
    help: 'From sealing a batch to the receipt of its proposeBatch.',
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  })
  const postGas = new Counter({
    name: 'sce_batch_l1_gas_total',
    help: 'L1 gas used by proposeBatch.',
    registers,
  })
  const lastPostGas = new Gauge({
    name: 'sce_batch_last_l1_gas',
    help: 'L1 gas of the last proposeBatch.',
    registers,
  })
  const batchIndex = new Gauge({
    name: 'sce_batch_index',
    help: 'The latest batch index of ours in each status.',
    labelNames: ['status'],
    registers,
  })
  const batchTransitions = new Counter({
    name: 'sce_batch_status_total',
    help: 'Batches of ours entering each status.',
    labelNames: ['status'],
    registers,
  })
  return {
    registry,
    inboxLag: (items, blocks) => {
      inboxLagItems.set(items)
      inboxLagBlocks.set(blocks)
    },
    batchSealed: (ops, bytes) => {
      batchOps.observe(ops)
      batchBytes.observe(bytes)
    },
    batchPosted: (s, gas) => {
      postSeconds.observe(s)
      postGas.inc(Number(gas))
      lastPostGas.set(Number(gas))
    },
    batchStatus: (status, index) => {
      batchIndex.set({ status }, index)
      batchTransitions.inc({ status })
    },
    received: (type) => received.inc({ type }),
    rejected: (code, stage) => rejected.inc({ code, stage }),
    sequenced: (type, outcome) => sequenced.inc({ type, outcome }),
    ackLatency: (s) => ack.observe(s),
    logCommit: (s, entries) => {
      commit.observe(s)
      groups.inc()
      groupEntries.inc(entries)
    },
    snapshot: (s, bytes) => {
      snapshotSeconds.observe(s)
      snapshotBytes.set(bytes)
    },
    lastSeq: (s) => seq.set(s),
    halted: (code) => halted.set({ code }, 1),
    recovery: (s, ops) => {
      recoverySeconds.set(s)
      recoveryOps.set(ops)
    },
  }
}
