import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packBatchData } from '../engine/codec/batchEnvelope.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import type { SignedEntry, UserOp } from '../engine/ops.ts'
import { userOpDigest } from '../engine/signing/digest.ts'
import { limitOrder } from '../sequencer/testing/sequencerHarness.ts'
import { BYTES_PER_BLOB, blobDataHashOf, toBlobs } from '../settlement-contracts/ts/blobs.ts'
import type { ProposeBatchParameters } from '../settlement-contracts/ts/client.ts'
import { findDeployBlock } from '../watcher/findDeployBlock.ts'
import { VerdictFault } from '../watcher/replay/batchReplayer.ts'
import { type StatusServer, startStatusServer } from '../watcher/statusServer.ts'
import { type PollReport, Watcher, type WatcherOptions, type WatcherStatus } from '../watcher/watcher.ts'
import {
  DEVNET_BONDS,
  DEVNET_WINDOWS,
  type Devnet,
  ManualBatcher,
  Role,
  startDevnet,
  USDC,
} from './support/devnet.ts'

/**
 * The watcher against a real anvil and settlement, batches posted by a hand batcher that can lie. One
 * chain, steps in order: honest batches verify; a lying root is challenged, waited on, resolved (its
 * honest parents finalized first) and its bond claimed; a griefing challenge on an honest batch is
 * reported, and when it reverts the batch the watcher goes back to the finalized checkpoint and verifies
 * the re-proposal; undecodable data, a forged signature and a skipped deposit are each challenged with
 * their fault; a restart resumes from the checkpoint. Time moves with evm_increaseTime only.
 */

let devnet: Devnet
let b: ManualBatcher
let watcher: Watcher
let status: StatusServer
const registry = new Registry()
const dirs: string[] = []
const lines: { level: number; msg: string }[] = []
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) })

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sce-watcher-anvil-'))
  dirs.push(dir)
  return dir
}

function options(dataDir: string, extra: Partial<WatcherOptions> = {}): WatcherOptions {
  return {
    rpcUrl: devnet.anvil.rpcUrl,
    settlement: devnet.deployment.settlement,
    config: devnet.config,
    dataDir,
    challenger: devnet.anvil.accounts[Role.watcher]!,
    workers: 1,
    logger,
    metrics: registry,
    fromBlock: devnet.deployment.deployBlock,
    checkpointEveryBatches: 1,
    ...extra,
  }
}

/** Some honest activity for the open batch: fresh prices and a crossing pair of orders. */
async function trade(priceTicks = 600_000): Promise<void> {
  await b.price(1, priceTicks)
  await b.price(2, 300_000)
  await b.user('alice', { type: 'placeOrder', order: limitOrder({ priceTicks, sizeLots: 2 }) })
  await b.user('bob', { type: 'placeOrder', order: limitOrder({ side: 1, priceTicks, sizeLots: 2 }) })
}

/** Proposes the open batch with `tamper`, returning what an honest proposer would have posted. */
async function proposeWrong(
  tamper: (honest: ProposeBatchParameters, entries: SignedEntry[]) => ProposeBatchParameters,
): Promise<ProposeBatchParameters> {
  let honest: ProposeBatchParameters | undefined
  await b.propose((h, entries) => {
    honest = h
    return tamper(h, entries)
  })
  return honest!
}

/** Posts `params` again on the current chain tip (after a revert). */
async function repropose(params: ProposeBatchParameters) {
  const proposer = devnet.as.proposer
  return proposer.proposeBatch({ ...params, prevStateRoot: await proposer.settlement.read.latestStateRoot() })
}

const settlementRead = () => devnet.as.bystander.settlement.read
const reEncode = (entries: SignedEntry[]): Uint8Array => packBatchData(encodeBatch({ version: 1, entries }))
const root = (): Hex => toHex(b.engine.root())

/**
 * One full dispute: the open poll challenges the first WRONG batch, then after the windows the watcher
 * finalizes the honest parents, reverts the wrong batch and claims the bonds.
 */
async function expectChallengedAndReverted(
  fault: VerdictFault,
  detail: RegExp,
): Promise<{ found: PollReport; resolved: PollReport }> {
  const found = await watcher.pollOnce()
  const wrong = found.verdicts.find((v) => !v.ok)
  expect(wrong, JSON.stringify(found.verdicts)).toBeDefined()
  expect(wrong).toMatchObject({ fault })
  expect(wrong!.detail).toMatch(detail)
  expect(found.challenged).toEqual([wrong!.batchIndex])
  const challenge = await settlementRead().challengeOf([wrong!.batchHash])
  expect(challenge.challenger.toLowerCase()).toBe(devnet.address('watcher'))
  await devnet.advance(DEVNET_WINDOWS.challengeSeconds)
  const resolved = await watcher.pollOnce()
  expect(resolved.resolved.at(-1)).toEqual({ batchIndex: wrong!.batchIndex, outcome: 'reverted' })
  expect(await settlementRead().latestBatchIndex()).toBe(BigInt(wrong!.batchIndex - 1))
  expect(await settlementRead().finalizedBatchIndex()).toBe(BigInt(wrong!.batchIndex - 1))
  expect(await settlementRead().creditOf([devnet.address('watcher')])).toBe(0n)
  return { found, resolved }
}

beforeAll(async () => {
  devnet = await startDevnet()
  b = new ManualBatcher(devnet)
  watcher = await Watcher.open(options(tempDir()))
  status = await startStatusServer(watcher, registry, 0)
})

afterAll(async () => {
  await status?.close()
  await watcher?.stop()
  await devnet?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('watcher on anvil', () => {
  it('verifies honest batches to the batcher engine roots, one line per verdict', async () => {
    await devnet.as.alice.deposit(1_000n * USDC, devnet.address('alice'))
    await devnet.as.bob.deposit(1_000n * USDC, devnet.address('bob'))
    await b.consumeInbox()
    await trade()
    await b.user('bob', { type: 'withdraw', amountQuantums: 10n * USDC })
    const one = await b.propose()
    await trade(600_100)
    await b.propose()

    const report = await watcher.pollOnce()
    expect(report.verdicts.map((v) => [v.batchIndex, v.ok])).toEqual([
      [1, true],
      [2, true],
    ])
    expect(report.verdicts[0]!.stateRoot).toBe(one.posted.stateRoot)
    expect(watcher.replayer.stateRoot).toBe(root())
    expect(report.opsReplayed).toBe(7 + 4) // deposits, prices, orders, a withdrawal; then prices and orders
    expect(lines.map((l) => l.msg)).toContain(`batch 1 OK 7 ops root ${one.posted.stateRoot.slice(0, 10)}…`)
    // Nothing new: a second poll verifies nothing.
    expect((await watcher.pollOnce()).verdicts).toEqual([])
    // Where a watcher without --from-block starts scanning.
    expect(await findDeployBlock(devnet.as.bystander.client, devnet.deployment.settlement)).toBe(
      devnet.deployment.deployBlock,
    )
    expect(await findDeployBlock(devnet.as.bystander.client, devnet.address('alice'))).toBeNull()
  })

  it('challenges a lying root, waits for the honest parents, reverts it with the batch built on it, and claims the bonds', async () => {
    await trade(600_200)
    const honest3 = await proposeWrong((h) => ({ ...h, stateRoot: `0x${'5e'.repeat(32)}` }))
    await trade(600_300)
    const honest4 = await proposeWrong((h) => h) // honest data, but built on the lie
    const found = await watcher.pollOnce()
    expect(found.verdicts.map((v) => [v.batchIndex, v.fault])).toEqual([
      [3, VerdictFault.STATE_ROOT_MISMATCH],
      [4, VerdictFault.PARENT_WRONG],
    ])
    expect(found.verdicts[0]!.detail).toMatch(/the batch claims 0x5e5e.*replay gives 0x/)
    expect(found.challenged).toEqual([3])
    expect(
      lines.some((l) => /^batch 3 WRONG STATE_ROOT_MISMATCH: state root: the batch claims/.test(l.msg)),
    ).toBe(true)

    // The prove window passes, but batches 1 and 2 are still in their challenge window: batch 3 must wait.
    await devnet.advance(DEVNET_WINDOWS.proveSeconds)
    const waiting = await watcher.pollOnce()
    expect(waiting.resolved).toEqual([])
    expect(await settlementRead().latestBatchIndex()).toBe(4n)

    const balanceBefore = await devnet.as.watcher.client.getBalance({ address: devnet.address('watcher') })
    await devnet.advance(DEVNET_WINDOWS.challengeSeconds - DEVNET_WINDOWS.proveSeconds)
    const resolved = await watcher.pollOnce()
    expect(resolved.resolved).toEqual([
      { batchIndex: 1, outcome: 'finalized' },
      { batchIndex: 2, outcome: 'finalized' },
      { batchIndex: 3, outcome: 'reverted' },
    ])
    // The challenger's bond back, plus the proposer bonds of both reverted batches.
    const won = DEVNET_BONDS.challengerWei + 2n * DEVNET_BONDS.proposerWei
    expect(resolved.claimedWei).toBe(won)
    const balanceAfter = await devnet.as.watcher.client.getBalance({ address: devnet.address('watcher') })
    expect(balanceAfter - balanceBefore).toBeGreaterThan(won - 10n ** 16n) // gas is well under 0.01 ETH
    expect(balanceAfter - balanceBefore).toBeLessThan(won)
    expect(await settlementRead().latestBatchIndex()).toBe(2n)

    // The honest batches go up again at the same indices, in a new epoch.
    await repropose(honest3)
    await repropose(honest4)
    const again = await watcher.pollOnce()
    expect(again.verdicts.map((v) => [v.batchIndex, v.epoch, v.ok])).toEqual([
      [3, 1, true],
      [4, 1, true],
    ])
    expect(watcher.replayer.stateRoot).toBe(root())
  })

  it('reports a griefing challenge, and after it reverts an honest batch verifies the re-proposal from the finalized checkpoint', async () => {
    const four = watcher.replayer.batchHash
    const header = (
      await devnet.as.bystander.proposedBatches({ fromBlock: devnet.deployment.deployBlock })
    ).find((p) => p.batchHash === four)!.header
    await devnet.as.bystander.challenge(header)
    await watcher.pollOnce()
    const seen = (await (await fetch(`http://127.0.0.1:${status.port}/status`)).json()) as WatcherStatus
    expect(seen.openChallenges).toMatchObject([
      { batchIndex: 4, ours: false, griefing: true, challenger: devnet.address('bystander') },
    ])
    expect(lines.some((l) => /^batch 4, which this watcher verified OK, was challenged by/.test(l.msg))).toBe(
      true,
    )

    // Nobody proves it: batch 3 finalizes, then the griefer reverts batch 4.
    await devnet.advance(DEVNET_WINDOWS.challengeSeconds)
    const logs = await devnet.as.bystander.proposedBatches({ fromBlock: devnet.deployment.deployBlock })
    const three = logs.find((p) => p.header.batchIndex === 3n && p.header.epoch === 1n)!
    expect((await devnet.as.proposer.resolve(three.header)).outcome).toBe('finalized')
    expect((await devnet.as.bystander.resolve(header)).outcome).toBe('reverted')

    const rolled = await watcher.pollOnce()
    expect(rolled.rolledBackTo).toBe(3)
    expect(rolled.finalizedBatch).toBe(3)
    expect(rolled.verdicts).toEqual([])
    expect(watcher.replayer.batchIndex).toBe(3)

    const data = await devnet.as.bystander.batchData(logs.find((p) => p.batchHash === four)!)
    await repropose({
      prevStateRoot: header.prevStateRoot,
      stateRoot: header.stateRoot,
      withdrawalsRoot: header.withdrawalsRoot,
      inboxConsumed: header.inboxConsumed,
      batchData: data,
    })
    const reverified = await watcher.pollOnce()
    expect(reverified.verdicts.map((v) => [v.batchIndex, v.epoch, v.ok])).toEqual([[4, 2, true]])
    expect(reverified.opsReplayed).toBe(4) // only batch 4: batch 3 came from the checkpoint
    expect(watcher.replayer.stateRoot).toBe(root())
  })

  it('challenges undecodable data', async () => {
    await trade(600_400)
    const honest = await proposeWrong((h) => ({ ...h, batchData: new Uint8Array([0x42, 1, 2, 3]) }))
    await expectChallengedAndReverted(VerdictFault.UNDECODABLE, /BAD_MAGIC/)
    await repropose(honest)
    expect((await watcher.pollOnce()).verdicts.map((v) => v.ok)).toEqual([true])
  })

  it('challenges a forged user signature', async () => {
    await trade(600_500)
    const alice = devnet.address('alice')
    const op: UserOp = {
      type: 'placeOrder',
      account: alice,
      signer: alice,
      nonce: (await devnet.blockTimeMs()) + 77,
      order: limitOrder({ priceTicks: 590_000, sizeLots: 1 }),
    }
    const digest = userOpDigest(op, b.domain)
    await b.run(op, { signature: devnet.keys.bob.signDigest(digest) })
    let honestEntries: SignedEntry[] = []
    const honest = await proposeWrong((h, entries) => {
      honestEntries = entries.map((e) =>
        e.op === op ? { ...e, signature: devnet.keys.alice.signDigest(digest) } : e,
      )
      return h
    })
    await expectChallengedAndReverted(
      VerdictFault.STATE_ROOT_MISMATCH,
      new RegExp(
        `placeOrder for ${alice}\\) was rejected BAD_SIGNER on replay: its signature recovers to ${devnet.address('bob')}`,
      ),
    )
    await repropose({ ...honest, batchData: reEncode(honestEntries) })
    expect((await watcher.pollOnce()).verdicts.map((v) => v.ok)).toEqual([true])
    expect(watcher.replayer.stateRoot).toBe(root())
  })

  it('challenges a batch that skips an inbox deposit', async () => {
    await devnet.as.carol.deposit(500n * USDC, devnet.address('carol'))
    await devnet.as.dave.deposit(500n * USDC, devnet.address('dave'))
    await b.consumeInbox()
    await trade(600_600)
    const honest = await proposeWrong((h, entries) => {
      const carol = devnet.address('carol')
      const kept = entries.filter((e) => !(e.op.type === 'deposit' && e.op.account === carol))
      return { ...h, batchData: reEncode(kept.map((e, i) => ({ ...e, seq: entries[0]!.seq + i }))) }
    })
    await expectChallengedAndReverted(VerdictFault.INBOX_MISMATCH, /as inbox item 3, but item 2 is next/)
    await repropose(honest)
    expect((await watcher.pollOnce()).verdicts.map((v) => v.ok)).toEqual([true])

    const metrics = await (await fetch(`http://127.0.0.1:${status.port}/metrics`)).text()
    expect(metrics).toMatch(/sce_watcher_challenges_opened_total 4/)
    expect(metrics).toMatch(/sce_watcher_challenges_won_total 4/)
    expect(metrics).toMatch(/sce_watcher_batches_verified_total\{verdict="ok"\} \d+/)
    // Small batches: too few signatures per batch for a batch check, so they were recovered.
    expect(metrics).toMatch(/sce_watcher_signatures_checked_total\{how="recovery"\} [1-9]\d*/)
    expect(metrics).toMatch(/sce_watcher_signatures_checked_total\{how="batch"\} \d+/)
  })

  it('challenges blobs that are not a canonical payload, and verifies the batch re-posted in blobs', async () => {
    await trade(600_650)
    const honest = await proposeWrong((h) => {
      const blobs = toBlobs(h.batchData as Uint8Array)
      blobs[0]![BYTES_PER_BLOB - 1] = 1 // padding after the payload: committed on chain, decodes to nothing
      return { ...h, rawBlobs: blobs }
    })
    await expectChallengedAndReverted(VerdictFault.DATA_UNAVAILABLE, /BLOB_MALFORMED: .*non-zero padding/)
    const again = await repropose({ ...honest, dataMode: 'blobs' })
    expect((await devnet.as.bystander.client.getTransaction({ hash: again.hash })).type).toBe('eip4844')
    expect(again.header.dataHash).toBe(await blobDataHashOf(honest.batchData as Uint8Array))
    expect((await watcher.pollOnce()).verdicts.map((v) => v.ok)).toEqual([true])
    expect(watcher.replayer.stateRoot).toBe(root())
  })

  it('resumes from its checkpoint after a restart, and a fresh watcher replays from genesis to the same root', async () => {
    const dataDir = watcher.store.path.replace(/\/watcher\.db$/, '')
    const verified = watcher.replayer.batchIndex
    await status.close()
    await watcher.stop()
    watcher = await Watcher.open(options(dataDir))
    status = await startStatusServer(watcher, registry, 0)
    expect(watcher.replayer.batchIndex).toBe(verified)
    expect(
      lines.some((l) => l.msg === `watcher ready: resuming from the checkpoint at batch ${verified}`),
    ).toBe(true)

    await trade(600_700)
    await b.propose()
    const resumed = await watcher.pollOnce()
    expect(resumed.verdicts.map((v) => [v.batchIndex, v.ok])).toEqual([[verified + 1, true]])
    expect(watcher.replayer.stateRoot).toBe(root())

    // Reports only (no key), one thread, its own metrics, default checkpoint spacing.
    const freshDir = tempDir()
    const { challenger: _, ...readOnly } = options(freshDir, {
      workers: 0,
      metrics: new Registry(),
      checkpointEveryBatches: 100,
    })
    const fresh = await Watcher.open(readOnly)
    let stopped = false
    try {
      const fromGenesis = await fresh.pollOnce()
      expect(fromGenesis.verdicts.every((v) => v.ok)).toBe(true)
      expect(fromGenesis.verdicts.map((v) => v.batchIndex)).toEqual(
        Array.from({ length: verified + 1 }, (_, i) => i + 1),
      )
      expect(fromGenesis.opsReplayed).toBeGreaterThan(resumed.opsReplayed * 3)
      expect(fresh.replayer.stateRoot).toBe(watcher.replayer.stateRoot)
      expect(fresh.store.checkpoints().map((c) => c.batchIndex)).toEqual([verified + 1]) // the first head

      // The next batch verifies, but a whole snapshot of the head is kept at most once a minute...
      await trade(600_800)
      await b.propose()
      expect((await watcher.pollOnce()).verdicts.map((v) => v.ok)).toEqual([true])
      expect((await fresh.pollOnce()).verdicts.map((v) => v.batchIndex)).toEqual([verified + 2])
      expect(fresh.store.checkpoints().map((c) => c.batchIndex)).toEqual([verified + 1])
      // ...and always when the watcher stops.
      await fresh.stop()
      stopped = true
      const reopened = await Watcher.open({ ...readOnly, metrics: new Registry() })
      expect(reopened.replayer.batchIndex).toBe(verified + 2)
      await reopened.stop()
    } finally {
      if (!stopped) await fresh.stop()
    }
  })
})
