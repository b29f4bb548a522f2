/**
 * `npm start`: the whole system on one machine. anvil (from npm), the contracts compiled with npm solc and
 * deployed, the sequencer node (with its inbox reader, batcher and simulated oracle), three prover-stub
 * attesters and their coordinator, a watcher, and a few simulated traders. Every part is a real process,
 * started the way an operator would start it; this script only wires them and prints one status line.
 *
 * L1 time is fast-forwarded past each challenge window (evm_increaseTime), so batches finalize within
 * seconds instead of an hour; say `--real-time` to leave the clock alone.
 *
 * Usage: npm start [-- --dir .devnet --seed 1 --exit-after-finalized N --real-time]
 */
import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createTestClient, type Hex, hexToBytes, http, keccak256, parseEther, stringToHex } from 'viem'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../engine/ops.ts'
import { domainSeparator } from '../engine/signing/digest.ts'
import { IpcSequencerClient } from '../sequencer/node/ipcClient.ts'
import { sequencerTestConfig, TEST_ORACLE_KEYS, TestKey } from '../sequencer/testing/testKeys.ts'
import { startAnvil } from '../settlement-contracts/ts/anvil.ts'
import { connect } from '../settlement-contracts/ts/client.ts'
import { deploySettlement } from '../settlement-contracts/ts/deploy.ts'
import { engineConfigToJson, genesisOf } from '../settlement-contracts/ts/genesis.ts'

const ROOT = resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.devnet' },
    seed: { type: 'string', default: '1' },
    'exit-after-finalized': { type: 'string' },
    'real-time': { type: 'boolean', default: false },
  },
})
const seed = Number(values.seed)
const exitAfter = values['exit-after-finalized'] === undefined ? null : Number(values['exit-after-finalized'])
if (
  !Number.isSafeInteger(seed) ||
  (exitAfter !== null && !(Number.isSafeInteger(exitAfter) && exitAfter > 0))
) {
  console.error(
    '--seed and --exit-after-finalized take positive whole numbers, e.g. npm start -- --exit-after-finalized 2',
  )
  process.exit(64)
}
const dir = resolve(values.dir)
// The devnet starts from scratch each time, but it only ever deletes a directory it made itself.
const MARKER = '.sce-devnet'
if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) {
  console.error(
    `${dir} exists and was not made by the devnet; choose another --dir (it is emptied on every start)`,
  )
  process.exit(64)
}
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, MARKER), 'made by npm start (demo/devnet.ts); emptied on every start\n')

const USDC = 1_000_000n
const WINDOWS = {
  challengeSeconds: 120,
  proveSeconds: 60,
  forcedInclusionSeconds: 900,
  livenessSeconds: 3_600,
  depositReclaimSeconds: 900,
}
const children: ChildProcess[] = []
let stopping = false

function log(line: string): void {
  console.log(`[devnet] ${line}`)
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** A part of the system in its own process; its output goes to `<dir>/<name>.log`-style prefixes on ours. */
function start(
  name: string,
  script: string,
  args: string[],
  options: { ipc?: boolean; env?: Record<string, string> } = {},
) {
  const child = fork(join(ROOT, script), args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...options.env },
  })
  const out = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') writeLine(name, line)
  }
  child.stdout?.on('data', out)
  child.stderr?.on('data', out)
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping the devnet`)
      void stop(1)
    }
  })
  children.push(child)
  return child
}

/** Part logs are pino JSON: keep the level-30+ messages short, on one line each. */
function writeLine(name: string, line: string): void {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; batchIndex?: number; code?: string }
    if ((entry.level ?? 30) < 30) return
    const extra = entry.batchIndex === undefined ? '' : ` (batch ${entry.batchIndex})`
    console.log(`[${name}] ${entry.msg ?? line}${extra}`)
  } catch {
    console.log(`[${name}] ${line}`)
  }
}

async function stop(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  await Promise.all(
    children.map((c) =>
      c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)),
    ),
  )
  await anvil.stop()
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

// ------------------------------------------------------------------------------------------------ L1

const anvil = await startAnvil({ accountCount: 10 })
log(`anvil at ${anvil.rpcUrl} (chain ${anvil.chainId})`)
const clients = anvil.accounts.map((account) =>
  connect({ rpcUrl: anvil.rpcUrl, account, chainId: anvil.chainId }),
)
const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
const chainId = BigInt(anvil.chainId)
let config = sequencerTestConfig({ chainId })
const deployment = await deploySettlement(clients[0]!, {
  vkey: keccak256(stringToHex('sce-engine-v1')),
  attesters: [5, 6, 7].map((i) => anvil.accounts[i]!.address),
  threshold: 2,
  accountTreeDepth: config.accountTreeDepth,
  windows: WINDOWS,
  bonds: { proposerWei: parseEther('0.1'), challengerWei: parseEther('0.05'), forcedWithdrawalFeeWei: 0n },
  genesis: (settlement) => {
    config = sequencerTestConfig({ chainId, settlementAddress: settlement.toLowerCase() as Hex })
    return genesisOf(config)
  },
})
log(
  `Settlement ${deployment.settlement}, MockUSDC ${deployment.token}, verifier ${deployment.verifier} (2 of 3)`,
)

const engineConfigFile = join(dir, 'engine-config.json')
writeFileSync(engineConfigFile, `${JSON.stringify(engineConfigToJson(config), null, 2)}\n`)
const common = [
  '--rpc',
  anvil.rpcUrl,
  '--settlement',
  deployment.settlement,
  '--from-block',
  `${deployment.deployBlock}`,
]

// ------------------------------------------------------------------------------------------------ prover

const attesterPorts = await Promise.all([0, 1, 2].map(() => freePort()))
attesterPorts.forEach((port, i) => {
  start(
    `attester${i + 1}`,
    'prover-stub/main.ts',
    [
      'attester',
      ...common,
      '--engine-config',
      engineConfigFile,
      '--port',
      `${port}`,
      '--data-dir',
      join(dir, `attester${i + 1}`),
      '--checkpoint-minutes',
      '1',
    ],
    {
      env: { SCE_ATTESTER_KEY: anvil.privateKeys[5 + i]! },
    },
  )
})
const coordinatorPort = await freePort()
start('coordinator', 'prover-stub/main.ts', [
  'coordinator',
  ...common,
  ...attesterPorts.flatMap((p) => ['--attester-url', `http://127.0.0.1:${p}`]),
  '--port',
  `${coordinatorPort}`,
])

// ------------------------------------------------------------------------------------------------ sequencer

const nodeConfigFile = join(dir, 'node.json')
writeFileSync(
  nodeConfigFile,
  `${JSON.stringify(
    {
      ...engineConfigToJson(config),
      dataDir: 'sequencer',
      rpcUrl: anvil.rpcUrl,
      operatorPrivateKey: anvil.privateKeys[0],
      batch: { maxOps: 1_000, intervalMs: 3_000, proverUrl: `http://127.0.0.1:${coordinatorPort}` },
      l1: { confirmations: 0, pollIntervalMs: 500, fromBlock: `${deployment.deployBlock}` },
      devOracle: {
        privateKeys: TEST_ORACLE_KEYS.map((k) => k.privateKeyHex),
        seed,
        intervalMs: 1_000,
        startPriceTicks: [600_000, 300_000],
      },
      logLevel: 'info',
    },
    null,
    2,
  )}\n`,
)
const node = start('sequencer', 'sequencer/node/main.ts', ['--config', nodeConfigFile], { ipc: true })
const sequencer = new IpcSequencerClient(node)
await sequencer.ready
log(`sequencer node ready; config in ${nodeConfigFile}`)

// ------------------------------------------------------------------------------------------------ watcher

const statusPort = await freePort()
start('watcher', 'watcher/main.ts', [
  ...common,
  '--engine-config',
  engineConfigFile,
  '--data-dir',
  join(dir, 'watcher'),
  '--status-port',
  `${statusPort}`,
  '--poll-ms',
  '1000',
  '--workers',
  '1',
  '--key',
  anvil.privateKeys[8]!,
])
log(`watcher status at http://127.0.0.1:${statusPort}/status`)

// ------------------------------------------------------------------------------------------------ traders

/** xorshift32, seeded: the traders' only randomness. */
let rng = seed >>> 0 || 1
const random = (): number => {
  rng ^= rng << 13
  rng ^= rng >>> 17
  rng ^= rng << 5
  return (rng >>> 0) / 2 ** 32
}
const traders = [1, 2, 3, 4].map((i) => ({
  key: new TestKey(hexToBytes(anvil.privateKeys[i]!)),
  l1: deployment.client.as(clients[i]!),
}))
for (const t of traders) {
  await clients[0]!.waitForTransactionReceipt({
    hash: await t.l1.token.write.mint([t.l1.account, 100_000n * USDC]),
  })
  await t.l1.deposit(20_000n * USDC, t.key.address)
}
log(`4 traders deposited 20,000 USDC each on L1`)
const domain = domainSeparator(config.chainId, config.settlementAddress)
let nonce = Date.now()
async function trade(): Promise<void> {
  const t = traders[Math.floor(random() * traders.length)]!
  const marketId = Math.floor(random() * 2)
  const book = await sequencer.orderBook(marketId, 1)
  if (book === null || book.markPriceTicks === 0) return
  const side = random() < 0.5 ? Side.Buy : Side.Sell
  const offset = Math.floor(random() * 200) - 100
  const crossing = random() < 0.3
  const priceTicks = crossing
    ? side === Side.Buy
      ? book.markPriceTicks + 500
      : book.markPriceTicks - 500
    : book.markPriceTicks + (side === Side.Buy ? -Math.abs(offset) - 10 : Math.abs(offset) + 10)
  nonce = Math.max(nonce + 1, Date.now())
  const intent = t.key.signIntent(
    {
      type: 'placeOrder',
      account: t.key.address,
      signer: t.key.address,
      nonce,
      order: {
        marketId,
        side,
        kind: OrderKind.Limit,
        tif: crossing ? TimeInForce.IOC : TimeInForce.GTC,
        priceTicks,
        sizeLots: 1 + Math.floor(random() * 50),
        triggerPriceTicks: 0,
        reduceOnly: false,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: 0n,
        expiresAtMs: 0,
      },
    },
    domain,
  )
  await sequencer.submit(intent)
}

// ------------------------------------------------------------------------------------------------ loop

let lastFinalized = 0n
const settlement = deployment.client.settlement
for (let tick = 0; !stopping; tick++) {
  for (let i = 0; i < 20; i++) await trade().catch(() => {})
  await new Promise((r) => setTimeout(r, 250))
  if (tick % 8 !== 7) continue
  const [status, latest, finalized] = await Promise.all([
    sequencer.status(),
    settlement.read.latestBatchIndex(),
    settlement.read.finalizedBatchIndex(),
  ])
  let verdicts = '?'
  try {
    const w = (await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as {
      verdicts: { ok: number; wrong: number }
    }
    verdicts = `${w.verdicts.ok} OK, ${w.verdicts.wrong} WRONG`
  } catch {}
  log(
    `seq ${status.seq}, inbox ${status.inboxConsumed}, batches posted ${latest} finalized ${finalized}; watcher ${verdicts}`,
  )
  if (status.halted !== null) {
    log(`the sequencer halted: ${status.halted.code}: ${status.halted.message}`)
    await stop(1)
  }
  if (!values['real-time'] && latest > finalized) {
    // Fast-forward L1 past the oldest pending batch's challenge window, so the batcher can finalize it.
    await testClient.increaseTime({ seconds: WINDOWS.challengeSeconds })
    await testClient.mine({ blocks: 1 })
  }
  if (finalized > lastFinalized) lastFinalized = finalized
  if (exitAfter !== null && finalized >= BigInt(exitAfter)) {
    log(`${finalized} batches finalized and verified; stopping (--exit-after-finalized)`)
    await stop(0)
  }
}
