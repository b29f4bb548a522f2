import { type Address, toHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { withdrawalLeafHash, withdrawalProof } from '../engine/commitment/withdrawalsTree.ts'
import type { EngineEvent } from '../engine/events.ts'
import { Side, TimeInForce } from '../engine/ops.ts'
import { INSURANCE_FUND_ACCOUNT_ID } from '../engine/state/engineState.ts'
import type { SequencedOp } from '../sequencer/api.ts'
import { HttpProver } from '../sequencer/batcher/prover.ts'
import { MARK_TICKS } from '../sequencer/testing/sequencerHarness.ts'
import { revertErrorName } from '../settlement-contracts/ts/client.ts'
import { type Devnet, type Role, startDevnet, USDC, USERS } from './support/devnet.ts'
import { accepted, replayFinalized, type Stack, startProverService, startStack } from './support/stack.ts'

/**
 * End to end on a real anvil: the operator's node (sequencer, inbox reader, batcher), users signing
 * intents, and L1 time moved with evm_increaseTime. Each scenario gets its own chain.
 */

let devnet: Devnet | undefined
let stack: Stack | undefined
let proverService: { url: string; close(): Promise<void> } | undefined

afterEach(async () => {
  await proverService?.close()
  proverService = undefined
  await stack?.dispose()
  await devnet?.stop()
  stack = undefined
  devnet = undefined
})

const MINTED = 100_000n * USDC

async function prices(s: Stack, ticks: readonly number[] = MARK_TICKS): Promise<void> {
  for (const u of s.node.signer.prices(s.node.config, s.node.clock.nowMs(), ticks)) {
    await accepted(s.node.sequencer.submitOracleUpdate(u))
  }
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
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(alice, { side: Side.Sell, priceTicks: p, sizeLots: 6_000 }),
      ),
    )
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(bob, { side: Side.Buy, priceTicks: p, sizeLots: 6_000, tif: TimeInForce.IOC }),
      ),
    )
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
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(d.keys.alice, { side: Side.Sell, priceTicks: MARK_TICKS[0], sizeLots: 50 }),
      ),
    )
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(d.keys.bob, {
          side: Side.Buy,
          priceTicks: MARK_TICKS[0],
          sizeLots: 50,
          tif: TimeInForce.IOC,
        }),
      ),
    )
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
    const report = await s.step()
    expect(report.proven).toEqual([1])
    expect(report.finalized).toEqual([1]) // proven: no need to wait out the challenge window
    expect(report.creditClaimedWei).toBe(proposerBond + challengerBond)
    expect(await settlement.read.finalizedBatchIndex()).toBe(1n)
    expect(await settlement.read.creditOf([griefer.account])).toBe(0n)
    const after = await d.as.bystander.client.getBalance({ address: griefer.account })
    expect(before - after).toBeGreaterThanOrEqual(challengerBond)
  }, 120_000)

  it('4. vanishing operator: a forced withdrawal ignored past its deadline, freeze, every account escapes exactly once', async () => {
    devnet = await startDevnet()
    const d = devnet
    stack = await startStack(d)
    const s = stack
    const { alice, bob } = d.keys
    await d.as.alice.deposit(5_000n * USDC, d.address('alice'))
    await d.as.bob.deposit(3_000n * USDC, d.address('bob'))
    await d.as.carol.deposit(2_000n * USDC, d.address('carol'))
    await s.step()
    await prices(s)
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(alice, { side: Side.Sell, priceTicks: MARK_TICKS[0], sizeLots: 100 }),
      ),
    )
    await accepted(
      s.node.sequencer.submit(
        s.node.signer.place(bob, {
          side: Side.Buy,
          priceTicks: MARK_TICKS[0],
          sizeLots: 100,
          tif: TimeInForce.IOC,
        }),
      ),
    )
    await accepted(
      s.node.sequencer.submit(s.node.signer.sign(alice, { type: 'withdraw', amountQuantums: 400n * USDC })),
    )
    expect((await s.step({ seal: true })).posted).toEqual([1])
    await d.advance(Number(await d.as.proposer.settlement.read.CHALLENGE_WINDOW()))
    expect((await s.step()).finalized).toEqual([1])

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
