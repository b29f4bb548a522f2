import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, bytesToHex, toHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { attachSigners, decodePostedBatch } from '../engine/batch/replayBatch.ts'
import { withdrawalLeafHash, withdrawalProof } from '../engine/commitment/withdrawalsTree.ts'
import type { EngineEvent } from '../engine/events.ts'
import { Side } from '../engine/ops.ts'
import { userOpDigest } from '../engine/signing/digest.ts'
import { recoverAddress } from '../engine/signing/recoverAddress.ts'
import { INSURANCE_FUND_ACCOUNT_ID } from '../engine/state/engineState.ts'
import type { SequencedOp } from '../sequencer/api.ts'
import { HttpProver } from '../sequencer/batcher/prover.ts'
import { MARK_TICKS } from '../sequencer/testing/sequencerHarness.ts'
import { revertErrorName } from '../settlement-contracts/ts/client.ts'
import { Watcher } from '../watcher/watcher.ts'
import { type Devnet, ManualBatcher, type Role, startDevnet, USDC, USERS } from './support/devnet.ts'
import {
  accepted,
  cross,
  finalizeFirstBatch,
  prices,
  replayFinalized,
  type Stack,
  startProverService,
  startStack,
} from './support/stack.ts'

/**
 * End to end on a real anvil: the operator's node (sequencer, inbox reader, batcher), users signing
 * intents, and L1 time moved with evm_increaseTime. Each scenario gets its own chain.
 */

let devnet: Devnet | undefined
let stack: Stack | undefined
let proverService: { url: string; close(): Promise<void> } | undefined
let watcher: Watcher | undefined
const dirs: string[] = []

afterEach(async () => {
  await watcher?.stop()
  watcher = undefined
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  await proverService?.close()
  proverService = undefined
  await stack?.dispose()
  await devnet?.stop()
  stack = undefined
  devnet = undefined
})

const MINTED = 100_000n * USDC

/** A watcher with its own data directory, bonding from the devnet's watcher account; stepped by the test. */
async function startWatcher(d: Devnet): Promise<Watcher> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sce-e2e-watcher-'))
  dirs.push(dataDir)
  return Watcher.open({
    rpcUrl: d.anvil.rpcUrl,
    settlement: d.deployment.settlement,
    config: d.config,
    dataDir,
    challenger: d.anvil.accounts[8]!,
    confirmations: 0,
    workers: 1,
    fromBlock: d.deployment.deployBlock,
  })
}

/** What the coordinator says about a batch: a proof, or a refusal with the correct roots. */
async function askProver(url: string, batchIndex: bigint) {
  const response = await fetch(`${url}/prove`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ batchIndex: batchIndex.toString() }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** Claims every withdrawal of every finalized batch of ours on L1, as the account paid. */
async function claimAll(d: Devnet, s: Stack): Promise<bigint> {
  let paid = 0n
  for (const batch of s.node.sequencer.batches(1)) {
    if (batch.status !== 'finalized') continue
    const withdrawals = JSON.parse(batch.withdrawals) as { account: Address; amountQuantums: string }[]
    const leaves = withdrawals.map((w, withdrawalIndex) =>
      withdrawalLeafHash({
        chainId: d.chainId,
        settlement: d.config.settlementAddress,
        batchIndex: BigInt(batch.batchIndex),
        withdrawalIndex,
        account: w.account,
        amountQuantums: BigInt(w.amountQuantums),
      }),
    )
    for (const [k, w] of withdrawals.entries()) {
      // Anyone may submit a claim; the tokens go to the leaf's account.
      await d.as.bystander.claimWithdrawal({
        batchIndex: BigInt(batch.batchIndex),
        withdrawalIndex: BigInt(k),
        account: w.account,
        amountQuantums: BigInt(w.amountQuantums),
        proof: withdrawalProof(leaves, k).map((p) => toHex(p)),
      })
      paid += BigInt(w.amountQuantums)
    }
  }
  return paid
}

describe('end to end on anvil', () => {
  it('1. honest path: deposits, intents over several batches, a liquidation, finality, withdrawals to the quantum', async () => {
    devnet = await startDevnet()
    const d = devnet
    stack = await startStack(d)
    const s = stack
    const { alice, bob, carol } = d.keys
    const deposits: Partial<Record<Role, bigint>> = {
      alice: 20_000n * USDC,
      bob: 1_000n * USDC,
      carol: 50_000n * USDC,
    }
    for (const [role, amount] of Object.entries(deposits) as [Role, bigint][]) {
      await d.as[role].deposit(amount, d.address(role))
    }
    const events: EngineEvent[] = []
    s.node.sequencer.subscribe((op: SequencedOp) => events.push(...op.events))
    await s.step()
    expect((await s.node.sequencer.status()).inboxConsumed).toBe(3)
    await prices(s)

    // Bob goes long 6,000 lots (36,000 USDC) on 1,000 USDC: near the 2% initial margin of BTC-PERP.
    const p = MARK_TICKS[0]
    await cross(s, alice, bob, p, 6_000)
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(carol, { side: Side.Buy, priceTicks: p - 12_500, sizeLots: 8_000 }),
      ),
    )
    expect((await s.step({ seal: true })).posted).toEqual([1])

    // A 2% drop takes Bob below maintenance: the engine liquidates him into Carol's bid.
    s.node.clock.advance(1_000)
    await prices(s, [p - 12_000, MARK_TICKS[1]])
    expect(events.some((e) => e.type === 'liquidation')).toBe(true)
    const bobView = await s.node.sequencer.account(bob.address)
    expect(bobView?.positions ?? []).toEqual([])
    expect((await s.step({ seal: true })).posted).toEqual([2])

    s.node.clock.advance(1_000)
    await accepted(
      s.node.sequencer.submit(s.node.signer.sign(alice, { type: 'withdraw', amountQuantums: 1_500n * USDC })),
    )
    await accepted(
      s.node.sequencer.submit(s.node.signer.sign(carol, { type: 'withdraw', amountQuantums: 700n * USDC })),
    )
    const bobLeft = (await s.node.sequencer.account(bob.address))!.collateralQuantums
    if (bobLeft > 0n) {
      await accepted(
        s.node.sequencer.submit(s.node.signer.sign(bob, { type: 'withdraw', amountQuantums: bobLeft })),
      )
    }
    expect((await s.step({ seal: true })).posted).toEqual([3])

    await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()))
    expect((await s.step()).finalized).toEqual([1, 2, 3])
    const paid = await claimAll(d, s)

    // L1 and the engine agree to the quantum: per user, and for the contract's whole balance.
    const state = s.node.sequencer.engine.state
    for (const role of USERS) {
      const withdrawn = events
        .filter((e) => e.type === 'withdrawal' && e.account === d.address(role))
        .reduce((sum, e) => sum + (e as { amountQuantums: bigint }).amountQuantums, 0n)
      const balance = await d.as[role].token.read.balanceOf([d.as[role].account])
      expect(balance, role).toBe(MINTED - (deposits[role] ?? 0n) + withdrawn)
    }
    expect(paid).toBe(state.totalWithdrawnQuantums)
    expect(await d.as.bystander.token.read.balanceOf([d.deployment.settlement])).toBe(
      state.totalDepositedQuantums - state.totalWithdrawnQuantums,
    )
    // And the root L1 finalized is the one a replay of L1 data alone gives.
    await replayFinalized(d, d.as.bystander)
  }, 120_000)

  it('2. lying sequencer: a root crediting funds nobody deposited is challenged, refused by the prover, reverted; the honest node resumes', async () => {
    devnet = await startDevnet()
    const d = devnet
    proverService = await startProverService(d)
    stack = await startStack(d, { prover: new HttpProver(proverService.url) })
    watcher = await startWatcher(d)
    const s = stack
    const { alice, bob } = d.keys
    await d.as.alice.deposit(3_000n * USDC, d.address('alice'))
    await d.as.bob.deposit(1_000n * USDC, d.address('bob'))
    await s.step()
    await prices(s)
    expect((await s.step({ seal: true })).posted).toEqual([1])
    expect((await watcher.pollOnce()).verdicts.map((v) => [v.batchIndex, v.ok])).toEqual([[1, true]])
    await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()))
    expect((await s.step()).finalized).toEqual([1])

    // Batch 2 is sealed by the honest node; before it posts, the proposer key posts the same data with a
    // root in which Bob holds 1,000,000 USDC more than anyone deposited.
    await cross(s, alice, bob, MARK_TICKS[0], 20)
    const honest = s.node.sequencer.sealBatch()!
    await honest.durable
    const liar = await replayFinalized(d, d.as.bystander)
    const decoded = decodePostedBatch(liar, honest.record.data)
    if (!('entries' in decoded)) throw new Error(decoded.detail)
    attachSigners(
      decoded,
      decoded.jobs.map((j) => recoverAddress(j.digest, j.signature)),
    )
    for (const e of decoded.entries) liar.apply(e.op, { seq: e.seq, timestampMs: e.timestampMs })
    const bobAccount = liar.state.accountByAddress(d.address('bob'))!
    bobAccount.collateralQuantums += 1_000_000n * USDC
    liar.state.dirtyAccounts.add(bobAccount.accountId)
    // A lying operator skips the engine's invariant gate (sealBatch would refuse this state).
    expect(liar.state.pendingWithdrawals).toEqual([])
    const lyingRoot = bytesToHex(liar.root())
    const lying = await d.as.proposer.proposeBatch({
      prevStateRoot: bytesToHex(honest.record.prevStateRoot),
      stateRoot: lyingRoot,
      withdrawalsRoot: bytesToHex(honest.record.withdrawalsRoot),
      inboxConsumed: BigInt(honest.record.inboxConsumed),
      batchData: honest.record.data,
    })
    expect(lying.header.stateRoot).not.toBe(bytesToHex(honest.record.stateRoot))

    // The honest node will not build on it; the watcher challenges it; the prover refuses it.
    expect((await s.step()).posted).toEqual([])
    const poll = await watcher.pollOnce()
    expect(poll.verdicts).toMatchObject([{ batchIndex: 2, ok: false, fault: 'STATE_ROOT_MISMATCH' }])
    expect(poll.challenged).toEqual([2])
    const refusal = await askProver(proverService.url, 2n)
    expect(refusal.status).toBe(409)
    expect(refusal.body).toMatchObject({
      code: 'WRONG_TRANSITION',
      correctStateRoot: bytesToHex(honest.record.stateRoot),
    })

    // The prove window passes: the watcher resolves, the lie reverts, and its bond pays the watcher.
    const settlement = d.as.bystander.settlement
    const proposerBond = await settlement.read.PROPOSER_BOND_WEI()
    await d.advance(Number(await settlement.read.PROVE_WINDOW()))
    expect((await s.step()).posted).toEqual([]) // still not building on the lie
    const resolved = await watcher.pollOnce()
    expect(resolved.resolved).toEqual([{ batchIndex: 2, outcome: 'reverted' }])
    expect(resolved.claimedWei).toBeGreaterThanOrEqual(proposerBond)
    expect(await settlement.read.latestBatchIndex()).toBe(1n)

    // The honest node posts its own batch 2 on the last finalized root, and it finalizes.
    expect((await s.step()).posted).toEqual([2])
    expect((await watcher.pollOnce()).verdicts).toMatchObject([{ batchIndex: 2, ok: true }])
    await d.advance(Number(await settlement.read.CHALLENGE_WINDOW()))
    expect((await s.step()).finalized).toEqual([2])
    expect(await settlement.read.finalizedStateRoot()).toBe(bytesToHex(honest.record.stateRoot))

    // Users lost nothing: Bob withdraws all he has, and L1 pays it.
    const bobHas = (await s.node.sequencer.account(bob.address))!.collateralQuantums
    expect(bobHas).toBeGreaterThan(900n * USDC)
    expect(bobHas).toBeLessThan(1_000n * USDC)
    await accepted(
      s.node.sequencer.submit(s.node.signer.sign(bob, { type: 'withdraw', amountQuantums: 500n * USDC })),
    )
    expect((await s.step({ seal: true })).posted).toEqual([3])
    await d.advance(Number(await settlement.read.CHALLENGE_WINDOW()))
    expect((await s.step()).finalized).toEqual([3])
    const before = await d.as.bob.token.read.balanceOf([d.as.bob.account])
    expect(await claimAll(d, s)).toBe(500n * USDC)
    expect(await d.as.bob.token.read.balanceOf([d.as.bob.account])).toBe(before + 500n * USDC)
  }, 120_000)

  it('3. griefing challenge: a challenge on a correct batch is answered by a proof; the challenger loses its bond', async () => {
    devnet = await startDevnet()
    const d = devnet
    proverService = await startProverService(d)
    stack = await startStack(d, { prover: new HttpProver(proverService.url) })
    const s = stack
    await d.as.alice.deposit(2_000n * USDC, d.address('alice'))
    await d.as.bob.deposit(2_000n * USDC, d.address('bob'))
    await s.step()
    await prices(s)
    await cross(s, d.keys.alice, d.keys.bob, MARK_TICKS[0], 50)
    expect((await s.step({ seal: true })).posted).toEqual([1])
    const header = s.batcher.tracked()[0]!.header!
    const settlement = d.as.bystander.settlement
    const [proposerBond, challengerBond] = await Promise.all([
      settlement.read.PROPOSER_BOND_WEI(),
      settlement.read.CHALLENGER_BOND_WEI(),
    ])
    const griefer = d.as.bystander
    const before = await d.as.bystander.client.getBalance({ address: griefer.account })
    await griefer.challenge(header)

    // The operator's batcher asks the prover-stub (three attesters over HTTP) and proves on chain.
    expect((await s.step()).proven).toEqual([])
    await s.batcher.proofsSettled()
    const report = await s.step()
    expect(report.proven).toEqual([1])
    expect(report.finalized).toEqual([1]) // proven: no need to wait out the challenge window
    expect(report.creditClaimedWei).toBe(proposerBond + challengerBond)
    expect(await settlement.read.finalizedBatchIndex()).toBe(1n)
    expect(await settlement.read.creditOf([griefer.account])).toBe(0n)
    const after = await d.as.bystander.client.getBalance({ address: griefer.account })
    expect(before - after).toBeGreaterThanOrEqual(challengerBond)
  }, 120_000)

  /** Batch 1 honest (deposits and prices) by a hand batcher; the watcher agrees with it. */
  async function honestStart(d: Devnet, w: Watcher): Promise<ManualBatcher> {
    const liar = new ManualBatcher(d)
    await d.as.alice.deposit(2_000n * USDC, d.address('alice'))
    await d.as.bob.deposit(500n * USDC, d.address('bob'))
    await liar.consumeInbox()
    await liar.price(1, MARK_TICKS[0])
    await liar.price(2, MARK_TICKS[1])
    await liar.propose()
    expect((await w.pollOnce()).verdicts).toMatchObject([{ batchIndex: 1, ok: true }])
    return liar
  }

  /**
   * The prove window passes with no proof (and the parent's challenge window, so it can finalize first):
   * the watcher resolves the parent and then the wrong batch, which reverts, and the watcher is paid.
   */
  async function expectReverted(d: Devnet, w: Watcher, batchIndex: number): Promise<void> {
    const settlement = d.as.bystander.settlement
    const bond = await settlement.read.PROPOSER_BOND_WEI()
    await d.advance(Number(await settlement.read.CHALLENGE_WINDOW()))
    const poll = await w.pollOnce()
    expect(poll.resolved).toEqual([
      { batchIndex: batchIndex - 1, outcome: 'finalized' },
      { batchIndex, outcome: 'reverted' },
    ])
    expect(poll.claimedWei).toBeGreaterThanOrEqual(bond)
    expect(await settlement.read.latestBatchIndex()).toBe(BigInt(batchIndex - 1))
  }

  it('5a. bad data: a forged user signature is caught, challenged and reverted', async () => {
    devnet = await startDevnet()
    const d = devnet
    watcher = await startWatcher(d)
    const liar = await honestStart(d, watcher)
    // A withdrawal from Alice's account signed with Mallory's (the bystander's) key, applied as if Alice signed it.
    const forged = {
      type: 'withdraw' as const,
      account: d.address('alice'),
      signer: d.address('alice'),
      nonce: await d.blockTimeMs(),
      amountQuantums: 1_500n * USDC,
    }
    await liar.run(forged, { signature: d.keys.bystander.signDigest(userOpDigest(forged, liar.domain)) })
    await liar.propose()
    const poll = await watcher.pollOnce()
    expect(poll.verdicts).toMatchObject([{ batchIndex: 2, ok: false, fault: 'STATE_ROOT_MISMATCH' }])
    // The verdict names the op and the key that really signed it.
    expect(poll.verdicts[0]!.detail).toContain(d.address('bystander'))
    expect(poll.challenged).toEqual([2])
    await expectReverted(d, watcher, 2)
  }, 120_000)

  it('5b. bad data: a batch that skips an inbox deposit is caught, challenged and reverted', async () => {
    devnet = await startDevnet()
    const d = devnet
    watcher = await startWatcher(d)
    const liar = await honestStart(d, watcher)
    // Carol deposits; the batch claims to consume her deposit but never credits it.
    await d.as.carol.deposit(700n * USDC, d.address('carol'))
    await liar.price(1, MARK_TICKS[0] + 10)
    await liar.propose((honest) => ({ ...honest, inboxConsumed: honest.inboxConsumed + 1n }))
    const poll = await watcher.pollOnce()
    expect(poll.verdicts).toMatchObject([{ batchIndex: 2, ok: false, fault: 'INBOX_COUNT_MISMATCH' }])
    expect(poll.verdicts[0]!.detail).toContain('inbox item 2 is skipped')
    expect(poll.challenged).toEqual([2])
    await expectReverted(d, watcher, 2)
  }, 120_000)

  it('4. vanishing operator: a forced withdrawal ignored past its deadline, freeze, every account escapes exactly once', async () => {
    devnet = await startDevnet()
    const d = devnet
    stack = await startStack(d)
    const s = stack
    await finalizeFirstBatch(d, s, { carolQuantums: 2_000n * USDC, tradeLots: 100 })

    // The operator vanishes: nothing is sequenced or posted any more. Carol's forced request is ignored.
    await s.dispose()
    stack = undefined
    const forced = await d.as.carol.requestForcedWithdrawal(500n * USDC)
    expect(revertErrorName(await d.as.bystander.freezeForForcedWithdrawal(forced.item).catch((e) => e))).toBe(
      'FreezeNotDue',
    )
    await d.advance(Number(await d.as.proposer.settlement.read.FORCED_INCLUSION_DEADLINE()))
    await d.as.bystander.freezeForForcedWithdrawal(forced.item)
    expect(await d.as.bystander.settlement.read.isFrozen()).toBe(true)

    // Each user rebuilds the finalized state from L1 data alone and escapes with its escape equity.
    const engine = await replayFinalized(d, d.as.bystander)
    const parts = engine.commitment.rootParts()
    let escaped = 0n
    for (const role of ['alice', 'bob', 'carol'] as const) {
      const account = engine.state.accountByAddress(d.address(role))!
      const proof = engine.accountProof(account.accountId)
      const params = {
        ...parts,
        accountId: BigInt(account.accountId),
        escapeEquityQuantums: proof.escapeEquityQuantums,
        accountDataHash: proof.accountDataHash,
        proof: proof.proof,
      }
      expect(proof.escapeEquityQuantums).toBeGreaterThan(0n)
      const before = await d.as[role].token.read.balanceOf([d.as[role].account])
      await d.as[role].escape(params)
      expect(await d.as[role].token.read.balanceOf([d.as[role].account])).toBe(
        before + proof.escapeEquityQuantums,
      )
      expect(revertErrorName(await d.as[role].escape(params).catch((e) => e))).toBe('AlreadyEscaped')
      escaped += proof.escapeEquityQuantums
    }
    // Alice's withdrawal from the finalized batch stays claimable after the freeze, once.
    const batch = { index: 1n, leaves: [] as Uint8Array[] }
    const w = { account: d.address('alice'), amountQuantums: 400n * USDC }
    batch.leaves.push(
      withdrawalLeafHash({
        chainId: d.chainId,
        settlement: d.config.settlementAddress,
        batchIndex: batch.index,
        withdrawalIndex: 0,
        ...w,
      }),
    )
    const claim = {
      batchIndex: batch.index,
      withdrawalIndex: 0n,
      ...w,
      proof: withdrawalProof(batch.leaves, 0).map((p) => toHex(p)),
    }
    await d.as.alice.claimWithdrawal(claim)
    expect(revertErrorName(await d.as.alice.claimWithdrawal(claim).catch((e) => e))).toBe('AlreadyWithdrawn')
    // The contract paid everything and still covers what is left: the insurance fund's and fees' share.
    const remaining = await d.as.bystander.token.read.balanceOf([d.deployment.settlement])
    const insurance = engine.state.accounts[INSURANCE_FUND_ACCOUNT_ID]!.collateralQuantums
    expect(remaining).toBe(10_000n * USDC - 400n * USDC - escaped)
    expect(remaining).toBeGreaterThanOrEqual(insurance + engine.state.feesQuantums)
  }, 120_000)
})
