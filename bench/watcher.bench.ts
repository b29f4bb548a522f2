import { bytesToHex, type Hex, keccak256 } from 'viem'
import type { InboxRecord } from '../engine/batch/replayBatch.ts'
import { packBatchData } from '../engine/codec/batchEnvelope.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import { Engine } from '../engine/engine.ts'
import type { Op, SignedEntry } from '../engine/ops.ts'
import { domainSeparator, observationDigest } from '../engine/signing/digest.ts'
import { parseIntent } from '../sequencer/intake/parseIntent.ts'
import type { SignedIntent } from '../sequencer/intake/signedIntent.ts'
import { TEST_ORACLE_KEYS } from '../sequencer/testing/testKeys.ts'
import type { BatchHeader } from '../settlement-contracts/ts/client.ts'
import { BatchReplayer, type BatchToVerify, type PreparedBatch } from '../watcher/replay/batchReplayer.ts'
import { defaultSignatureWorkers, RecoveryPool } from '../watcher/replay/recoveryPool.ts'
import { buildIntents, type IntentSet, measureIntake } from './sequencer.bench.ts'
import { collectGarbage, median } from './stats.ts'

/**
 * The watcher's replay from posted bytes to verdicts, against the sequencer's peak intake on the same
 * intents (bench/sequencer.bench.ts): the stream is the sequencer benchmark's signed place/cancel/take
 * mix from 1,000 accounts, after a deposit per account through the inbox and signed prices (refreshed
 * every 5,000 ops), sequenced and sealed into batches of 1,000 ops by an engine, encoded and packed as
 * a batcher posts them. Measured: decode, signature checks on the worker pool (the next batches checked
 * while this one replays; the watcher's default worker count), replay and seal, roots compared, from
 * genesis. Medians of several runs.
 */

const QUICK = process.env.BENCH_QUICK === '1'
const RUNS = QUICK ? 1 : 3
const BATCH_OPS = 1_000
const MID_TICKS = 600_000
const USDC = 1_000_000n

interface Stream {
  batches: (BatchToVerify & { posted: Uint8Array })[]
  inbox: InboxRecord[]
  ops: number
  postedBytes: number
}

/** Sequences the intents (after deposits and prices) into sealed, packed batches, as a batcher would. */
function buildStream(set: IntentSet, nowMs: number): Stream {
  const config = set.config
  const engine = Engine.create(config)
  const domain = domainSeparator(config.chainId, config.settlementAddress)
  const inbox: InboxRecord[] = []
  const batches: Stream['batches'] = []
  let open: SignedEntry[] = []
  let prevStateRoot: Hex = bytesToHex(engine.root())
  let timestampMs = nowMs
  const push = (op: Op, signature: Uint8Array | null, observationSignatures: Uint8Array[] = []): void => {
    const seq = engine.state.seq + 1
    engine.apply(op, { seq, timestampMs })
    open.push({ seq, timestampMs, op, signature, observationSignatures })
    if (open.length === BATCH_OPS) seal()
  }
  const seal = (): void => {
    const batchIndex = BigInt(batches.length + 1)
    const sealed = engine.sealBatch(batchIndex)
    const posted = packBatchData(encodeBatch({ version: 1, entries: open }))
    const header: BatchHeader = {
      batchIndex,
      epoch: 0n,
      prevStateRoot,
      stateRoot: bytesToHex(sealed.stateRoot),
      withdrawalsRoot: bytesToHex(sealed.withdrawalsRoot),
      dataHash: keccak256(posted),
      inboxConsumed: BigInt(sealed.inboxConsumed),
      inboxAccumulator: `0x${'00'.repeat(32)}`,
      proposedAt: BigInt(Math.floor(timestampMs / 1000)), // floor: L1 time is whole seconds
    }
    batches.push({ header, batchHash: keccak256(header.dataHash), posted })
    prevStateRoot = header.stateRoot
    open = []
  }
  const prices = (): void => {
    for (const m of config.markets) {
      const obs = { priceTicks: MID_TICKS, publishTimeMs: timestampMs }
      push(
        {
          type: 'oracleUpdate',
          oracleId: m.oracleId,
          observations: TEST_ORACLE_KEYS.map((k) => ({ signer: k.address, ...obs })),
        },
        null,
        TEST_ORACLE_KEYS.map((k) => k.signDigest(observationDigest(m.oracleId, obs, domain))),
      )
    }
  }
  for (const [i, key] of set.keys.entries()) {
    const record: InboxRecord = {
      index: i,
      kind: 'deposit',
      account: key.address,
      amountQuantums: 10_000_000n * USDC,
    }
    inbox.push(record)
    push(
      { type: 'deposit', account: key.address, amountQuantums: record.amountQuantums, inboxIndex: i },
      null,
    )
  }
  prices()
  for (const [i, text] of set.texts.entries()) {
    if (i % 10 === 0) timestampMs++
    if (i % 5_000 === 4_999) prices()
    const parsed = parseIntent(JSON.parse(text) as SignedIntent)
    if (!('op' in parsed)) throw new Error(`bench intent ${i} does not parse: ${parsed.message}`)
    parsed.op.signer = parsed.op.account
    push(parsed.op, parsed.signature)
  }
  if (open.length > 0) seal()
  return {
    batches,
    inbox,
    ops: engine.state.seq,
    postedBytes: batches.reduce((n, b) => n + b.posted.length, 0),
  }
}

/** Batches decoded and recovering ahead of the one replaying: enough to keep every worker busy. */
const PREPARE_AHEAD = 3

/** Every batch from genesis, the next ones prepared (recovering) while this one replays; throws unless all verify. */
async function replayAll(stream: Stream, set: IntentSet, pool: RecoveryPool): Promise<number> {
  const replayer = new BatchReplayer(set.config, pool)
  const t = performance.now()
  const ahead: PreparedBatch[] = []
  let prepared = 0
  for (let k = 0; k < stream.batches.length; k++) {
    while (prepared < stream.batches.length && prepared <= k + PREPARE_AHEAD) {
      const b = stream.batches[prepared++]!
      ahead.push(replayer.prepare(b, b.posted))
    }
    const verdict = await replayer.verifyPrepared(ahead.shift()!, stream.inbox)
    if (!verdict.ok) throw new Error(`batch ${verdict.batchIndex} ${verdict.fault}: ${verdict.detail}`)
  }
  return performance.now() - t
}

export async function run(): Promise<void> {
  const count = QUICK ? 10_000 : 60_000
  const set = buildIntents(count, 1_000, Date.now())
  const stream = buildStream(set, Date.now())
  const workers = defaultSignatureWorkers()
  console.log(
    `# watcher: ${stream.ops} ops in ${stream.batches.length} batches of ${BATCH_OPS}, ${(stream.postedBytes / stream.batches.length / 1024).toFixed(1)} KiB posted per batch, ${workers} signature worker${workers === 1 ? '' : 's'} (the watcher's default)`,
  )

  const rates = new Map<number, number[]>()
  for (const w of new Set([workers, 0])) {
    const pool = await RecoveryPool.start({ workers: w })
    const runs: number[] = []
    for (let r = 0; r < RUNS; r++) {
      collectGarbage()
      runs.push((stream.ops / (await replayAll(stream, set, pool))) * 1000)
    }
    await pool.close()
    rates.set(w, runs)
  }
  const watcher = median(rates.get(workers)!)
  console.log(`BENCH watcher_replay_ops_per_s ${watcher.toFixed(0)} ops/s`)
  console.log(`BENCH watcher_replay_single_thread_ops_per_s ${median(rates.get(0)!).toFixed(0)} ops/s`)

  const { intentsPerS } = await measureIntake(set)
  console.log(`BENCH watcher_peer_sequencer_intents_per_s ${intentsPerS.toFixed(0)} intents/s`)
  console.log(`RATIO watcher_vs_sequencer_intake ${(watcher / intentsPerS).toFixed(2)}`)
}
