import { Writable } from 'node:stream'
import { pino } from 'pino'
import {
  type Address,
  createTestClient,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  parseEther,
  stringToHex,
} from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DepositOp, ForcedWithdrawalOp } from '../engine/ops.ts'
import {
  InboxReader,
  type InboxReaderError,
  type InboxReaderOptions,
  inboxItemToOp,
  nextInboxAccumulator,
} from '../sequencer/l1/inboxReader.ts'
import { createPromMetrics } from '../sequencer/metrics.ts'
import type { Sequencer } from '../sequencer/sequencer.ts'
import { startTestNode, type TestNode, USDC } from '../sequencer/testing/sequencerHarness.ts'
import { sequencerTestConfig } from '../sequencer/testing/testKeys.ts'
import { type Anvil, startAnvil } from '../settlement-contracts/ts/anvil.ts'
import { type ChainClient, connect, type SettlementClient } from '../settlement-contracts/ts/client.ts'
import { deploySettlement, type SettlementDeployment } from '../settlement-contracts/ts/deploy.ts'
import { settlementAbi } from '../settlement-contracts/ts/generated/abis.ts'
import { genesisOf } from '../settlement-contracts/ts/genesis.ts'

/**
 * The L1 inbox reader against a real anvil and a real sequencer: deposits and forced withdrawal requests
 * reach the engine exactly once, in inbox order, after `confirmations` blocks; shallow reorgs
 * (anvil_reorg, anvil_rollback) neither duplicate nor drop an item; a restart resumes from the
 * sequencer's durable inboxConsumed; a reorg under sequenced items stops the reader. Every test gets its
 * own deployment and sequencer; L1 time moves with evm_increaseTime, never by waiting.
 */

const FORCED_INCLUSION_SECONDS = 86_400
const WINDOWS = {
  challengeSeconds: 3_600,
  proveSeconds: 1_800,
  forcedInclusionSeconds: FORCED_INCLUSION_SECONDS,
  livenessSeconds: 7 * 86_400,
  depositReclaimSeconds: 43_200,
}
const BONDS = {
  proposerWei: parseEther('1'),
  challengerWei: parseEther('0.5'),
  forcedWithdrawalFeeWei: parseEther('0.01'),
}

let anvil: Anvil
let clients: ChainClient[]
let testClient: ReturnType<typeof createTestClient>

beforeAll(async () => {
  anvil = await startAnvil({ accountCount: 6 })
  clients = anvil.accounts.map((account) =>
    connect({ rpcUrl: anvil.rpcUrl, account, chainId: anvil.chainId }),
  )
  testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
}, 60_000)

afterAll(async () => {
  await anvil?.stop()
})

type L1Op = DepositOp | ForcedWithdrawalOp
type Name = 'alice' | 'bob' | 'carol' | 'dave'
const NAMES: readonly Name[] = ['alice', 'bob', 'carol', 'dave']

interface Chain {
  deployment: SettlementDeployment
  node: TestNode
  as: Record<Name, SettlementClient>
  address: Record<Name, Address>
  /** L1 ops the sequencer acknowledged (durable and applied), in acknowledgement order, across restarts. */
  sequenced: L1Op[]
  /** The real sequencer, whichever is open now, with every acknowledged L1 op recorded. */
  sequencer: Pick<Sequencer, 'submitL1' | 'status'>
  reader(options?: Partial<InboxReaderOptions>): InboxReader
  /** The canonical inbox on L1 now, as engine ops. */
  canonical(): Promise<L1Op[]>
}

const opened: TestNode[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((n) => n.dispose()))
})

async function freshChain(): Promise<Chain> {
  const chainId = BigInt(anvil.chainId)
  const configFor = (settlement: Address) =>
    sequencerTestConfig({ chainId, settlementAddress: settlement.toLowerCase() as Address })
  const deployment = await deploySettlement(clients[0]!, {
    vkey: keccak256(stringToHex('sce-engine-v1')),
    attesters: [anvil.accounts[5]!.address],
    threshold: 1,
    accountTreeDepth: sequencerTestConfig().accountTreeDepth,
    windows: WINDOWS,
    bonds: BONDS,
    genesis: (settlement) => genesisOf(configFor(settlement)),
  })
  const node = await startTestNode({ config: configFor(deployment.settlement) })
  opened.push(node)
  const as = {} as Record<Name, SettlementClient>
  const address = {} as Record<Name, Address>
  for (const [i, name] of NAMES.entries()) {
    as[name] = deployment.client.as(clients[i + 1]!)
    address[name] = as[name].account.toLowerCase() as Address
    await mined(as[name].token.write.mint([as[name].account, 1_000_000n * USDC]), as[name])
  }
  const sequenced: L1Op[] = []
  const sequencer: Chain['sequencer'] = {
    async submitL1(op) {
      const result = await node.sequencer.submitL1(op)
      if (result.ok) sequenced.push({ ...op })
      return result
    },
    status: () => node.sequencer.status(),
  }
  return {
    deployment,
    node,
    as,
    address,
    sequenced,
    sequencer,
    reader: (options = {}) =>
      new InboxReader({
        sequencer,
        client: deployment.client,
        fromBlock: deployment.deployBlock,
        ...options,
      }),
    canonical: async () =>
      (await deployment.client.inboxItems({ fromBlock: deployment.deployBlock })).map((l) =>
        inboxItemToOp(l.item),
      ),
  }
}

async function mined(hash: Promise<Hex>, by: SettlementClient): Promise<void> {
  const receipt = await by.client.waitForTransactionReceipt({ hash: await hash })
  if (receipt.status !== 'success') throw new Error(`${receipt.transactionHash} reverted`)
}

const mine = (blocks: number) => testClient.mine({ blocks })
const head = () => clients[0]!.getBlockNumber({ cacheTime: 0 })
const rollback = (depth: number) =>
  testClient.request({ method: 'anvil_rollback', params: [depth] } as never) as Promise<unknown>

/** Replaces the last `depth` blocks with as many new ones holding `txs`, each at its block offset. */
function reorg(depth: number, txs: readonly { from: Address; to: Address; data: Hex; offset: number }[]) {
  const params = txs.map(({ offset, ...tx }) => [tx, offset])
  return testClient.request({ method: 'anvil_reorg', params: [depth, params] } as never) as Promise<unknown>
}

const deposit = (amount: bigint, to: Address): L1Op => ({
  type: 'deposit',
  account: to,
  amountQuantums: amount,
  inboxIndex: -1,
})
const withIndexes = (ops: L1Op[]): L1Op[] => ops.map((op, inboxIndex) => ({ ...op, inboxIndex }))

function logCapture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

describe('InboxReader on anvil', () => {
  it('sequences deposits and a forced withdrawal request in L1 order, exactly once', async () => {
    const c = await freshChain()
    const metrics = createPromMetrics()
    const reader = c.reader({ confirmations: 2, metrics })
    await c.as.alice.deposit(1_000n * USDC, c.as.carol.account) // a deposit for someone else
    await c.as.bob.deposit(500n * USDC, c.as.bob.account)
    await c.as.bob.requestForcedWithdrawal(100n * USDC)
    await c.as.dave.deposit(42n * USDC, c.as.dave.account)
    await mine(2)

    expect(await reader.pollOnce()).toEqual({ submitted: 4 })
    expect(c.sequenced).toEqual([
      { type: 'deposit', account: c.address.carol, amountQuantums: 1_000n * USDC, inboxIndex: 0 },
      { type: 'deposit', account: c.address.bob, amountQuantums: 500n * USDC, inboxIndex: 1 },
      { type: 'forcedWithdrawal', account: c.address.bob, amountQuantums: 100n * USDC, inboxIndex: 2 },
      { type: 'deposit', account: c.address.dave, amountQuantums: 42n * USDC, inboxIndex: 3 },
    ])
    expect(c.sequenced).toEqual(await c.canonical())
    expect((await c.node.sequencer.status()).inboxConsumed).toBe(4)
    expect((await c.node.sequencer.account(c.address.carol))?.collateralQuantums).toBe(1_000n * USDC)
    expect((await c.node.sequencer.account(c.address.bob))?.collateralQuantums).toBe(400n * USDC)
    expect(await c.node.sequencer.account(c.address.alice)).toBeNull()

    // Nothing new: nothing again.
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    await mine(3)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(c.sequenced).toHaveLength(4)
    const gauge = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values[0]!.value
    expect(await gauge('sce_inbox_lag_items')).toBe(0)
    expect(await gauge('sce_inbox_lag_blocks')).toBe(0)
  })

  it('computes the accumulator exactly as the contract does', async () => {
    const c = await freshChain()
    await c.as.alice.deposit(7n * USDC, c.as.bob.account)
    await c.as.carol.requestForcedWithdrawal(3n * USDC)
    let previous: Hex = `0x${'00'.repeat(32)}`
    for (const log of await c.deployment.client.inboxItems({ fromBlock: c.deployment.deployBlock })) {
      const ours = nextInboxAccumulator(previous, log.item)
      expect(ours).toBe(log.accumulator)
      expect(await c.deployment.client.settlement.read.nextInboxAccumulator([previous, log.item])).toBe(ours)
      previous = ours
    }
    expect(await c.deployment.client.settlement.read.inboxAccumulatorAt([2n])).toBe(previous)
  })

  it('survives an anvil_reorg shallower than confirmations: the replaced items, once each', async () => {
    const c = await freshChain()
    const reader = c.reader({ confirmations: 2 })
    const settlement = c.deployment.settlement
    // Allowances for the replacement deposits, well below the reorg.
    await mined(c.as.carol.token.write.approve([settlement, 1_000n * USDC]), c.as.carol)
    await mined(c.as.dave.token.write.approve([settlement, 1_000n * USDC]), c.as.dave)
    await c.as.alice.deposit(100n * USDC, c.as.alice.account)
    await mine(2)
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })

    await mined(c.as.bob.token.write.approve([settlement, 1_000n * USDC]), c.as.bob)
    await mine(3)
    await c.as.bob.deposit(200n * USDC, c.as.bob.account) // index 1, about to be reorganised away
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect((await c.canonical()).map((op) => op.account)).toEqual([c.address.alice, c.address.bob])

    const depositCall = (amount: bigint, to: Address) =>
      encodeFunctionData({ abi: settlementAbi, functionName: 'deposit', args: [amount, to] })
    const before = await head()
    await reorg(2, [
      {
        from: c.as.dave.account,
        to: settlement,
        data: depositCall(300n * USDC, c.as.dave.account),
        offset: 0,
      },
      {
        from: c.as.carol.account,
        to: settlement,
        data: depositCall(400n * USDC, c.as.carol.account),
        offset: 1,
      },
    ])
    expect(await head()).toBe(before)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    await mine(2)
    expect(await reader.pollOnce()).toEqual({ submitted: 2 })

    const expected = withIndexes([
      deposit(100n * USDC, c.address.alice),
      deposit(300n * USDC, c.address.dave),
      deposit(400n * USDC, c.address.carol),
    ])
    expect(await c.canonical()).toEqual(expected)
    expect(c.sequenced).toEqual(expected)
    expect(await c.node.sequencer.account(c.address.bob)).toBeNull()
    expect(reader.fault).toBeNull()
  })

  it('survives an anvil_rollback shallower than confirmations: vanished items are never sequenced', async () => {
    const c = await freshChain()
    const reader = c.reader({ confirmations: 2 })
    await c.as.alice.deposit(100n * USDC, c.as.alice.account)
    await mined(c.as.bob.token.write.approve([c.deployment.settlement, 1_000n * USDC]), c.as.bob)
    await mined(c.as.carol.token.write.approve([c.deployment.settlement, 1_000n * USDC]), c.as.carol)
    await mine(2)
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })

    await c.as.bob.deposit(200n * USDC, c.as.bob.account) // index 1: vanishes
    await c.as.carol.deposit(300n * USDC, c.as.carol.account) // index 2: vanishes
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    await rollback(2)
    expect(await c.canonical()).toEqual(withIndexes([deposit(100n * USDC, c.address.alice)]))
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })

    // Bob sends again, for another amount; carol does not.
    await c.as.bob.deposit(250n * USDC, c.as.bob.account)
    await mine(2)
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })
    const expected = withIndexes([deposit(100n * USDC, c.address.alice), deposit(250n * USDC, c.address.bob)])
    expect(await c.canonical()).toEqual(expected)
    expect(c.sequenced).toEqual(expected)
    expect((await c.node.sequencer.account(c.address.bob))?.collateralQuantums).toBe(250n * USDC)
    expect(await c.node.sequencer.account(c.address.carol)).toBeNull()
    expect(reader.fault).toBeNull()
  })

  it('resumes from the durable inboxConsumed after a sequencer restart, without duplicates', async () => {
    const c = await freshChain()
    for (const name of ['alice', 'bob', 'carol'] as const)
      await c.as[name].deposit(10n * USDC, c.as[name].account)
    await mine(1)
    expect(await c.reader({ confirmations: 1 }).pollOnce()).toEqual({ submitted: 3 })

    await c.as.dave.deposit(20n * USDC, c.as.dave.account)
    await c.as.alice.deposit(30n * USDC, c.as.alice.account)
    await mine(1)
    await c.node.reopen() // close (snapshot) and open again on the same data directory
    expect((await c.node.sequencer.status()).inboxConsumed).toBe(3)
    // A new reader, as after a process restart: no memory but the sequencer's.
    const reader = c.reader({ confirmations: 1 })
    expect(await reader.pollOnce()).toEqual({ submitted: 2 })
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(c.sequenced).toEqual(await c.canonical())
    expect(c.sequenced.map((op) => op.inboxIndex)).toEqual([0, 1, 2, 3, 4])
    expect((await c.node.sequencer.account(c.address.alice))?.collateralQuantums).toBe(40n * USDC)

    // Items another path already submitted (the devnet's direct inbox) are not submitted again.
    await c.as.bob.deposit(5n * USDC, c.as.bob.account)
    await c.as.carol.deposit(6n * USDC, c.as.carol.account)
    await mine(1)
    const [direct] = (await c.canonical()).slice(5)
    expect(await c.node.sequencer.submitL1(direct!)).toMatchObject({ ok: true })
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })
    expect((await c.node.sequencer.status()).inboxConsumed).toBe(7)
    expect((await c.node.sequencer.account(c.address.bob))?.collateralQuantums).toBe(15n * USDC)
  })

  it('retries a refused item on the next poll without skipping, and warns about an ageing forced request', async () => {
    const c = await freshChain()
    const { logger, lines } = logCapture()
    const reader = c.reader({ confirmations: 1, logger })
    await c.as.bob.deposit(50n * USDC, c.as.bob.account)
    await c.as.bob.requestForcedWithdrawal(20n * USDC)
    await mine(1)
    await c.node.sequencer.close() // every submission is now refused CLOSED
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(lines.filter((l) => l.code === 'CLOSED')).toHaveLength(1)
    const warnings = () => lines.filter((l) => l.level === 40 && /forced withdrawal/.test(l.msg))
    expect(warnings()).toEqual([])

    // Just under a quarter of the deadline: no warning yet. Just past it: one, once.
    await testClient.increaseTime({ seconds: FORCED_INCLUSION_SECONDS / 4 - 30 })
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(warnings()).toEqual([])
    await testClient.increaseTime({ seconds: 60 })
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatchObject({ index: 1, account: c.address.bob, deadlineSeconds: 86_400 })

    await c.node.reopen()
    expect(await reader.pollOnce()).toEqual({ submitted: 2 })
    expect(c.sequenced).toEqual(await c.canonical())
    expect(warnings()).toHaveLength(1)
  })

  it('stops with INBOX_REORG_TOO_DEEP when a sequenced item is replaced by a deeper reorg', async () => {
    const c = await freshChain()
    const { logger, lines } = logCapture()
    const faults: InboxReaderError[] = []
    const reader = c.reader({ confirmations: 0, logger, onFault: (e) => faults.push(e) })
    await c.as.alice.deposit(100n * USDC, c.as.alice.account)
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })
    const sequencedAccumulator = await c.deployment.client.settlement.read.inboxAccumulatorAt([1n])

    await rollback(1) // alice's deposit is gone, though the sequencer consumed it
    await c.as.bob.deposit(200n * USDC, c.as.bob.account) // a different item 0
    await c.as.carol.deposit(300n * USDC, c.as.carol.account)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(faults).toHaveLength(1)
    expect(faults[0]!.code).toBe('INBOX_REORG_TOO_DEEP')
    expect(faults[0]!.message).toMatch(/raise `confirmations`/)
    expect(reader.fault).toBe(faults[0])
    const chainAccumulator = await c.deployment.client.settlement.read.inboxAccumulatorAt([1n])
    const fatal = lines.find((l) => l.level === 60)
    expect(fatal).toMatchObject({
      code: 'INBOX_REORG_TOO_DEEP',
      index: 0,
      ours: sequencedAccumulator,
      chain: chainAccumulator,
    })

    // Nothing more, ever: not carol's item 1, not after more blocks.
    await mine(3)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(faults).toHaveLength(1)
    expect(c.sequenced).toEqual(withIndexes([deposit(100n * USDC, c.address.alice)]))
    expect((await c.node.sequencer.status()).inboxConsumed).toBe(1)
  })

  it('stops with INBOX_REORG_TOO_DEEP when sequenced items vanish from L1 altogether', async () => {
    const c = await freshChain()
    const faults: InboxReaderError[] = []
    const reader = c.reader({ confirmations: 0, onFault: (e) => faults.push(e) })
    await c.as.alice.deposit(100n * USDC, c.as.alice.account)
    await c.as.bob.deposit(100n * USDC, c.as.bob.account)
    expect(await reader.pollOnce()).toEqual({ submitted: 2 })
    await rollback(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(faults.map((f) => f.code)).toEqual(['INBOX_REORG_TOO_DEEP'])
    expect(faults[0]!.message).toMatch(/holds 1 items but 2 were sequenced/)
  })

  it('runs on its own timer and stops cleanly', async () => {
    const c = await freshChain()
    const reader = c.reader({ confirmations: 0, pollIntervalMs: 10 })
    await c.as.alice.deposit(1n * USDC, c.as.alice.account)
    reader.start()
    await expect.poll(() => c.sequenced.length, { timeout: 10_000 }).toBe(1)
    await reader.stop()
    expect(c.sequenced).toEqual(await c.canonical())
  })
  it('reads nothing before `confirmations` blocks, across more than one log range', async () => {
    const c = await freshChain()
    const metrics = createPromMetrics()
    const reader = c.reader({ confirmations: 3, metrics })
    // A quiet stretch longer than one of the reader's 2,000-block log ranges (anvil mines small
    // batches much faster than one large one).
    for (let i = 0; i < 21; i++) await mine(100)
    await c.as.alice.deposit(10n * USDC, c.as.alice.account)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 0 })
    expect(c.sequenced).toEqual([])
    await mine(1)
    expect(await reader.pollOnce()).toEqual({ submitted: 1 })
    expect(c.sequenced).toEqual(await c.canonical())
    expect((await metrics.registry.getSingleMetric('sce_inbox_lag_items')!.get()).values[0]!.value).toBe(0)
  })
})
