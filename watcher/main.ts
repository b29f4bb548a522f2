import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { BaseError, HttpRequestError } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { EngineConfig } from '../engine/config.ts'
import { checkGenesisOnChain, GenesisError, parseEngineConfig } from '../settlement-contracts/ts/genesis.ts'
import { parseWatcherArgs, WATCHER_USAGE } from './cli/watcherArgs.ts'
import { findDeployBlock } from './findDeployBlock.ts'
import { type StatusServer, startStatusServer } from './statusServer.ts'
import { connectSettlement, Watcher } from './watcher.ts'
import { WatcherError, WatcherErrorCode } from './watcherError.ts'

/**
 * `npm run watcher -- --rpc <url> --settlement <address> --engine-config <file> --data-dir <dir>`:
 * follows one settlement until SIGINT or SIGTERM. Exit codes (docs/watcher.md): 0 clean stop,
 * 64 bad arguments, 66 engine configuration unreadable, 69 RPC unreachable, 70 halted,
 * 78 configuration mismatch (engine config, genesis, data directory).
 */
export const ExitCode = { OK: 0, USAGE: 64, NO_INPUT: 66, UNAVAILABLE: 69, HALTED: 70, CONFIG: 78 } as const

const parsed = parseWatcherArgs(process.argv.slice(2), process.env)
if (!parsed.ok) {
  console.error(`${parsed.problems.map((p) => `error: ${p}`).join('\n')}\n\n${WATCHER_USAGE}`)
  process.exit(ExitCode.USAGE)
}
if (parsed.help) {
  console.log(WATCHER_USAGE)
  process.exit(ExitCode.OK)
}
const args = parsed.args
const log = pino({ level: args.logLevel, base: { service: 'sce-watcher' } })

function fail(code: number, message: string, error?: unknown): never {
  log.fatal({ err: error }, message)
  log.flush()
  process.exit(code)
}

let text: string
try {
  text = readFileSync(args.engineConfig, 'utf8')
} catch (error) {
  fail(
    ExitCode.NO_INPUT,
    `cannot read the engine configuration ${args.engineConfig}: ${(error as Error).message}`,
  )
}
let config: EngineConfig
try {
  config = parseEngineConfig(JSON.parse(text))
} catch (error) {
  fail(
    ExitCode.CONFIG,
    `${args.engineConfig} is not a usable engine configuration: ${(error as Error).message}. ` +
      'Use the engine configuration JSON written at deployment (engineConfigToJson)',
  )
}

/** A failed RPC call at start: the node is down or the URL is wrong, not a configuration problem. */
function unreachable(error: unknown): boolean {
  return error instanceof BaseError && error.walk((e) => e instanceof HttpRequestError) !== null
}

let watcher: Watcher
try {
  const settlement = await connectSettlement({
    rpcUrl: args.rpc,
    settlement: args.settlement,
    chainId: config.chainId,
  })
  // Before anything else: a watcher replaying with another configuration would call every batch wrong.
  await checkGenesisOnChain(settlement, config)
  let fromBlock = args.fromBlock
  if (fromBlock === null) {
    try {
      fromBlock = await findDeployBlock(settlement.client, args.settlement)
    } catch (error) {
      log.warn(
        { err: error },
        'could not find the settlement deployment block (the node may not serve old state): scanning from block 0; pass --from-block to skip ahead',
      )
      fromBlock = 0n
    }
    if (fromBlock === null)
      fail(ExitCode.CONFIG, `no contract at ${args.settlement} on chain ${config.chainId}`)
    log.info({ fromBlock: fromBlock.toString() }, `the settlement was deployed in block ${fromBlock}`)
  }
  if (args.beacon === null && config.chainId !== 31337n && config.chainId !== 1337n) {
    log.warn(
      'no --beacon: batches posted in EIP-4844 blobs cannot be read on this chain (only anvil serves blobs ' +
        'over JSON-RPC), and each would be retried without end; give a beacon node API with --beacon',
    )
  }
  watcher = await Watcher.open({
    rpcUrl: args.rpc,
    ...(args.beacon === null ? {} : { beaconUrl: args.beacon }),
    settlement: args.settlement,
    config,
    dataDir: args.dataDir,
    ...(args.key === null ? {} : { challenger: privateKeyToAccount(args.key) }),
    ...(args.confirmations === null ? {} : { confirmations: args.confirmations }),
    ...(args.workers === null ? {} : { workers: args.workers }),
    pollIntervalMs: args.pollMs,
    fromBlock,
    logger: log,
    metrics: registry(),
  })
} catch (error) {
  if (error instanceof GenesisError) fail(ExitCode.CONFIG, `wrong engine configuration: ${error.message}`)
  if (error instanceof WatcherError && error.code === WatcherErrorCode.DATA_DIR_MISMATCH)
    fail(ExitCode.CONFIG, error.message)
  if (unreachable(error))
    fail(ExitCode.UNAVAILABLE, `cannot reach the RPC at ${args.rpc}: is the node up?`, error)
  fail(ExitCode.HALTED, `the watcher could not start: ${(error as Error).message}`, error)
}

function registry(): Registry {
  const r = new Registry()
  collectDefaultMetrics({ register: r })
  return r
}

let server: StatusServer | null = null
if (args.statusPort !== null) {
  server = await startStatusServer(watcher, watcher.metrics.registry, args.statusPort)
  log.info({ port: server.port }, `status on http://127.0.0.1:${server.port}/status and /metrics`)
}

let stopping = false
async function stop(signal: string, code: number): Promise<void> {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'stopping')
  clearInterval(haltCheck)
  await server?.close()
  await watcher.stop()
  log.flush()
  process.exit(code)
}

// A halted watcher cannot verify anything more: exit so that a supervisor (and a person) notices.
const haltCheck = setInterval(() => {
  const halted = watcher.status().halted
  if (halted !== null) {
    log.fatal({ halted }, 'halted')
    void stop('halt', ExitCode.HALTED)
  }
}, 1_000)
process.on('SIGINT', () => void stop('SIGINT', ExitCode.OK))
process.on('SIGTERM', () => void stop('SIGTERM', ExitCode.OK))
watcher.start()
