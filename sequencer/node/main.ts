import { parseArgs } from 'node:util'
import { collectDefaultMetrics } from 'prom-client'
import { HaltCode } from '../api.ts'
import { describeNodeConfig, loadNodeConfig, type NodeConfig } from '../config/nodeConfig.ts'
import { SequencerError, SequencerErrorCode } from '../errors.ts'
import { createLogger } from '../logger.ts'
import { createPromMetrics } from '../metrics.ts'
import { Sequencer } from '../sequencer.ts'
import { serveOverIpc } from './ipcServer.ts'
import { startMetricsServer } from './metricsServer.ts'

/**
 * `node --import tsx sequencer/node/main.ts --config <file>`: runs one sequencer node until SIGTERM,
 * SIGINT or a halt. Exit codes (docs/operations.md, "Halts"): 0 clean stop, 70 engine invariant,
 * 74 log or disk failure, 78 configuration.
 */
export const ExitCode = { OK: 0, ENGINE_INVARIANT: 70, IO: 74, CONFIG: 78 } as const

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, strict: true })
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

sequencer.onHalt((halt) => {
  // Give the IPC channel and the logger a moment to flush the halt before exiting.
  setTimeout(
    () => process.exit(halt.code === HaltCode.ENGINE_INVARIANT ? ExitCode.ENGINE_INVARIANT : ExitCode.IO),
    100,
  )
})

let stopping = false
const stop = async (signal: string): Promise<void> => {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'stopping')
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
