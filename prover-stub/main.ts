import { readFileSync } from 'node:fs'
import { type Logger, pino } from 'pino'
import { type Account, type Address, createPublicClient, http, zeroAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { EngineConfig } from '../engine/config.ts'
import { beaconBlobSource } from '../settlement-contracts/ts/blobSource.ts'
import { connect, SettlementClient } from '../settlement-contracts/ts/client.ts'
import { settlementAbi } from '../settlement-contracts/ts/generated/abis.ts'
import { checkGenesisOnChain, GenesisError, parseEngineConfig } from '../settlement-contracts/ts/genesis.ts'
import { Attester } from './attester.ts'
import { HttpAttesterClient } from './attesterClient.ts'
import { ChainReplayer, CheckpointError } from './chainReplayer.ts'
import { type CliCommand, CliError, parseCliArgs, USAGE } from './cliOptions.ts'
import { AttestationProver } from './prover.ts'
import { type ProverServer, startProverServer } from './server.ts'

/**
 * `npm run prover -- attester|coordinator ...`: one prover-stub process until SIGINT or SIGTERM.
 * Exit codes: 0 clean stop, 64 bad command line, 69 L1 unreachable at start, 78 configuration that
 * does not match the deployment.
 */
export const ExitCode = { OK: 0, USAGE: 64, UNAVAILABLE: 69, CONFIG: 78 } as const

let cli: CliCommand
try {
  cli = parseCliArgs(process.argv.slice(2), process.env)
} catch (error) {
  if (!(error instanceof CliError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exit(ExitCode.USAGE)
}
if (cli.command === 'help') {
  process.stdout.write(USAGE)
  process.exit(ExitCode.OK)
}

const log: Logger = pino({
  level: cli.logLevel,
  base: { service: `sce-prover-${cli.command}` },
  redact: { paths: ['privateKey', '*.privateKey', 'key'], censor: '[redacted]' },
})

function fail(code: number, error: unknown, message: string): never {
  // A GenesisError's message says it all; anything else keeps its stack for the operator.
  log.fatal(
    { err: error instanceof GenesisError ? undefined : error },
    `${message}: ${(error as Error).message}`,
  )
  process.exit(code)
}

/** A client for reads only: nothing here sends a transaction, and an attester key signs only attestations. */
async function settlementClient(
  rpcUrl: string,
  settlement: Address,
  account: Account,
  beaconUrl: string | null = null,
): Promise<SettlementClient> {
  try {
    const rpc = createPublicClient({ transport: http(rpcUrl) })
    const chainId = await rpc.getChainId()
    const token = await rpc.readContract({ address: settlement, abi: settlementAbi, functionName: 'TOKEN' })
    const client = connect({ rpcUrl, account, chainId })
    return new SettlementClient(
      client,
      { settlement, token },
      beaconUrl === null ? {} : { blobSource: beaconBlobSource(beaconUrl, client) },
    )
  } catch (error) {
    fail(ExitCode.UNAVAILABLE, error, `cannot read the settlement at ${settlement} through ${rpcUrl}`)
  }
}

function readEngineConfig(file: string): EngineConfig {
  try {
    return parseEngineConfig(JSON.parse(readFileSync(file, 'utf8')))
  } catch (error) {
    fail(ExitCode.CONFIG, error, `cannot use the engine configuration ${file}`)
  }
}

async function checkGenesis(client: SettlementClient, config: EngineConfig): Promise<void> {
  try {
    await checkGenesisOnChain(client, config)
  } catch (error) {
    fail(
      error instanceof GenesisError ? ExitCode.CONFIG : ExitCode.UNAVAILABLE,
      error,
      'genesis check failed',
    )
  }
}

async function runAttester(cli: Extract<CliCommand, { command: 'attester' }>): Promise<ProverServer> {
  const config = readEngineConfig(cli.engineConfigFile)
  const client = await settlementClient(
    cli.rpcUrl,
    cli.settlement,
    privateKeyToAccount(cli.privateKey),
    cli.beaconUrl,
  )
  await checkGenesis(client, config)
  const replayer = new ChainReplayer({
    client,
    config,
    fromBlock: cli.fromBlock,
    ...(cli.dataDir === null ? {} : { checkpointDir: cli.dataDir }),
  })
  if (cli.dataDir === null) {
    log.warn(
      'no --data-dir: the finalized state is not kept, so after a restart this attester replays from genesis, ' +
        'which needs every batch since deployment (blobs are pruned after about 18 days)',
    )
  } else {
    try {
      const loaded = await replayer.loadCheckpoint()
      log.info({ dataDir: cli.dataDir, batch: loaded?.toString() ?? null }, 'finalized checkpoint loaded')
    } catch (error) {
      if (error instanceof CheckpointError) fail(ExitCode.CONFIG, error, 'unusable --data-dir')
      fail(ExitCode.UNAVAILABLE, error, 'cannot check the finalized checkpoint on L1')
    }
    // Follows finalization, so that a challenge replays only the batches since, whatever their age.
    const keep = () =>
      replayer.keepFinalized().then(
        (batch) => {
          if (batch !== null) log.info({ batch: batch.toString() }, 'finalized state kept')
        },
        (error: unknown) =>
          log.error({ err: error }, 'keeping the finalized state failed; trying again later'),
      )
    void keep()
    setInterval(keep, cli.checkpointMinutes * 60_000).unref()
  }
  const attester = new Attester({ replayer, privateKey: cli.privateKey })
  const server = await startProverServer({
    service: { role: 'attester', attester },
    host: cli.host,
    port: cli.port,
    logger: log,
  })
  log.info({ url: server.url, signer: attester.address, settlement: cli.settlement }, 'attester listening')
  return server
}

async function runCoordinator(cli: Extract<CliCommand, { command: 'coordinator' }>): Promise<ProverServer> {
  const client = await settlementClient(cli.rpcUrl, cli.settlement, {
    address: zeroAddress,
    type: 'json-rpc',
  })
  if (cli.engineConfigFile !== null) await checkGenesis(client, readEngineConfig(cli.engineConfigFile))
  const attesters = cli.attesterUrls.map(
    (url) => new HttpAttesterClient(url, { timeoutMs: cli.attesterTimeoutMs }),
  )
  const prover = new AttestationProver({
    client,
    attesters,
    ...(cli.threshold === null ? {} : { threshold: cli.threshold }),
    fromBlock: cli.fromBlock,
    logger: log,
  })
  let threshold: number
  try {
    threshold = await prover.threshold()
  } catch (error) {
    fail(ExitCode.UNAVAILABLE, error, "cannot read the verifier's THRESHOLD")
  }
  if (threshold > attesters.length) {
    const why = `the verifier needs ${threshold} signatures and ${attesters.length} attester URLs are given`
    fail(ExitCode.CONFIG, new Error(why), 'not enough attesters')
  }
  const server = await startProverServer({
    service: { role: 'coordinator', prover, attesterCount: attesters.length, threshold },
    host: cli.host,
    port: cli.port,
    logger: log,
  })
  log.info(
    { url: server.url, attesters: cli.attesterUrls, threshold, settlement: cli.settlement },
    'coordinator listening',
  )
  return server
}

const server = cli.command === 'attester' ? await runAttester(cli) : await runCoordinator(cli)

let stopping = false
const stop = async (signal: string): Promise<void> => {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'stopping')
  await server.close()
  log.info('stopped')
  process.exit(ExitCode.OK)
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
