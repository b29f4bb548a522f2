import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Address, BaseError, bytesToHex, formatUnits, HttpRequestError } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { EngineConfig } from '../../engine/config.ts'
import { engineConfigHash } from '../../engine/state/globalsDigest.ts'
import type { SettlementClient } from '../../settlement-contracts/ts/client.ts'
import {
  checkGenesisOnChain,
  GenesisError,
  parseEngineConfig,
} from '../../settlement-contracts/ts/genesis.ts'
import { findDeployBlock } from '../findDeployBlock.ts'
import { RecoveryPool } from '../replay/recoveryPool.ts'
import { WatcherStore } from '../store/watcherStore.ts'
import { connectSettlement } from '../watcher.ts'
import { WatcherError, WatcherErrorCode } from '../watcherError.ts'
import { claimWithdrawals, ExitRefused, escapeWithEquity, exitStatus, freeze } from './exitActions.ts'
import { EXIT_USAGE, type ExitArgs, parseExitArgs } from './exitArgs.ts'
import { type FinalizedState, RebuildError, rebuildFinalizedState } from './finalizedState.ts'

/**
 * `npm run exit -- <status|withdraw|freeze|escape> --rpc <url> --settlement <address> --engine-config <file>`:
 * a user's way out from L1 alone. Results go to stdout, progress to stderr. Exit codes in EXIT_USAGE.
 */
export const ExitCode = {
  OK: 0,
  USAGE: 64,
  NO_INPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  REFUSED: 75,
  CONFIG: 78,
} as const

/** USDC quantums (10^6 = 1 USDC) as a decimal. */
const formatQuantums = (q: bigint): string => formatUnits(q, 6)

function fail(code: number, message: string): never {
  console.error(`error: ${message}`)
  process.exit(code)
}

function readConfig(file: string): EngineConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    fail(ExitCode.NO_INPUT, `cannot read the engine configuration ${file}: ${(error as Error).message}`)
  }
  try {
    return parseEngineConfig(JSON.parse(text))
  } catch (error) {
    fail(ExitCode.CONFIG, `${file} is not a usable engine configuration: ${(error as Error).message}`)
  }
}

function unreachable(error: unknown): boolean {
  return error instanceof BaseError && error.walk((e) => e instanceof HttpRequestError) !== null
}

/** The newest checkpoint of a watcher's data directory at or below the finalized batch, still live. */
async function watcherCheckpoint(dir: string, client: SettlementClient, config: EngineConfig) {
  if (!existsSync(join(dir, 'watcher.db'))) fail(ExitCode.NO_INPUT, `${dir} holds no watcher.db`)
  let store: WatcherStore
  try {
    store = WatcherStore.openReadOnly(dir, {
      chainId: config.chainId,
      settlement: client.settlementAddress.toLowerCase() as Address,
      configHash: bytesToHex(engineConfigHash(config)),
    })
  } catch (error) {
    if (error instanceof WatcherError) throw error
    fail(ExitCode.NO_INPUT, `cannot read ${join(dir, 'watcher.db')}: ${(error as Error).message}`)
  }
  try {
    const finalized = Number(await client.settlement.read.finalizedBatchIndex())
    for (const c of store.checkpoints()) {
      if (c.batchIndex > finalized) continue
      const live = (await client.settlement.read.batchHashOf([BigInt(c.batchIndex)])).toLowerCase()
      if (live !== c.batchHash.toLowerCase()) continue
      const loaded = store.loadCheckpoint(c.batchIndex, c.batchHash)
      if (loaded === undefined || loaded.snapshot === null) continue
      return { batchIndex: c.batchIndex, batchHash: c.batchHash, snapshot: loaded.snapshot }
    }
    return undefined
  } finally {
    store.close()
  }
}

async function rebuild(args: ExitArgs, client: SettlementClient, config: EngineConfig, fromBlock: bigint) {
  const from =
    args.watcherData === null ? undefined : await watcherCheckpoint(args.watcherData, client, config)
  if (args.watcherData !== null) {
    console.error(
      from === undefined
        ? `no usable checkpoint in ${args.watcherData}: replaying from genesis`
        : `starting from the watcher's checkpoint at batch ${from.batchIndex}`,
    )
  }
  const pool = await RecoveryPool.start()
  const started = performance.now()
  let last = started
  try {
    const state = await rebuildFinalizedState({
      client,
      config,
      fromBlock,
      pool,
      ...(from === undefined ? {} : { from }),
      onProgress: (i, n) => {
        const now = performance.now()
        if (now - last < 2_000 && i !== n) return
        last = now
        console.error(`replayed batch ${i} of ${n} finalized (${((now - started) / 1000).toFixed(1)} s)`)
      },
    })
    console.error(
      `finalized state rebuilt from L1: batch ${state.batchIndex}, root ${state.stateRoot} (${args.rpc})`,
    )
    return state
  } finally {
    await pool.close()
  }
}

function printStatus(s: Awaited<ReturnType<typeof exitStatus>>): void {
  console.log(`account ${s.account}`)
  console.log(
    `settlement ${s.frozen ? 'FROZEN: escape is open' : 'not frozen'}; finalized batch ${s.finalizedBatch}`,
  )
  if (s.accountId === null) console.log('no account in the finalized state')
  else {
    console.log(
      `escape equity ${formatQuantums(s.escapeEquityQuantums)} USDC (account ${s.accountId})${s.escaped ? ', escaped already' : ''}`,
    )
  }
  for (const w of s.withdrawals) {
    console.log(
      `withdrawal ${w.batchIndex}/${w.withdrawalIndex}: ${formatQuantums(w.amountQuantums)} USDC, ${w.claimed ? 'claimed' : 'unclaimed'}`,
    )
  }
  if (s.withdrawals.length === 0) console.log('no finalized withdrawals')
  if (s.withdrawalsFrom > 1) {
    console.log(`(withdrawals of batches before ${s.withdrawalsFrom} are not listed: they were not replayed)`)
  }
}

const parsed = parseExitArgs(process.argv.slice(2), process.env)
if (!parsed.ok) fail(ExitCode.USAGE, `${parsed.problems.join('\nerror: ')}\n\n${EXIT_USAGE}`)
if (parsed.help) {
  console.log(EXIT_USAGE)
  process.exit(ExitCode.OK)
}
const args = parsed.args
const config = readConfig(args.engineConfig)
const signer = args.key === null ? undefined : privateKeyToAccount(args.key)

try {
  const client = await connectSettlement({
    rpcUrl: args.rpc,
    settlement: args.settlement,
    chainId: config.chainId,
    ...(signer === undefined ? {} : { account: signer }),
    ...(args.beacon === null ? {} : { beaconUrl: args.beacon }),
  })
  await checkGenesisOnChain(client, config)
  const fromBlock = args.fromBlock ?? (await findDeployBlock(client.client, args.settlement)) ?? 0n
  const account = args.account ?? signer?.address
  let state: FinalizedState | null = null
  if (args.command !== 'freeze') state = await rebuild(args, client, config, fromBlock)
  switch (args.command) {
    case 'status':
      printStatus(await exitStatus(state!, client, account!))
      break
    case 'withdraw':
      for (const w of await claimWithdrawals(state!, client, account!)) {
        console.log(
          `claimed withdrawal ${w.batchIndex}/${w.withdrawalIndex}: ${formatQuantums(w.amountQuantums)} USDC to ${account} (tx ${w.transactionHash})`,
        )
      }
      break
    case 'freeze': {
      const frozen = await freeze(client, fromBlock)
      console.log(
        frozen.reason === 'liveness'
          ? `frozen: no batch finalized within LIVENESS_TIMEOUT (tx ${frozen.hash}); escape is open`
          : `frozen: forced withdrawal ${frozen.inboxIndex} overdue (tx ${frozen.hash}); escape is open`,
      )
      break
    }
    case 'escape': {
      const sent = await escapeWithEquity(state!, client)
      console.log(
        `escaped: ${formatQuantums(sent.escapeEquityQuantums)} USDC paid to ${client.account} (tx ${sent.hash})`,
      )
      break
    }
  }
  process.exit(ExitCode.OK)
} catch (error) {
  if (error instanceof ExitRefused) fail(ExitCode.REFUSED, error.message)
  if (error instanceof RebuildError) fail(ExitCode.SOFTWARE, error.message)
  if (error instanceof GenesisError) fail(ExitCode.CONFIG, `wrong engine configuration: ${error.message}`)
  if (error instanceof WatcherError && error.code === WatcherErrorCode.DATA_DIR_MISMATCH) {
    fail(ExitCode.CONFIG, `--watcher-data: ${error.message}`)
  }
  if (unreachable(error)) fail(ExitCode.UNAVAILABLE, `cannot reach the RPC at ${args.rpc}: is the node up?`)
  fail(ExitCode.SOFTWARE, error instanceof BaseError ? error.shortMessage : (error as Error).message)
}
