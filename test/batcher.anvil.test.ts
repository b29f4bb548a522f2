import { type Address, bytesToHex, createTestClient, http, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withdrawalLeafHash, withdrawalProof } from '../engine/commitment/withdrawalsTree.ts'
import { HaltCode } from '../sequencer/api.ts'
import { Batcher } from '../sequencer/batcher/batcher.ts'
import { HttpProver, type Prover } from '../sequencer/batcher/prover.ts'
import { MARK_TICKS, startTestNode, type TestNode } from '../sequencer/testing/sequencerHarness.ts'
import { signAttestation } from '../settlement-contracts/ts/attestation.ts'
import { type DataMode, InboxKind, MAX_CALLDATA_BATCH_BYTES } from '../settlement-contracts/ts/client.ts'
import { DEVNET_VKEY, type Devnet, startDevnet, USDC } from './support/devnet.ts'

/**
 * The batch lifecycle on a real anvil with a real sequencer: intents → sealed batches → proposeBatch →
 * finalized → withdrawal claimed on L1. Also: a restart between seal and post posts exactly once, a post
 * whose receipt was lost is found on L1 and not sent again, a challenge is answered through the Prover,
 * and a batch of ours that L1 reverts halts the node until the operator re-posts it.
 */

let devnet: Devnet
let node: TestNode

/** Mirrors the L1 inbox into the sequencer, in order (the inbox reader's job, done by hand here). */
async function mirrorInbox(): Promise<void> {
  const consumed = (await node.sequencer.status()).inboxConsumed
  for (const { item } of await devnet.as.proposer.inboxItems({ fromBlock: devnet.deployment.deployBlock })) {
    if (Number(item.index) < consumed) continue
    const ack = await node.sequencer.submitL1({
      type: item.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
      account: item.account.toLowerCase() as Address,
      amountQuantums: item.amountQuantums,
      inboxIndex: Number(item.index),
    })
    expect(ack.ok).toBe(true)
  }
}

/** Signs the contract's public values with 2 of the 3 attester keys; it does not replay (the prover-stub test does). */
const attestingProver: Prover = {
  async prove(header) {
    const publicValues = await devnet.as.proposer.publicValuesOf(header)
    return {
      ok: true,
      proof: await signAttestation(devnet.attesterKeys.slice(0, 2), DEVNET_VKEY, publicValues),
    }
  },
}

function batcher(options: { prover?: Prover | null; repostReverted?: boolean } = {}): Batcher {
  return new Batcher({
    sequencer: node.sequencer,
    client: devnet.as.proposer,
    prover: options.prover ?? null,
    maxOps: 1_000,
    intervalMs: 60_000,
    fromBlock: devnet.deployment.deployBlock,
    ...(options.repostReverted === undefined ? {} : { repostReverted: options.repostReverted }),
  })
}

async function submitOk(result: ReturnType<TestNode['sequencer']['submit']>): Promise<void> {
  const ack = await result
  expect(
    ack.ok && ack.outcome.ok,
    JSON.stringify(ack, (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
  ).toBe(true)
}

beforeAll(async () => {
  devnet = await startDevnet()
  node = await startTestNode({ config: devnet.config })
}, 60_000)

afterAll(async () => {
  await node?.dispose()
  await devnet?.stop()
})

describe('batcher on anvil', () => {
  it('posts sealed batches of real intents, and they finalize', async () => {
    await devnet.as.alice.deposit(10_000n * USDC, devnet.address('alice'))
    await devnet.as.bob.deposit(10_000n * USDC, devnet.address('bob'))
    await mirrorInbox()
    for (const u of node.signer.prices(node.config, node.clock.nowMs())) {
      expect((await node.sequencer.submitOracleUpdate(u)).ok).toBe(true)
    }
    const { alice, bob } = devnet.keys
    await submitOk(
      node.sequencer.submit(node.signer.place(alice, { priceTicks: MARK_TICKS[0], sizeLots: 3 })),
    )
    await submitOk(
      node.sequencer.submit(node.signer.place(bob, { side: 1, priceTicks: MARK_TICKS[0], sizeLots: 3 })),
    )
    const first = await batcher().tick()
    expect(first.sealed).toBeNull() // neither maxOps nor the interval is reached
    const b = batcher()
    const report = await b.tick({ forceSeal: true })
    expect(report).toMatchObject({ sealed: 1, posted: [1] })
    expect(await devnet.as.proposer.settlement.read.latestStateRoot()).toBe(
      bytesToHex(node.sequencer.batches(1)[0]!.stateRoot),
    )

    await submitOk(
      node.sequencer.submit(node.signer.sign(bob, { type: 'withdraw', amountQuantums: 250n * USDC })),
    )
    expect(await b.tick({ forceSeal: true })).toMatchObject({ sealed: 2, posted: [2] })
    expect(await b.tick()).toMatchObject({ sealed: null, posted: [], resolved: [] })

    await devnet.advance(Number(await devnet.as.proposer.settlement.read.CHALLENGE_WINDOW()))
    const resolved = await b.tick()
    expect(resolved.finalized).toEqual([1, 2])
    expect(await devnet.as.proposer.settlement.read.finalizedBatchIndex()).toBe(2n)
    expect(resolved.creditClaimedWei).toBe(
      2n * (await devnet.as.proposer.settlement.read.PROPOSER_BOND_WEI()),
    )
    expect(node.sequencer.batches(1).map((x) => x.status)).toEqual(['finalized', 'finalized'])
  }, 60_000)

  it('pays the withdrawal of a finalized batch on L1, to the quantum', async () => {
    const batch = node.sequencer.batches(2)[0]!
    const withdrawals = JSON.parse(batch.withdrawals) as { account: Address; amountQuantums: string }[]
    expect(withdrawals).toEqual([
      { account: devnet.address('bob'), amountQuantums: (250n * USDC).toString() },
    ])
    const leaves = withdrawals.map((w, withdrawalIndex) =>
      withdrawalLeafHash({
        chainId: devnet.chainId,
        settlement: devnet.config.settlementAddress,
        batchIndex: 2n,
        withdrawalIndex,
        account: w.account,
        amountQuantums: BigInt(w.amountQuantums),
      }),
    )
    const before = await devnet.as.bob.token.read.balanceOf([devnet.as.bob.account])
    await devnet.as.bob.claimWithdrawal({
      batchIndex: 2n,
      withdrawalIndex: 0n,
      account: devnet.address('bob'),
      amountQuantums: 250n * USDC,
      proof: withdrawalProof(leaves, 0).map((p) => toHex(p)),
    })
    expect(await devnet.as.bob.token.read.balanceOf([devnet.as.bob.account])).toBe(before + 250n * USDC)
  })

  it('posts a batch sealed before a restart exactly once, and finds a post whose receipt was lost', async () => {
    await submitOk(
      node.sequencer.submit(node.signer.place(devnet.keys.alice, { priceTicks: MARK_TICKS[0] - 50 })),
    )
    const sealed = node.sequencer.sealBatch()
    expect(sealed?.record.batchIndex).toBe(3)
    await sealed!.durable
    await node.reopen()
    expect(node.sequencer.sealedBatches).toBe(3)
    expect(await batcher().tick()).toMatchObject({ posted: [3] })
    expect(await batcher().tick()).toMatchObject({ posted: [] })
    expect(await devnet.as.proposer.settlement.read.latestBatchIndex()).toBe(3n)

    // The post lands, but the node never learns it (a crash or a lost receipt).
    await submitOk(
      node.sequencer.submit(node.signer.place(devnet.keys.alice, { priceTicks: MARK_TICKS[0] - 60 })),
    )
    const fourth = node.sequencer.sealBatch()!
    await fourth.durable
    await devnet.as.proposer.proposeBatch({
      prevStateRoot: bytesToHex(fourth.record.prevStateRoot),
      stateRoot: bytesToHex(fourth.record.stateRoot),
      withdrawalsRoot: bytesToHex(fourth.record.withdrawalsRoot),
      inboxConsumed: BigInt(fourth.record.inboxConsumed),
      batchData: fourth.record.data,
    })
    await node.reopen()
    const report = await batcher().tick()
    expect(report.posted).toEqual([])
    expect(node.sequencer.batches(4)[0]!.status).toBe('posted')
    expect(await devnet.as.proposer.settlement.read.latestBatchIndex()).toBe(4n)
  }, 60_000)

  it('answers a challenge through the prover; the challenger loses its bond', async () => {
    const b = batcher({ prover: attestingProver })
    if (b.tracked().length === 0) await b.tick()
    const header = b.tracked()[0]!.header!
    expect(header.batchIndex).toBe(3n)
    await devnet.as.watcher.challenge(header)
    // The proof is built beside the ticks: the first one starts it, the one after it arrives sends it.
    expect((await b.tick()).proven).toEqual([])
    expect(b.tracked().find((t) => t.batchIndex === 3)!.status).toBe('challenged')
    await b.proofsSettled()
    const report = await b.tick()
    expect(report.proven).toEqual([3])
    expect(report.finalized).toEqual([3]) // proven: it finalizes without waiting for its window
    expect(report.creditClaimedWei).toBe(
      (await devnet.as.proposer.settlement.read.CHALLENGER_BOND_WEI()) +
        (await devnet.as.proposer.settlement.read.PROPOSER_BOND_WEI()),
    )
  }, 60_000)

  it('halts when a batch of ours is reverted, and re-posts it once the operator says so', async () => {
    const b = batcher() // no prover: the challenge on batch 4 goes unanswered
    await b.tick()
    const header = b.tracked().find((t) => t.batchIndex === 4)!.header!
    await devnet.as.watcher.challenge(header)
    await b.tick()
    await devnet.advance(Number(await devnet.as.proposer.settlement.read.PROVE_WINDOW()))
    expect((await devnet.as.watcher.resolve(header)).outcome).toBe('reverted')
    await b.tick()
    expect(node.sequencer.halted?.code).toBe(HaltCode.BATCH_REVERTED)

    await node.reopen()
    expect(node.sequencer.halted).toBeNull()
    const report = await batcher({ repostReverted: true }).tick()
    expect(report.posted).toEqual([4])
    const live = await devnet.as.proposer.settlement.read.latestStateRoot()
    expect(live).toBe(bytesToHex(node.sequencer.batches(4)[0]!.stateRoot))
  }, 60_000)
})

describe('batcher on anvil, L1 surprises', () => {
  let d: Devnet
  let n: TestNode
  const tick = (b: Batcher, forceSeal = false) => b.tick({ forceSeal })
  const fresh = (repostReverted = false, dataMode: DataMode = 'blobs', prover: Prover | null = null) =>
    new Batcher({
      sequencer: n.sequencer,
      client: d.as.proposer,
      prover,
      maxOps: 1_000,
      intervalMs: 60_000,
      fromBlock: d.deployment.deployBlock,
      repostReverted,
      dataMode,
    })
  const propose = async (i: number) => {
    const rec = n.sequencer.batch(i)!
    return d.as.proposer.proposeBatch({
      prevStateRoot: bytesToHex(rec.prevStateRoot),
      stateRoot: bytesToHex(rec.stateRoot),
      withdrawalsRoot: bytesToHex(rec.withdrawalsRoot),
      inboxConsumed: BigInt(rec.inboxConsumed),
      batchData: rec.data,
    })
  }

  beforeAll(async () => {
    d = await startDevnet()
    n = await startTestNode({ config: d.config })
    await d.as.alice.deposit(1_000n * USDC, d.address('alice'))
    const [first] = await d.as.proposer.inboxItems({ fromBlock: d.deployment.deployBlock })
    const ack = await n.sequencer.submitL1({
      type: 'deposit',
      account: first!.item.account.toLowerCase() as Address,
      amountQuantums: first!.item.amountQuantums,
      inboxIndex: 0,
    })
    expect(ack.ok).toBe(true)
  }, 60_000)

  afterAll(async () => {
    await n?.dispose()
    await d?.stop()
  })

  it('follows an L1 reorg that re-mines our proposal with another timestamp, and still finalizes it', async () => {
    const b = fresh()
    expect(await tick(b, true)).toMatchObject({ sealed: 1, posted: [1] })
    await d.mine(1)
    await tick(b)
    // The block holding the proposal is dropped; the same proposal lands again at the same height, later.
    await createTestClient({ mode: 'anvil', transport: http(d.anvil.rpcUrl) }).request({
      method: 'anvil_rollback',
      params: [2],
    } as never)
    await d.advance(30)
    await propose(1)
    await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()) + 100)
    const report = await tick(b)
    expect(report.finalized).toEqual([1])
    expect(await d.as.proposer.settlement.read.finalizedBatchIndex()).toBe(1n)
  }, 60_000)

  it('does not send a second proposal while the first is still pending', async () => {
    const ack = await n.sequencer.submit(
      n.signer.sign(d.keys.alice, { type: 'withdraw', amountQuantums: 1n * USDC }),
    )
    expect(ack.ok).toBe(true)
    const sealed = n.sequencer.sealBatch()!
    await sealed.durable
    const i = sealed.record.batchIndex
    const test = createTestClient({ mode: 'anvil', transport: http(d.anvil.rpcUrl) })
    await test.setAutomine(false)
    try {
      // Sent, remembered, then the node lost track of it (a receipt wait that timed out, a restart).
      const rec = n.sequencer.batch(i)!
      const hash = await d.as.proposer.sendProposeBatch({
        prevStateRoot: bytesToHex(rec.prevStateRoot),
        stateRoot: bytesToHex(rec.stateRoot),
        withdrawalsRoot: bytesToHex(rec.withdrawalsRoot),
        inboxConsumed: BigInt(rec.inboxConsumed),
        batchData: rec.data,
      })
      await n.sequencer.setBatchStatus(i, 'sealed', hash)
      const nonce = await d.as.proposer.client.getTransactionCount({
        address: d.as.proposer.account,
        blockTag: 'pending',
      })
      expect((await tick(fresh())).posted).toEqual([])
      expect(
        await d.as.proposer.client.getTransactionCount({
          address: d.as.proposer.account,
          blockTag: 'pending',
        }),
      ).toBe(nonce)
      await d.mine(1)
    } finally {
      await test.setAutomine(true)
    }
    await tick(fresh())
    expect(n.sequencer.batches(i)[0]!.status).toBe('posted')
  }, 60_000)

  it('halts on a batch of ours that was posted and reverted while the node was down', async () => {
    const ack = await n.sequencer.submit(
      n.signer.sign(d.keys.alice, { type: 'withdraw', amountQuantums: 5n * USDC }),
    )
    expect(ack.ok).toBe(true)
    const sealed = n.sequencer.sealBatch()!
    await sealed.durable
    // The post lands but the node dies before recording it; then the batch is challenged and reverted.
    const index = sealed.record.batchIndex
    const { header } = await propose(index)
    await d.as.watcher.challenge(header)
    await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()))
    // Its parent finalizes first (anyone may resolve it), then the challenged batch reverts.
    const logs = await d.as.watcher.proposedBatches({ fromBlock: d.deployment.deployBlock })
    const parent = logs.filter((l) => l.header.batchIndex === BigInt(index - 1)).at(-1)!.header
    if ((await d.as.watcher.settlement.read.finalizedBatchIndex()) < BigInt(index - 1)) {
      expect((await d.as.watcher.resolve(parent)).outcome).toBe('finalized')
    }
    expect((await d.as.watcher.resolve(header)).outcome).toBe('reverted')
    await n.reopen()
    expect(n.sequencer.batches(index)[0]!.status).toBe('sealed')
    expect((await tick(fresh())).posted).toEqual([])
    expect(n.sequencer.halted?.code).toBe(HaltCode.BATCH_REVERTED)
    await n.reopen()
    expect((await tick(fresh(true))).posted).toEqual([index])
  }, 60_000)
  it('halts BATCH_TOO_LARGE on a sealed batch one calldata proposal cannot carry, and posts it in blobs', async () => {
    // About 2,000 intents (many rejected by the engine, all sequenced and posted): some 140 KB packed.
    const acks = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        n.sequencer.submit(n.signer.place(d.keys.alice, { priceTicks: 500_000 + i, sizeLots: 1 })),
      ),
    )
    for (const ack of acks) expect(ack.ok).toBe(true)
    const sealed = n.sequencer.sealBatch()!
    await sealed.durable
    expect(sealed.record.data.length).toBeGreaterThan(MAX_CALLDATA_BATCH_BYTES)
    expect((await tick(fresh(false, 'calldata'))).posted).toEqual([])
    expect(n.sequencer.halted?.code).toBe(HaltCode.BATCH_TOO_LARGE)
    expect(n.sequencer.halted?.message).toMatch(/Restart with batch.dataMode "blobs" to post it/)
    await n.reopen()
    expect((await tick(fresh(false, 'blobs'))).posted).toEqual([sealed.record.batchIndex])
  }, 60_000)
  it('asks an unreachable prover again, and halts PROVER_REFUSED when the prover refuses a batch of ours', async () => {
    const withProver = (prover: Prover) => fresh(false, 'blobs', prover)
    const down = withProver(new HttpProver('http://127.0.0.1:9', { timeoutMs: 2_000 }))
    await tick(down)
    const ours = down.tracked().at(-1)!
    await d.as.watcher.challenge(ours.header!)
    expect((await tick(down)).proven).toEqual([]) // asks, in the background
    await down.proofsSettled()
    expect((await tick(down)).proven).toEqual([]) // PROVER_UNREACHABLE: not a refusal
    expect(n.sequencer.halted).toBeNull()
    expect(down.tracked().at(-1)!.status).toBe('challenged')

    const refusing: Prover = {
      prove: async () => ({ ok: false, code: 'WRONG_TRANSITION', detail: 'the roots differ', refused: true }),
    }
    const b = withProver(refusing)
    await tick(b)
    await b.proofsSettled()
    await tick(b)
    expect(n.sequencer.halted?.code).toBe(HaltCode.PROVER_REFUSED)
    expect(n.sequencer.halted?.message).toMatch(
      /the prover refuses batch \d+ of ours \(WRONG_TRANSITION: the roots differ\)/,
    )
    await n.reopen()
  }, 60_000)
})
