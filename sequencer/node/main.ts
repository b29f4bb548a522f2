import { parseArgs } from 'node:util'
import { collectDefaultMetrics } from 'prom-client'
import { privateKeyToAccount } from 'viem/accounts'
import { loadKzg, MAX_BLOB_DATA_BYTES } from '../../settlement-contracts/ts/blobs.ts'
import { connect, MAX_CALLDATA_BATCH_BYTES, SettlementClient } from '../../settlement-contracts/ts/client.ts'
import { settlementAbi } from '../../settlement-contracts/ts/generated/abis.ts'
import { checkGenesisOnChain, GenesisError } from '../../settlement-contracts/ts/genesis.ts'
import { HaltCode } from '../api.ts'
import { Batcher } from '../batcher/batcher.ts'
import { HttpProver } from '../batcher/prover.ts'
import { describeNodeConfig, loadNodeConfig, type NodeConfig } from '../config/nodeConfig.ts'
import { SequencerError, SequencerErrorCode } from '../errors.ts'
import { InboxReader } from '../l1/inboxReader.ts'
import { createLogger } from '../logger.ts'
import { createPromMetrics } from '../metrics.ts'
import { SimulatedPricePublisher } from '../oracle/pricePublisher.ts'
import { Sequencer } from '../sequencer.ts'
import { serveOverIpc } from './ipcServer.ts'
import { startMetricsServer } from './metricsServer.ts'

/**
 * `node --import tsx sequencer/node/main.ts --config <file>`: runs one sequencer node until SIGTERM,
 * SIGINT or a halt. Exit codes (docs/operations.md, "Halts"): 0 clean stop, 69 L1 halt (a batch of ours
 * reverted, the prover refused ours, the contract frozen, the inbox reorged too deep), 70 engine invariant,
 * 74 log or disk failure, 78 configuration.
 */
export const ExitCode = { OK: 0, L1: 69, ENGINE_INVARIANT: 70, IO: 74, CONFIG: 78 } as const

const { values } = parseArgs({
  options: { config: { type: 'string', short: 'c' }, 'repost-reverted': { type: 'boolean' } },
  strict: true,
})
const log = createLogger(process.env.SCE_LOG_LEVEL ?? 'info')

let config: NodeConfig
try {
  config = loadNodeConfig(values.config === undefined ? {} : { file: values.config })
} catch (error) {
  log.fatal({ code: (error as SequencerError).code }, (error as Error).message)
  process.exit(ExitCode.CONFIG)
}
log.level = config.logLevel
log.info(describeNodeConfig(config), 'starting sequencer node')

const metrics = createPromMetrics()
collectDefaultMetrics({ register: metrics.registry })

let sequencer: Sequencer
try {
  sequencer = await Sequencer.open({
    config: config.engine,
    dataDir: config.dataDir,
    durability: config.durability,
    workers: config.workers,
    snapshotIntervalOps: config.snapshotIntervalOps,
    snapshotsKept: config.snapshotsKept,
    timeAdvanceIntervalMs: config.timeAdvanceIntervalMs,
    maxGroupOps: config.maxGroupOps,
    maxPendingIntents: config.maxPendingIntents,
    // Posting to L1: no batch may be larger than one proposal carries, however fast intents come.
    ...(config.rpcUrl !== null && config.operatorPrivateKey !== null
      ? { maxBatchBytes: config.batch.dataMode === 'blobs' ? MAX_BLOB_DATA_BYTES : MAX_CALLDATA_BATCH_BYTES }
      : {}),
    logger: log,
    metrics,
  })
} catch (error) {
  const code = error instanceof SequencerError ? error.code : 'START_FAILED'
  log.fatal({ code, err: error }, 'the node could not start')
  process.exit(
    code === SequencerErrorCode.CONFIG_MISMATCH
      ? ExitCode.CONFIG
      : code === SequencerErrorCode.ENGINE_INVARIANT
        ? ExitCode.ENGINE_INVARIANT
        : ExitCode.IO,
  )
}

const server =
  config.metricsPort === null ? null : await startMetricsServer(metrics.registry, config.metricsPort)

// L1: the inbox reader and the batcher run when an RPC URL and the operator key are configured.
let inboxReader: InboxReader | null = null
let batcher: Batcher | null = null
if (config.rpcUrl !== null && config.operatorPrivateKey !== null) {
  const chain = connect({
    rpcUrl: config.rpcUrl,
    account: privateKeyToAccount(config.operatorPrivateKey),
    chainId: Number(config.engine.chainId),
    pollingIntervalMs: 500,
  })
  let client: SettlementClient
  try {
    const token = await chain.readContract({
      address: config.engine.settlementAddress,
      abi: settlementAbi,
      functionName: 'TOKEN',
    })
    client = new SettlementClient(chain, { settlement: config.engine.settlementAddress, token })
    await checkGenesisOnChain(client, config.engine)
  } catch (error) {
    log.fatal(
      { err: error },
      error instanceof GenesisError
        ? `the settlement on L1 does not match this configuration: ${error.message}`
        : 'cannot read the settlement contract on L1; check rpcUrl and settlementAddress',
    )
    await sequencer.close()
    process.exit(ExitCode.CONFIG)
  }
  inboxReader = new InboxReader({
    sequencer,
    client,
    confirmations: config.l1.confirmations,
    pollIntervalMs: config.l1.pollIntervalMs,
    fromBlock: config.l1.fromBlock,
    logger: log.child({ part: 'inbox' }),
    metrics,
    onFault: (error) => sequencer.halt(HaltCode.INBOX_FAULT, error.message),
  })
  batcher = new Batcher({
    sequencer,
    client,
    prover: config.batch.proverUrl === null ? null : new HttpProver(config.batch.proverUrl),
    maxOps: config.batch.maxOps,
    intervalMs: config.batch.intervalMs,
    pollIntervalMs: Math.min(1_000, config.batch.intervalMs),
    fromBlock: config.l1.fromBlock,
    dataMode: config.batch.dataMode,
    repostReverted: config.batch.repostReverted || values['repost-reverted'] === true,
    logger: log.child({ part: 'batcher' }),
    metrics,
  })
  if (config.batch.dataMode === 'blobs') {
    // Once, now: the trusted setup takes a second or two to load, and would otherwise stall the first post.
    log.info('loading the KZG trusted setup for blob posting')
    loadKzg()
  }
  inboxReader.start()
  batcher.start()
} else {
  log.warn('no rpcUrl or operatorPrivateKey: L1 is not followed and nothing is posted (a local engine only)')
}

const publisher =
  config.devOracle === null
    ? null
    : new SimulatedPricePublisher({
        sequencer,
        config: config.engine,
        oracleKeys: config.devOracle.privateKeys,
        startPriceTicks: config.devOracle.startPriceTicks,
        seed: config.devOracle.seed,
        intervalMs: config.devOracle.intervalMs,
        logger: log.child({ part: 'devOracle' }),
      })
publisher?.start()

sequencer.onHalt((halt) => {
  void publisher?.stop()
  void inboxReader?.stop()
  void batcher?.stop()
  const code =
    halt.code === HaltCode.ENGINE_INVARIANT
      ? ExitCode.ENGINE_INVARIANT
      : halt.code === HaltCode.LOG_WRITE_FAILED
        ? ExitCode.IO
        : ExitCode.L1
  // Give the IPC channel and the logger a moment to flush the halt before exiting.
  setTimeout(() => process.exit(code), 100)
})

let stopping = false
const stop = async (signal: string): Promise<void> => {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'stopping')
  await publisher?.stop()
  await inboxReader?.stop()
  await batcher?.stop()
  await sequencer.close()
  server?.close()
  log.info('stopped')
  process.exit(ExitCode.OK)
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))

if (process.send !== undefined) {
  serveOverIpc(sequencer, process, { allowL1: process.env.SCE_DEV_INBOX === '1' })
  process.on('disconnect', () => void stop('disconnect'))
  process.send({ event: 'ready', status: await sequencer.status() })
}
log.info({ seq: (await sequencer.status()).seq }, 'sequencer node ready')
