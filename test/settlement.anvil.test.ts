import {
  type Address,
  createTestClient,
  encodeAbiParameters,
  type Hex,
  http,
  keccak256,
  type PrivateKeyAccount,
  parseEther,
  recoverAddress,
  stringToHex,
  toHex,
} from 'viem'
import { sign } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeBatch } from '../engine/codec/decodeBatch.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import { stateRoot } from '../engine/commitment/stateRoot.ts'
import { withdrawalProof } from '../engine/commitment/withdrawalsTree.ts'
import { Engine } from '../engine/engine.ts'
import type { Op, SignedEntry, UserOp } from '../engine/ops.ts'
import { domainSeparator, userOpDigest } from '../engine/signing/digest.ts'
import { engineConfigHash } from '../engine/state/globalsDigest.ts'
import { testConfig } from '../engine/testing/testConfig.ts'
import { type Anvil, startAnvil } from '../settlement-contracts/ts/anvil.ts'
import { attestationDigest, signAttestation } from '../settlement-contracts/ts/attestation.ts'
import {
  type BatchHeader,
  type ChainClient,
  connect,
  type InboxItem,
  InboxKind,
  type ProposedBatch,
  revertErrorName,
  type SettlementClient,
} from '../settlement-contracts/ts/client.ts'
import { deploySettlement, type SettlementDeployment } from '../settlement-contracts/ts/deploy.ts'

/**
 * The whole settlement lifecycle on a real anvil, with every root, proof and batch built by the engine:
 * deposits through the inbox, batches proposed, challenged and proven (2-of-3 attestation) or timed out,
 * withdrawals by Merkle proof, a deposit reclaimed, a forced withdrawal ignored, the freeze, and escapes
 * against the last finalized root. Time moves with evm_increaseTime, never by waiting. The steps share
 * one chain and run in order.
 */

const USDC = 1_000_000n
const VKEY = keccak256(stringToHex('sce-engine-v1'))
const WINDOWS = {
  challengeSeconds: 3_600,
  proveSeconds: 1_800,
  forcedInclusionSeconds: 86_400,
  livenessSeconds: 7 * 86_400,
  depositReclaimSeconds: 43_200,
}
const BONDS = {
  proposerWei: parseEther('1'),
  challengerWei: parseEther('0.5'),
  forcedWithdrawalFeeWei: parseEther('0.01'),
}

let anvil: Anvil
let deployment: SettlementDeployment
let engine: Engine
let chainId: bigint
let settlementAddress: Address
let advance: (seconds: number) => Promise<void>
let blockTimeMs: () => Promise<number>
const clients: ChainClient[] = []
type Role = 'proposer' | 'alice' | 'bob' | 'carol' | 'dave' | 'watcher' | 'prover'
/** The settlement client as each role's account; filled in beforeAll. */
const as = {} as Record<Role, SettlementClient>
let attesterKeys: Hex[]
let signerKeys: Map<Address, Hex>

/** The sequencer's side: consecutive seqs, L1-derived time, signed entries for the batch data. */
let seq = 0
let entries: SignedEntry[] = []

async function run(op: Op): Promise<void> {
  const timestampMs = await blockTimeMs()
  seq++
  const result = engine.apply(op, { seq, timestampMs })
  expect(result.result, `engine rejected ${op.type}`).toMatchObject({ ok: true })
  let signature: Uint8Array | null = null
  if (
    op.type !== 'deposit' &&
    op.type !== 'forcedWithdrawal' &&
    op.type !== 'oracleUpdate' &&
    op.type !== 'timeAdvance'
  ) {
    signature = await signUserOp(op)
  }
  entries.push({ seq, timestampMs, op, signature, observationSignatures: [] })
}

async function signUserOp(op: UserOp): Promise<Uint8Array> {
  const privateKey = signerKeys.get(op.signer)
  if (privateKey === undefined) throw new Error(`no key for ${op.signer}`)
  const hash = toHex(userOpDigest(op, domainSeparator(chainId, settlementAddress)))
  return sign({ hash, privateKey, to: 'bytes' })
}

/** Deposits and forced requests the engine has not seen yet, in inbox order. */
async function consumeInbox(): Promise<void> {
  for (const { item } of await as.proposer.inboxItems({ fromBlock: deployment.deployBlock })) {
    if (Number(item.index) < engine.state.inboxConsumed) continue
    const op: Op = {
      type: item.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
      account: item.account.toLowerCase() as Address,
      amountQuantums: item.amountQuantums,
      inboxIndex: Number(item.index),
    }
    await run(op)
  }
}

/** Seals the engine's open batch and proposes it, with the data as the codec encodes it. */
async function proposeFromEngine(batchIndex: bigint) {
  const prevStateRoot = await as.proposer.settlement.read.latestStateRoot()
  const sealed = engine.sealBatch(batchIndex)
  const batchData = encodeBatch({ version: 1, entries })
  entries = []
  const proposed = await as.proposer.proposeBatch({
    prevStateRoot,
    stateRoot: toHex(sealed.stateRoot),
    withdrawalsRoot: toHex(sealed.withdrawalsRoot),
    inboxConsumed: BigInt(sealed.inboxConsumed),
    batchData,
  })
  return { sealed, batchData, proposed }
}

async function expectRevert(call: Promise<unknown>, errorName: string): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `expected ${errorName}`).toBeDefined()
  expect(revertErrorName(error)).toBe(errorName)
}

function addressOf(account: PrivateKeyAccount): Address {
  return account.address.toLowerCase() as Address
}

beforeAll(async () => {
  anvil = await startAnvil({ accountCount: 10 })
  chainId = BigInt(anvil.chainId)
  for (const account of anvil.accounts)
    clients.push(connect({ rpcUrl: anvil.rpcUrl, account, chainId: anvil.chainId }))
  const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
  advance = async (seconds) => {
    await testClient.increaseTime({ seconds })
    await testClient.mine({ blocks: 1 })
  }
  blockTimeMs = async () => Number((await clients[0]!.getBlock()).timestamp) * 1000
  signerKeys = new Map(anvil.accounts.map((a, i) => [addressOf(a), anvil.privateKeys[i]!]))
  attesterKeys = anvil.privateKeys.slice(5, 8)

  deployment = await deploySettlement(clients[0]!, {
    vkey: VKEY,
    attesters: anvil.accounts.slice(5, 8).map((a) => a.address),
    threshold: 2,
    accountTreeDepth: 24,
    windows: WINDOWS,
    bonds: BONDS,
    genesis: (settlement) => {
      engine = Engine.create(testConfig({ chainId, settlementAddress: settlement.toLowerCase() as Address }))
      return { stateRoot: toHex(engine.root()), configHash: toHex(engineConfigHash(engine.state.config)) }
    },
  })
  settlementAddress = deployment.settlement.toLowerCase() as Address
  const names = ['proposer', 'alice', 'bob', 'carol', 'dave', 'watcher', 'prover'] as const
  const indices = [0, 1, 2, 3, 4, 8, 5]
  names.forEach((name, i) => {
    as[name] = deployment.client.as(clients[indices[i]!]!)
  })
  for (const name of ['alice', 'bob', 'carol', 'dave'] as const) {
    const hash = await as[name].token.write.mint([as[name].account, 10_000n * USDC])
    await clients[0]!.waitForTransactionReceipt({ hash })
  }
}, 60_000)

afterAll(async () => {
  await anvil?.stop()
})

describe('settlement on anvil', () => {
  it('deploys with the configured windows, bonds and the engine genesis', async () => {
    const s = as.proposer.settlement
    expect(await s.read.GENESIS_STATE_ROOT()).toBe(toHex(engine.root()))
    expect(await s.read.finalizedStateRoot()).toBe(toHex(engine.root()))
    expect(await s.read.CONFIG_HASH()).toBe(deployment.genesis.configHash)
    expect(await s.read.CHALLENGE_WINDOW()).toBe(BigInt(WINDOWS.challengeSeconds))
    expect(await s.read.PROVE_WINDOW()).toBe(BigInt(WINDOWS.proveSeconds))
    expect(await s.read.PROPOSER_BOND_WEI()).toBe(BONDS.proposerWei)
    expect(await s.read.ACCOUNT_TREE_DEPTH()).toBe(24n)
    expect(await s.read.PROPOSER()).toBe(anvil.accounts[0]!.address)
    const verifier = deployment.verifierContract
    expect(await verifier.read.THRESHOLD()).toBe(2n)
    expect(await verifier.read.isAttester([anvil.accounts[6]!.address])).toBe(true)
  })

  it('appends deposits to the inbox with the accumulator the contract and TypeScript agree on', async () => {
    const a = await as.alice.deposit(1_000n * USDC, as.alice.account)
    const b = await as.bob.deposit(500n * USDC, as.bob.account)
    expect(a.item).toMatchObject({ kind: InboxKind.Deposit, index: 0n, amountQuantums: 1_000n * USDC })
    expect(b.item.index).toBe(1n)
    let accumulator: Hex = `0x${'00'.repeat(32)}`
    for (const { item, accumulator: stored } of [a, b]) {
      accumulator = inboxAccumulator(accumulator, item)
      expect(stored).toBe(accumulator)
      expect(await as.proposer.settlement.read.inboxAccumulatorAt([item.index + 1n])).toBe(accumulator)
    }
    expect(await as.proposer.settlement.read.inboxLength()).toBe(2n)
  })

  let batch1: Awaited<ReturnType<typeof proposeFromEngine>>

  it('proposes batch 1 built by the engine: deposits consumed, one withdrawal', async () => {
    await consumeInbox()
    const alice = addressOf(anvil.accounts[1]!)
    await run({
      type: 'withdraw',
      account: alice,
      signer: alice,
      nonce: (await blockTimeMs()) - 5,
      amountQuantums: 200n * USDC,
    })
    batch1 = await proposeFromEngine(1n)
    const { header } = batch1.proposed
    expect(header.batchIndex).toBe(1n)
    expect(header.prevStateRoot).toBe(await as.proposer.settlement.read.GENESIS_STATE_ROOT())
    expect(header.stateRoot).toBe(toHex(batch1.sealed.stateRoot))
    expect(header.dataHash).toBe(keccak256(batch1.batchData))
    expect(header.inboxConsumed).toBe(2n)
    expect(header.inboxAccumulator).toBe(await as.proposer.settlement.read.inboxAccumulatorAt([2n]))
    expect(batch1.sealed.withdrawals).toHaveLength(1)

    // A watcher reads the batch back from calldata and replays it to the same root.
    const posted = await as.watcher.batchData({
      transactionHash: batch1.proposed.hash,
      header: batch1.proposed.header,
    })
    expect(toHex(posted)).toBe(toHex(batch1.batchData))
    const replica = Engine.create(engine.state.config)
    const domain = domainSeparator(chainId, settlementAddress)
    for (const entry of decodeBatch(posted).entries) {
      let op = entry.op
      if (op.type === 'withdraw') {
        const hash = toHex(userOpDigest(op, domain))
        const signer = await recoverAddress({ hash, signature: toHex(entry.signature!) })
        op = { ...op, signer: signer.toLowerCase() as Address }
      }
      expect(replica.apply(op, { seq: entry.seq, timestampMs: entry.timestampMs }).result.ok).toBe(true)
    }
    expect(toHex(replica.sealBatch(1n).stateRoot)).toBe(header.stateRoot)
    const logs = await as.watcher.proposedBatches({ fromBlock: deployment.deployBlock })
    expect(logs.map((l) => l.batchHash)).toEqual([batch1.proposed.batchHash])
  })

  it('challenge then prove: a 2-of-3 attestation over the public values built from storage', async () => {
    const { header, batchHash } = batch1.proposed
    await expectRevert(as.prover.resolve(header), 'ChallengeWindowOpen')
    await expectRevert(as.watcher.prove(header, '0x'), 'NotChallenged')
    await as.watcher.challenge(header)
    await expectRevert(as.alice.challenge(header), 'AlreadyChallenged')

    const publicValues = await as.prover.publicValuesOf(header)
    expect(publicValues).toBe(expectedPublicValues(header))
    const verifier = deployment.verifierContract
    const digest = attestationDigest(VKEY, publicValues)
    expect(await verifier.read.attestationDigest([VKEY, publicValues])).toBe(digest)
    // Rejected shapes, checked on the verifier itself, whose errors the Settlement ABI does not carry.
    const [k5, k6, k7] = attesterKeys as [Hex, Hex, Hex]
    await expectRevert(
      verifier.read.verify([VKEY, publicValues, await signAttestation([k5], VKEY, publicValues)]),
      'NotEnoughSignatures',
    )
    const sorted = await signAttestation([k5, k6], VKEY, publicValues)
    const swapped = `0x${sorted.slice(132)}${sorted.slice(2, 132)}` as Hex
    await expectRevert(verifier.read.verify([VKEY, publicValues, swapped]), 'SignersNotSorted')
    const one = sorted.slice(2, 132)
    await expectRevert(verifier.read.verify([VKEY, publicValues, `0x${one}${one}`]), 'DuplicateSigner')
    const outsider = await signAttestation([anvil.privateKeys[9]!, k6], VKEY, publicValues)
    await expectRevert(verifier.read.verify([VKEY, publicValues, outsider]), 'NotAttester')
    // Through the settlement, the verifier's revert reaches the caller unchanged.
    await expectRevert(as.prover.prove(header, swapped), 'SignersNotSorted')

    const proof = await signAttestation([k7, k5], VKEY, publicValues)
    await as.prover.prove(header, proof)
    expect((await as.prover.settlement.read.challengeOf([batchHash])).status).toBe(2)
    // A proven batch finalizes without waiting for the rest of its challenge window.
    expect((await as.prover.resolve(header)).outcome).toBe('finalized')
    expect(await as.prover.settlement.read.finalizedBatchIndex()).toBe(1n)
    expect(await as.prover.settlement.read.finalizedStateRoot()).toBe(header.stateRoot)
    expect(await as.prover.settlement.read.withdrawalsRootOf([1n])).toBe(toHex(batch1.sealed.withdrawalsRoot))
    expect(await as.prover.settlement.read.creditOf([as.prover.account])).toBe(BONDS.challengerWei)
    expect(await as.prover.settlement.read.creditOf([as.proposer.account])).toBe(BONDS.proposerWei)
  })

  it('withdraws with a Merkle proof from the engine, once', async () => {
    const w = batch1.sealed.withdrawals[0]!
    const claim = {
      batchIndex: 1n,
      withdrawalIndex: 0n,
      account: as.alice.account,
      amountQuantums: w.amountQuantums,
      proof: withdrawalProof(batch1.sealed.withdrawalLeaves, 0),
    }
    await expectRevert(
      as.bob.claimWithdrawal({ ...claim, amountQuantums: w.amountQuantums + 1n }),
      'InvalidMerkleProof',
    )
    const before = await as.alice.token.read.balanceOf([as.alice.account])
    await as.bob.claimWithdrawal(claim) // anyone may pay it out; it goes to the leaf's account
    expect(await as.alice.token.read.balanceOf([as.alice.account])).toBe(before + 200n * USDC)
    expect(await as.alice.settlement.read.isWithdrawn([1n, 0n])).toBe(true)
    await expectRevert(as.alice.claimWithdrawal(claim), 'AlreadyWithdrawn')
  })

  it('challenge then time out: the wrong batch and its successor revert, bonds to the challenger', async () => {
    const finalizedRoot = await as.proposer.settlement.read.finalizedStateRoot()
    const empty = encodeBatch({ version: 1, entries: [] })
    const wrongRoot = keccak256(stringToHex('not the engine root'))
    const withdrawalsRoot = toHex(batch1.sealed.withdrawalsRoot)
    const wrong = await as.proposer.proposeBatch({
      prevStateRoot: finalizedRoot,
      stateRoot: wrongRoot,
      withdrawalsRoot,
      inboxConsumed: 2n,
      batchData: empty,
    })
    const successor = await as.proposer.proposeBatch({
      prevStateRoot: wrongRoot,
      stateRoot: keccak256(stringToHex('successor')),
      withdrawalsRoot,
      inboxConsumed: 2n,
      batchData: empty,
    })
    await expectRevert(as.proposer.resolve(successor.header), 'ParentNotFinalized')
    await as.watcher.challenge(wrong.header)
    await expectRevert(as.watcher.resolve(wrong.header), 'ProveWindowOpen')
    await advance(WINDOWS.proveSeconds)
    await expectRevert(as.prover.prove(wrong.header, '0x'), 'ProveWindowClosed')
    expect((await as.watcher.resolve(wrong.header)).outcome).toBe('reverted')

    const s = as.watcher.settlement
    expect(await s.read.latestBatchIndex()).toBe(1n)
    expect(await s.read.epoch()).toBe(1n)
    expect(await s.read.latestStateRoot()).toBe(finalizedRoot)
    expect(await s.read.batchHashOf([2n])).toBe(`0x${'00'.repeat(32)}`)
    await expectRevert(as.watcher.resolve(successor.header), 'UnknownBatch')
    const credit = BONDS.challengerWei + 2n * BONDS.proposerWei
    expect(await s.read.creditOf([as.watcher.account])).toBe(credit)

    const before = await clients[8]!.getBalance({ address: as.watcher.account })
    const claimed = await as.watcher.claimCredit()
    const gasWei = claimed.receipt.gasUsed * claimed.receipt.effectiveGasPrice
    expect(await clients[8]!.getBalance({ address: as.watcher.account })).toBe(before + credit - gasWei)
    await expectRevert(as.watcher.claimCredit(), 'NoCredit')
  })

  let batch2: ProposedBatch

  it('finalizes an unchallenged batch after its challenge window', async () => {
    await as.dave.deposit(300n * USDC, as.dave.account)
    await consumeInbox()
    const { proposed } = await proposeFromEngine(2n)
    batch2 = proposed
    expect(proposed.header.epoch).toBe(1n)
    await advance(WINDOWS.challengeSeconds - 60)
    await expectRevert(as.watcher.resolve(proposed.header), 'ChallengeWindowOpen')
    await advance(60)
    await expectRevert(as.watcher.challenge(proposed.header), 'ChallengeWindowClosed')
    expect((await as.watcher.resolve(proposed.header)).outcome).toBe('finalized')
    expect(await as.watcher.settlement.read.finalizedStateRoot()).toBe(toHex(engine.root()))
    expect(await as.watcher.settlement.read.finalizedInboxConsumed()).toBe(3n)
  })

  it('reclaims a deposit no batch consumed, after the delay, and caps the inbox', async () => {
    const before = await as.carol.token.read.balanceOf([as.carol.account])
    const { item } = await as.carol.deposit(100n * USDC, as.carol.account)
    await expectRevert(as.carol.reclaimDeposit(item), 'ReclaimNotDue')
    await expectRevert(
      as.carol.reclaimDeposit({ ...item, amountQuantums: item.amountQuantums + 1n }),
      'UnknownInboxItem',
    )
    await advance(WINDOWS.depositReclaimSeconds)
    await as.carol.reclaimDeposit(item)
    expect(await as.carol.token.read.balanceOf([as.carol.account])).toBe(before)
    expect(await as.carol.settlement.read.inboxCap()).toBe(item.index)
    await expectRevert(as.carol.reclaimDeposit(item), 'AlreadyReclaimed')
    // The sequencer may no longer consume the reclaimed deposit.
    await expectRevert(
      as.proposer.proposeBatch({
        prevStateRoot: batch2.header.stateRoot,
        stateRoot: batch2.header.stateRoot,
        withdrawalsRoot: batch2.header.withdrawalsRoot,
        inboxConsumed: item.index + 1n,
        batchData: encodeBatch({ version: 1, entries: [] }),
      }),
      'InboxConsumedTooFar',
    )
  })

  let forced: InboxItem

  it('freezes once a forced withdrawal request is overdue', async () => {
    forced = (await as.bob.requestForcedWithdrawal(100n * USDC)).item
    expect(forced.kind).toBe(InboxKind.ForcedWithdrawal)
    expect(await as.bob.settlement.read.creditOf([as.proposer.account])).toBe(
      BONDS.proposerWei * 2n + BONDS.forcedWithdrawalFeeWei,
    )
    await expectRevert(as.watcher.freezeForForcedWithdrawal(forced), 'FreezeNotDue')
    await expectRevert(as.watcher.escape(await escapeParameters(as.bob)), 'ContractNotFrozen')
    await advance(WINDOWS.forcedInclusionSeconds)
    await as.watcher.freezeForForcedWithdrawal(forced)
    expect(await as.watcher.settlement.read.isFrozen()).toBe(true)
    await expectRevert(as.watcher.freezeForLiveness(), 'ContractIsFrozen')
    await expectRevert(as.alice.deposit(1n * USDC, as.alice.account), 'ContractIsFrozen')
    await expectRevert(
      as.proposer.proposeBatch({
        prevStateRoot: batch2.header.stateRoot,
        stateRoot: batch2.header.stateRoot,
        withdrawalsRoot: batch2.header.withdrawalsRoot,
        inboxConsumed: 3n,
        batchData: encodeBatch({ version: 1, entries: [] }),
      }),
      'ContractIsFrozen',
    )
  })

  it('escapes every account once with the engine proof against the last finalized root', async () => {
    const parts = engine.commitment.rootParts()
    expect(toHex(stateRoot(parts.accountsRoot, parts.marketsHash, parts.globalsHash))).toBe(
      await as.bob.settlement.read.finalizedStateRoot(),
    )
    const bobParams = await escapeParameters(as.bob)
    await expectRevert(as.alice.escape(bobParams), 'InvalidMerkleProof')
    const expected = { alice: 800n * USDC, bob: 500n * USDC, dave: 300n * USDC }
    for (const name of ['alice', 'bob', 'dave'] as const) {
      const params = await escapeParameters(as[name])
      expect(params.escapeEquityQuantums).toBe(expected[name])
      const before = await as[name].token.read.balanceOf([as[name].account])
      await as[name].escape(params)
      expect(await as[name].token.read.balanceOf([as[name].account])).toBe(before + expected[name])
      await expectRevert(as[name].escape(params), 'AlreadyEscaped')
    }
    // Every quantum that came in went out: withdrawal, reclaim and escapes.
    expect(await as.bob.token.read.balanceOf([deployment.settlement])).toBe(0n)
  })

  it('reads the inbox and the proposals back from events', async () => {
    const items = await as.watcher.inboxItems({ fromBlock: deployment.deployBlock })
    expect(items.map((l) => [Number(l.item.index), l.item.kind])).toEqual([
      [0, InboxKind.Deposit],
      [1, InboxKind.Deposit],
      [2, InboxKind.Deposit],
      [3, InboxKind.Deposit],
      [4, InboxKind.ForcedWithdrawal],
    ])
    expect(items[4]!.item).toEqual(forced)
    const batches = await as.watcher.proposedBatches({ fromBlock: deployment.deployBlock })
    expect(batches.map((b) => [b.header.batchIndex, b.header.epoch])).toEqual([
      [1n, 0n],
      [2n, 0n],
      [3n, 0n],
      [2n, 1n],
    ])
  })
})

function inboxAccumulator(previous: Hex, item: InboxItem): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint8' },
        { type: 'address' },
        { type: 'address' },
        { type: 'uint256' },
        { type: 'uint256' },
        { type: 'uint256' },
      ],
      [previous, item.kind, item.sender, item.account, item.amountQuantums, item.index, item.timestamp],
    ),
  )
}

function expectedPublicValues(header: BatchHeader): Hex {
  return encodeAbiParameters(
    [
      { type: 'uint256' },
      { type: 'address' },
      { type: 'bytes32' },
      { type: 'uint256' },
      { type: 'bytes32' },
      { type: 'bytes32' },
      { type: 'bytes32' },
      { type: 'bytes32' },
      { type: 'uint256' },
      { type: 'bytes32' },
    ],
    [
      chainId,
      deployment.settlement,
      deployment.genesis.configHash,
      header.batchIndex,
      header.prevStateRoot,
      header.stateRoot,
      header.withdrawalsRoot,
      header.dataHash,
      header.inboxConsumed,
      header.inboxAccumulator,
    ],
  )
}

async function escapeParameters(client: SettlementClient) {
  const account = engine.state.accountByAddress(client.account.toLowerCase() as Address)
  if (account === undefined) throw new Error(`no engine account for ${client.account}`)
  const parts = engine.commitment.rootParts()
  const proof = engine.accountProof(account.accountId)
  return {
    ...parts,
    accountId: BigInt(account.accountId),
    escapeEquityQuantums: proof.escapeEquityQuantums,
    accountDataHash: proof.accountDataHash,
    proof: proof.proof,
  }
}
