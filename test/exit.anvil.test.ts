import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { formatUnits } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineConfigToJson } from '../settlement-contracts/ts/genesis.ts'
import { exitStatus } from '../watcher/exit/exitActions.ts'
import { rebuildFinalizedState } from '../watcher/exit/finalizedState.ts'
import { Watcher } from '../watcher/watcher.ts'
import { type Devnet, startDevnet, USDC } from './support/devnet.ts'
import { finalizeFirstBatch, type Stack, startStack } from './support/stack.ts'

/**
 * `npm run exit`, run as a user would run it, as a separate process against a real anvil: the operator
 * finalizes one batch (a trade, a withdrawal) and vanishes. Without it, a user sees what the finalized
 * state owes them, claims the finalized withdrawal, is told escape is closed until a freeze, freezes the
 * contract once a forced withdrawal is overdue, and escapes with exactly their escape equity, once.
 */

let devnet: Devnet
let stack: Stack | undefined
let dir: string
let configFile: string

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function exitTool(command: string, extra: string[], env: Record<string, string> = {}): Promise<Run> {
  const args = [
    '--import',
    'tsx',
    'watcher/exit/exitMain.ts',
    command,
    '--rpc',
    devnet.anvil.rpcUrl,
    '--settlement',
    devnet.deployment.settlement,
    '--engine-config',
    configFile,
    '--from-block',
    `${devnet.deployment.deployBlock}`,
    ...extra,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const usdc = (q: bigint) => formatUnits(q, 6)

beforeAll(async () => {
  devnet = await startDevnet()
  dir = mkdtempSync(join(tmpdir(), 'sce-exit-'))
  configFile = join(dir, 'engine.json')
  writeFileSync(configFile, JSON.stringify(engineConfigToJson(devnet.config)))
  stack = await startStack(devnet)
  const s = stack
  await finalizeFirstBatch(devnet, s, { carolQuantums: 1_000n * USDC, tradeLots: 50 })
  // The operator vanishes.
  await s.dispose()
  stack = undefined
}, 120_000)

afterAll(async () => {
  await stack?.dispose()
  await devnet?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe('npm run exit', () => {
  it('shows what the finalized state owes an account', async () => {
    const state = await rebuildFinalizedState({
      client: devnet.as.bystander,
      config: devnet.config,
      fromBlock: devnet.deployment.deployBlock,
    })
    const owed = await exitStatus(state, devnet.as.bystander, devnet.address('alice'))
    expect(owed.withdrawals).toEqual([
      { batchIndex: 1, withdrawalIndex: 0, amountQuantums: 400n * USDC, claimed: false },
    ])
    expect(owed.escapeEquityQuantums).toBeGreaterThan(4_000n * USDC)

    const run = await exitTool('status', ['--account', devnet.address('alice')])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/finalized state rebuilt from L1: batch 1, root 0x[0-9a-f]{64}/)
    expect(run.stdout).toContain('settlement not frozen; finalized batch 1')
    expect(run.stdout).toContain(`escape equity ${usdc(owed.escapeEquityQuantums)} USDC`)
    expect(run.stdout).toContain('withdrawal 1/0: 400 USDC, unclaimed')
  })

  it("starts from a watcher's checkpoint instead of genesis when given its data directory", async () => {
    const watcherDir = join(dir, 'watcher')
    const watcher = await Watcher.open({
      rpcUrl: devnet.anvil.rpcUrl,
      settlement: devnet.deployment.settlement,
      config: devnet.config,
      dataDir: watcherDir,
      fromBlock: devnet.deployment.deployBlock,
      workers: 0,
      logger: pino({ level: 'silent' }),
    })
    expect((await watcher.pollOnce()).verdicts.map((v) => [v.batchIndex, v.ok])).toEqual([[1, true]])
    await watcher.stop()
    const run = await exitTool('status', ['--account', devnet.address('alice'), '--watcher-data', watcherDir])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain("starting from the watcher's checkpoint at batch 1")
    expect(run.stderr).toMatch(/finalized state rebuilt from L1: batch 1/)
    expect(run.stdout).toMatch(/escape equity [\d.]+ USDC/)
    // Batches up to the checkpoint are not replayed, so their withdrawals are not listed.
    expect(run.stdout).toContain('no finalized withdrawals')
    expect(run.stdout).toContain('(withdrawals of batches before 2 are not listed: they were not replayed)')
    const missing = await exitTool('status', [
      '--account',
      devnet.address('alice'),
      '--watcher-data',
      join(dir, 'nope'),
    ])
    expect(missing.code).toBe(66)
    expect(missing.stderr).toMatch(/holds no watcher.db/)
  })

  it('claims the finalized withdrawal, paid by any key, once', async () => {
    const alice = devnet.address('alice')
    const before = await devnet.as.alice.token.read.balanceOf([devnet.as.alice.account])
    const key = { SCE_EXIT_KEY: devnet.anvil.privateKeys[9]! } // the bystander pays the gas
    const run = await exitTool('withdraw', ['--account', alice], key)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^claimed withdrawal 1\/0: 400 USDC to 0x[0-9a-f]{40} \(tx 0x[0-9a-f]{64}\)/)
    expect(await devnet.as.alice.token.read.balanceOf([devnet.as.alice.account])).toBe(before + 400n * USDC)
    const again = await exitTool('withdraw', ['--account', alice], key)
    expect(again.code).toBe(75)
    expect(again.stderr).toMatch(/NOTHING_TO_CLAIM/)
  })

  it('refuses to escape before a freeze, and to freeze before anything is overdue', async () => {
    const alice = { SCE_EXIT_KEY: devnet.anvil.privateKeys[1]! }
    const early = await exitTool('escape', [], alice)
    expect(early.code).toBe(75)
    expect(early.stderr).toMatch(/NOT_FROZEN: the settlement is not frozen/)
    const freeze = await exitTool('freeze', [], alice)
    expect(freeze.code).toBe(75)
    expect(freeze.stderr).toMatch(
      /FREEZE_NOT_DUE: nothing allows a freeze yet: the earliest is at L1 time \d+/,
    )
  })

  it('freezes once a forced withdrawal is overdue, then escapes with the escape equity, once', async () => {
    const forced = await devnet.as.carol.requestForcedWithdrawal(100n * USDC)
    await devnet.advance(Number(await devnet.as.bystander.settlement.read.FORCED_INCLUSION_DEADLINE()))
    const freeze = await exitTool('freeze', [], { SCE_EXIT_KEY: devnet.anvil.privateKeys[9]! })
    expect(freeze.code, freeze.stderr).toBe(0)
    expect(freeze.stdout).toContain(`frozen: forced withdrawal ${forced.item.index} overdue`)
    expect(await devnet.as.bystander.settlement.read.isFrozen()).toBe(true)

    const state = await rebuildFinalizedState({
      client: devnet.as.bystander,
      config: devnet.config,
      fromBlock: devnet.deployment.deployBlock,
    })
    for (const role of ['alice', 'carol'] as const) {
      const owed = await exitStatus(state, devnet.as.bystander, devnet.address(role))
      const key = { SCE_EXIT_KEY: devnet.anvil.privateKeys[role === 'alice' ? 1 : 3]! }
      const before = await devnet.as[role].token.read.balanceOf([devnet.as[role].account])
      const run = await exitTool('escape', [], key)
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toContain(`escaped: ${usdc(owed.escapeEquityQuantums)} USDC paid to`)
      expect(await devnet.as[role].token.read.balanceOf([devnet.as[role].account])).toBe(
        before + owed.escapeEquityQuantums,
      )
      const again = await exitTool('escape', [], key)
      expect(again.code).toBe(75)
      expect(again.stderr).toMatch(/ALREADY_ESCAPED/)
    }
    // Carol's forced request was never honoured; her deposit comes back whole through escape.
    expect((await exitStatus(state, devnet.as.bystander, devnet.address('carol'))).escapeEquityQuantums).toBe(
      1_000n * USDC,
    )
  })

  it('lists every problem with the command line at once', async () => {
    const run = await exitTool('leave', ['--account', 'nope'])
    expect(run.code).toBe(64)
    expect(run.stderr).toMatch(/unknown command "leave"/)
    expect(run.stderr).toMatch(/--account: must be 0x followed by 40 hex digits/)
  })
})
