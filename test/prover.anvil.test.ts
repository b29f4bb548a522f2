import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Attester } from '../prover-stub/attester.ts'
import { HttpAttesterClient } from '../prover-stub/attesterClient.ts'
import { ChainReplayer } from '../prover-stub/chainReplayer.ts'
import { AttestationProver, HttpProverClient } from '../prover-stub/prover.ts'
import { type ProverServer, startProverServer } from '../prover-stub/server.ts'
import { limitOrder } from '../sequencer/testing/sequencerHarness.ts'
import type { BatchHeader, ProposeBatchParameters } from '../settlement-contracts/ts/client.ts'
import { engineConfigToJson } from '../settlement-contracts/ts/genesis.ts'
import {
  DEVNET_BONDS,
  DEVNET_VKEY,
  DEVNET_WINDOWS,
  type Devnet,
  ManualBatcher,
  startDevnet,
  USDC,
} from './support/devnet.ts'

/**
 * The prover-stub against a real anvil: three attester servers and a coordinator over real HTTP on free
 * loopback ports, batches posted by the ManualBatcher. Honest batches get a 2-of-3 proof the contract
 * accepts; a lying root, a batch on a lying parent and a reverted batch are refused with the right code;
 * one attester down still proves, two down does not; the CLI runs the same roles as separate processes.
 * The steps share one chain and run in order.
 */

const ROOT = join(import.meta.dirname, '..')

let devnet: Devnet
let batcher: ManualBatcher
const replayers: ChainReplayer[] = []
const attesters: Attester[] = []
const attesterServers: ProverServer[] = []
let coordinator: ProverServer
let prover: HttpProverClient
const headers = new Map<bigint, BatchHeader>()
let honestBatch3: ProposeBatchParameters
let lyingSeal: { stateRoot: Hex; withdrawalsRoot: Hex }

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function attestOver(server: ProverServer, batchIndex: bigint) {
  return post(`${server.url}/attest`, { batchIndex: batchIndex.toString() })
}

async function proposeHonest(): Promise<BatchHeader> {
  const { proposed } = await batcher.propose()
  headers.set(proposed.header.batchIndex, proposed.header)
  return proposed.header
}

beforeAll(async () => {
  devnet = await startDevnet()
  batcher = new ManualBatcher(devnet)
  for (const key of devnet.attesterKeys) {
    const replayer = new ChainReplayer({
      client: devnet.as.bystander,
      config: devnet.config,
      fromBlock: devnet.deployment.deployBlock,
    })
    const attester = new Attester({ replayer, privateKey: key })
    replayers.push(replayer)
    attesters.push(attester)
    attesterServers.push(await startProverServer({ service: { role: 'attester', attester } }))
  }
  const aggregator = new AttestationProver({
    client: devnet.as.bystander,
    attesters: attesterServers.map((s) => new HttpAttesterClient(s.url)),
    fromBlock: devnet.deployment.deployBlock,
  })
  coordinator = await startProverServer({ service: { role: 'coordinator', prover: aggregator } })
  prover = new HttpProverClient(coordinator.url)
})

afterAll(async () => {
  await Promise.all([...attesterServers, coordinator].map((s) => s?.close()))
  await devnet?.stop()
})

describe('prover-stub on anvil', () => {
  it('proves an honest challenged batch 2-of-3; the contract accepts the proof and the bond goes to the caller', async () => {
    await devnet.as.alice.deposit(1_000n * USDC, devnet.address('alice'))
    await devnet.as.bob.deposit(1_000n * USDC, devnet.address('bob'))
    await batcher.consumeInbox()
    await batcher.price(0, 600_000)
    await batcher.price(1, 300_000)
    await batcher.user('alice', {
      type: 'placeOrder',
      order: limitOrder({ priceTicks: 600_000, sizeLots: 5 }),
    })
    await batcher.user('bob', {
      type: 'placeOrder',
      order: limitOrder({ side: 1, priceTicks: 600_000, sizeLots: 5 }),
    })
    await batcher.user('bob', { type: 'withdraw', amountQuantums: 10n * USDC })
    await proposeHonest()
    await devnet.as.carol.deposit(500n * USDC, devnet.address('carol'))
    await batcher.consumeInbox()
    await batcher.price(0, 601_000)
    await batcher.user('carol', {
      type: 'placeOrder',
      order: limitOrder({ priceTicks: 590_000, sizeLots: 2 }),
    })
    const header2 = await proposeHonest()

    await devnet.as.watcher.challenge(header2)
    const outcome = await prover.prove(2n)
    if (!outcome.ok) throw new Error(`expected a proof, got ${outcome.code}: ${outcome.detail}`)
    expect(outcome.publicValues).toBe((await devnet.as.bystander.publicValuesOf(header2)).toLowerCase())
    const attesterAddresses = attesters.map((a) => a.address)
    expect(outcome.signers).toHaveLength(2)
    for (const signer of outcome.signers ?? []) expect(attesterAddresses).toContain(signer)
    expect(BigInt(outcome.signers![0]!)).toBeLessThan(BigInt(outcome.signers![1]!))
    expect((outcome.proof.length - 2) / 2).toBe(130)

    const proposer = devnet.as.proposer
    const creditBefore = await proposer.settlement.read.creditOf([proposer.account])
    await proposer.prove(header2, outcome.proof)
    const creditAfter = await proposer.settlement.read.creditOf([proposer.account])
    expect(creditAfter - creditBefore).toBe(DEVNET_BONDS.challengerWei)

    await devnet.advance(DEVNET_WINDOWS.challengeSeconds)
    expect((await proposer.resolve(headers.get(1n)!)).outcome).toBe('finalized')
    expect((await proposer.resolve(header2)).outcome).toBe('finalized')
    expect(await proposer.settlement.read.finalizedBatchIndex()).toBe(2n)
  })

  it('answers a second request for the same batch from the cache, without replaying', async () => {
    // The coordinator stops at two signatures; the third attester may still be busy, so ask each directly.
    for (const server of attesterServers) expect((await attestOver(server, 2n)).status).toBe(200)
    for (const replayer of replayers) expect(replayer.stats.batchesReplayed).toBe(2)
    const before = replayers.map((r) => ({ ...r.stats }))
    const again = await attestOver(attesterServers[0]!, 2n)
    expect(again.status).toBe(200)
    expect(again.body.signer).toBe(attesters[0]!.address)
    expect(replayers[0]!.stats.batchesReplayed).toBe(before[0]!.batchesReplayed)
    expect(replayers[0]!.stats.cacheHits).toBe(before[0]!.cacheHits + 1)
    // Only the batch asked for keeps a snapshot (and every 16th on the way): a snapshot is the whole state.
    expect(replayers[0]!.cachedBatches().map((b) => [b.batchIndex, b.verdict, b.snapshot])).toEqual([
      [1n, 'right', false],
      [2n, 'right', true],
    ])
  })

  it('refuses a lying root: every attester says WRONG_TRANSITION with the correct roots', async () => {
    await devnet.as.dave.deposit(300n * USDC, devnet.address('dave'))
    await batcher.consumeInbox()
    await batcher.user('dave', { type: 'withdraw', amountQuantums: 7n * USDC })
    const { proposed, sealed } = await batcher.propose((honest) => {
      honestBatch3 = honest
      return { ...honest, stateRoot: keccak256(honest.stateRoot) }
    })
    headers.set(3n, proposed.header)
    lyingSeal = { stateRoot: toHex(sealed.stateRoot), withdrawalsRoot: toHex(sealed.withdrawalsRoot) }
    expect(lyingSeal.stateRoot).toBe(toHex(batcher.engine.root()))
    expect(proposed.header.stateRoot).not.toBe(lyingSeal.stateRoot)

    const replayedBefore = replayers.map((r) => r.stats.batchesReplayed)
    for (const server of attesterServers) {
      const answer = await attestOver(server, 3n)
      expect(answer.status).toBe(409)
      expect(answer.body).toMatchObject({
        code: 'WRONG_TRANSITION',
        fault: 'STATE_ROOT_MISMATCH',
        correctStateRoot: lyingSeal.stateRoot,
        correctWithdrawalsRoot: lyingSeal.withdrawalsRoot,
      })
    }
    // From the cached batch 2: only batch 3 was replayed.
    expect(replayers.map((r) => r.stats.batchesReplayed)).toEqual(replayedBefore.map((n) => n + 1))

    const refused = await post(`${coordinator.url}/prove`, { batchIndex: '3' })
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({
      code: 'WRONG_TRANSITION',
      correctStateRoot: lyingSeal.stateRoot,
      correctWithdrawalsRoot: lyingSeal.withdrawalsRoot,
    })
    const viaClient = await prover.prove(3n)
    expect(viaClient).toMatchObject({
      ok: false,
      code: 'WRONG_TRANSITION',
      correctStateRoot: lyingSeal.stateRoot,
    })
  })

  it('refuses a batch built on a lying parent with WRONG_PARENT', async () => {
    await batcher.user('alice', {
      type: 'placeOrder',
      order: limitOrder({ priceTicks: 595_000, sizeLots: 1 }),
    })
    const header4 = await proposeHonest()
    expect(header4.prevStateRoot).toBe(headers.get(3n)!.stateRoot)
    for (const server of attesterServers) {
      const answer = await attestOver(server, 4n)
      expect(answer.status).toBe(409)
      expect(answer.body.code).toBe('WRONG_PARENT')
      expect(answer.body.detail).toMatch(/batch 3/)
    }
    const refused = await post(`${coordinator.url}/prove`, { batchIndex: '4' })
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('WRONG_PARENT')
  })

  it('drops what a revert killed, and proves the honest batch proposed again in its place', async () => {
    const proposer = devnet.as.proposer
    await devnet.as.watcher.challenge(headers.get(3n)!)
    await devnet.advance(DEVNET_WINDOWS.proveSeconds)
    expect((await proposer.resolve(headers.get(3n)!)).outcome).toBe('reverted')
    expect(await proposer.settlement.read.latestBatchIndex()).toBe(2n)
    expect(replayers[0]!.cachedBatches().map((b) => [b.batchIndex, b.verdict])).toEqual([
      [1n, 'right'],
      [2n, 'right'],
      [3n, 'WRONG_TRANSITION'],
      [4n, 'WRONG_PARENT'],
    ])

    const gone = await attestOver(attesterServers[0]!, 3n)
    expect(gone.status).toBe(404)
    expect(gone.body.code).toBe('UNKNOWN_BATCH')
    expect(replayers[0]!.cachedBatches().map((b) => b.batchIndex)).toEqual([1n, 2n])
    expect((await prover.prove(4n)).ok).toBe(false)

    const again = await proposer.proposeBatch(honestBatch3)
    headers.set(3n, again.header)
    expect(again.header.epoch).toBe(1n)
    const replayedBefore = replayers.map((r) => r.stats.batchesReplayed)
    const outcome = await prover.prove(3n)
    if (!outcome.ok) throw new Error(`expected a proof, got ${outcome.code}: ${outcome.detail}`)
    // Every attester that answered started from its cached batch 2.
    const replayed = replayers.map((r, i) => r.stats.batchesReplayed - replayedBefore[i]!)
    expect(replayed.every((n) => n <= 1)).toBe(true)
    expect(replayed.filter((n) => n === 1).length).toBeGreaterThanOrEqual(2)
    await devnet.as.watcher.challenge(again.header)
    await proposer.prove(again.header, outcome.proof)
    const status = await proposer.settlement.read.challengeOf([again.batchHash])
    expect(status.status).toBe(2) // Proven
  })

  it('rejects bad requests and serves /health', async () => {
    expect((await post(`${coordinator.url}/prove`, { batchIndex: 'twelve' })).body.code).toBe('BAD_REQUEST')
    expect((await post(`${attesterServers[0]!.url}/attest`, 'not json')).status).toBe(400)
    expect((await post(`${attesterServers[0]!.url}/attest`, {})).status).toBe(400)
    const unknown = await post(`${coordinator.url}/prove`, { batchIndex: '99' })
    expect(unknown).toEqual({ status: 404, body: expect.objectContaining({ code: 'UNKNOWN_BATCH' }) })
    const health = await fetch(`${attesterServers[1]!.url}/health`)
    expect(await health.json()).toEqual({ ok: true, role: 'attester', signer: attesters[1]!.address })
    expect((await fetch(`${coordinator.url}/prove`)).status).toBe(405)
  })

  it('still proves with one attester down, and answers NOT_ENOUGH_ATTESTERS with two down', async () => {
    await attesterServers[0]!.close()
    const outcome = await prover.prove(3n)
    if (!outcome.ok) throw new Error(`expected a proof, got ${outcome.code}: ${outcome.detail}`)
    expect([...(outcome.signers ?? [])].sort()).toEqual([attesters[1]!.address, attesters[2]!.address].sort())
    await devnet.deployment.verifierContract.read.verify([DEVNET_VKEY, outcome.publicValues, outcome.proof])

    await attesterServers[1]!.close()
    const refused = await post(`${coordinator.url}/prove`, { batchIndex: '3' })
    expect(refused.status).toBe(503)
    expect(refused.body.code).toBe('NOT_ENOUGH_ATTESTERS')
    expect(refused.body.detail).toMatch(/ATTESTER_UNAVAILABLE/)
  })

  it('runs attesters and a coordinator as separate processes from the CLI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sce-prover-'))
    const children: ChildProcess[] = []
    try {
      const configFile = join(dir, 'engine.json')
      writeFileSync(configFile, JSON.stringify(engineConfigToJson(devnet.config)))
      const chain = ['--rpc', devnet.anvil.rpcUrl, '--settlement', devnet.deployment.settlement]
      const from = ['--from-block', devnet.deployment.deployBlock.toString()]
      const run = (args: string[], env: Record<string, string> = {}) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'prover-stub/main.ts', ...args], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        children.push(child)
        return child
      }
      const attesterProcesses = devnet.attesterKeys
        .slice(1)
        .map((key) =>
          run(['attester', ...chain, ...from, '--engine-config', configFile], { SCE_ATTESTER_KEY: key }),
        )
      const urls = await Promise.all(attesterProcesses.map((child) => listeningUrl(child)))
      const coordinatorProcess = run([
        'coordinator',
        ...chain,
        ...from,
        ...urls.flatMap((u) => ['--attester-url', u]),
      ])
      const outcome = await new HttpProverClient(await listeningUrl(coordinatorProcess)).prove(3n)
      if (!outcome.ok) throw new Error(`expected a proof, got ${outcome.code}: ${outcome.detail}`)
      const keys = devnet.attesterKeys.slice(1).map((k) => privateKeyToAddress(k).toLowerCase() as Address)
      expect([...(outcome.signers ?? [])].sort()).toEqual(keys.sort())

      const exits = children.map((child) => new Promise<number | null>((r) => child.once('exit', r)))
      for (const child of children) child.kill('SIGTERM')
      expect(await Promise.all(exits)).toEqual([0, 0, 0])

      // A configuration the deployment did not commit to is refused at start.
      const wrongFile = join(dir, 'wrong.json')
      writeFileSync(
        wrongFile,
        JSON.stringify({ ...engineConfigToJson(devnet.config), maxOpenOrdersPerAccount: 7 }),
      )
      const wrong = run(['attester', ...chain, '--engine-config', wrongFile], {
        SCE_ATTESTER_KEY: devnet.attesterKeys[0]!,
      })
      let logged = ''
      wrong.stdout!.on('data', (d: Buffer) => {
        logged += d.toString()
      })
      expect(await new Promise((r) => wrong.once('exit', r))).toBe(78)
      expect(logged).toMatch(/CONFIG_HASH/)
      expect(logged).not.toContain(devnet.attesterKeys[0]!.slice(2))
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The URL a prover process logs once it listens. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    let errors = ''
    child.stderr!.on('data', (d: Buffer) => {
      errors += d.toString()
    })
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      for (const line of buffered.split('\n')) {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(line)
        if (match !== null && line.includes('listening')) resolve(match[1]!)
      }
    })
    child.once('exit', (code) =>
      reject(new Error(`the prover process exited with ${code}: ${errors}${buffered}`)),
    )
  })
}
