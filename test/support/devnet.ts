import {
  type Address,
  createTestClient,
  type Hex,
  hexToBytes,
  http,
  keccak256,
  parseEther,
  stringToHex,
  toHex,
} from 'viem'
import type { SealedBatch } from '../../engine/batch/sealBatch.ts'
import { packBatchData } from '../../engine/codec/batchEnvelope.ts'
import { encodeBatch } from '../../engine/codec/encodeBatch.ts'
import type { EngineConfig } from '../../engine/config.ts'
import { Engine } from '../../engine/engine.ts'
import type { Op, PriceObservation, SignedEntry, UserOp } from '../../engine/ops.ts'
import { domainSeparator, observationDigest, userOpDigest } from '../../engine/signing/digest.ts'
import { sequencerTestConfig, TEST_ORACLE_KEYS, TestKey } from '../../sequencer/testing/testKeys.ts'
import { type Anvil, startAnvil } from '../../settlement-contracts/ts/anvil.ts'
import {
  type ChainClient,
  connect,
  InboxKind,
  type ProposeBatchParameters,
  type ProposedBatch,
  type SettlementClient,
} from '../../settlement-contracts/ts/client.ts'
import {
  deploySettlement,
  type SettlementBonds,
  type SettlementDeployment,
  type SettlementWindows,
} from '../../settlement-contracts/ts/deploy.ts'
import { genesisOf } from '../../settlement-contracts/ts/genesis.ts'

/**
 * A real anvil with the settlement deployed for a real engine configuration, for the cross-part tests.
 * Roles are anvil's dev accounts: 0 proposer (and deployer), 1..4 users, 5..7 attesters (2-of-3),
 * 8 watcher, 9 a bystander. Users hold 100,000 MockUSDC each. Time moves with `advance`, never by waiting.
 */

export const USDC = 1_000_000n
export const DEVNET_VKEY = keccak256(stringToHex('sce-engine-v1'))
export const DEVNET_WINDOWS: SettlementWindows = {
  challengeSeconds: 3_600,
  proveSeconds: 1_800,
  forcedInclusionSeconds: 86_400,
  livenessSeconds: 7 * 86_400,
  depositReclaimSeconds: 43_200,
}
export const DEVNET_BONDS: SettlementBonds = {
  proposerWei: parseEther('1'),
  challengerWei: parseEther('0.5'),
  forcedWithdrawalFeeWei: parseEther('0.01'),
}

export const Role = { proposer: 0, alice: 1, bob: 2, carol: 3, dave: 4, watcher: 8, bystander: 9 } as const
export type Role = keyof typeof Role
export const USERS = ['alice', 'bob', 'carol', 'dave'] as const
export const ATTESTER_INDICES = [5, 6, 7] as const

export interface Devnet {
  anvil: Anvil
  chainId: bigint
  config: EngineConfig
  deployment: SettlementDeployment
  /** The settlement client signing as each role. */
  as: Record<Role, SettlementClient>
  /** Each role's key (the same key signs L1 transactions and, for users, intents). */
  keys: Record<Role, TestKey>
  attesterKeys: Hex[]
  /** Lowercase L1 (= L2) address of a role. */
  address(role: Role): Address
  /** Moves L1 time forward by `seconds` and mines a block. */
  advance(seconds: number): Promise<void>
  mine(blocks?: number): Promise<void>
  /** The latest block's timestamp in ms. */
  blockTimeMs(): Promise<number>
  /** A fresh client for `role` (its own connection). */
  connect(role: Role): ChainClient
  stop(): Promise<void>
}

export interface StartDevnetOptions {
  windows?: SettlementWindows
  bonds?: SettlementBonds
  /** Overrides for the engine configuration (chain id and settlement address are always the devnet's). */
  config?: Partial<EngineConfig>
}

export async function startDevnet(options: StartDevnetOptions = {}): Promise<Devnet> {
  const anvil = await startAnvil({ accountCount: 10 })
  try {
    const chainId = BigInt(anvil.chainId)
    const clients = anvil.accounts.map((account) =>
      connect({ rpcUrl: anvil.rpcUrl, account, chainId: anvil.chainId }),
    )
    const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
    let config: EngineConfig | undefined
    const deployment = await deploySettlement(clients[0]!, {
      vkey: DEVNET_VKEY,
      attesters: ATTESTER_INDICES.map((i) => anvil.accounts[i]!.address),
      threshold: 2,
      accountTreeDepth: 20,
      windows: options.windows ?? DEVNET_WINDOWS,
      bonds: options.bonds ?? DEVNET_BONDS,
      genesis: (settlement) => {
        config = sequencerTestConfig({
          ...options.config,
          chainId,
          settlementAddress: settlement.toLowerCase() as Address,
          accountTreeDepth: 20,
        })
        return genesisOf(config)
      },
    })
    const as = {} as Record<Role, SettlementClient>
    const keys = {} as Record<Role, TestKey>
    for (const [role, index] of Object.entries(Role) as [Role, number][]) {
      as[role] = deployment.client.as(clients[index]!)
      keys[role] = new TestKey(hexToBytes(anvil.privateKeys[index]!))
    }
    for (const user of USERS) {
      const hash = await as[user].token.write.mint([as[user].account, 100_000n * USDC])
      await clients[0]!.waitForTransactionReceipt({ hash })
    }
    return {
      anvil,
      chainId,
      config: config!,
      deployment,
      as,
      keys,
      attesterKeys: ATTESTER_INDICES.map((i) => anvil.privateKeys[i]!),
      address: (role) => keys[role].address,
      advance: async (seconds) => {
        await testClient.increaseTime({ seconds })
        await testClient.mine({ blocks: 1 })
      },
      mine: async (blocks = 1) => {
        await testClient.mine({ blocks })
      },
      blockTimeMs: async () => Number((await clients[0]!.getBlock()).timestamp) * 1000,
      connect: (role) =>
        connect({ rpcUrl: anvil.rpcUrl, account: anvil.accounts[Role[role]]!, chainId: anvil.chainId }),
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/**
 * A batcher by hand, for tests that need batches on chain without a sequencer node, or batches a
 * sequencer would never post (a lying root, a forged signature, a skipped deposit). It keeps its own
 * engine, signs user ops with the devnet keys and oracle updates with the test oracle keys, and uses
 * L1 block time as sequenced time.
 */
export class ManualBatcher {
  readonly devnet: Devnet
  readonly engine: Engine
  readonly domain: Uint8Array
  #entries: SignedEntry[] = []
  #seq = 0
  #nonceMs = 0
  #batchIndex = 0n

  constructor(devnet: Devnet) {
    this.devnet = devnet
    this.engine = Engine.create(devnet.config)
    this.domain = domainSeparator(devnet.config.chainId, devnet.config.settlementAddress)
  }

  /** Applies `op` at the next seq; `signature` overrides the honest one (to forge). Returns the engine's result. */
  async run(op: Op, options: { signature?: Uint8Array; observationSignatures?: Uint8Array[] } = {}) {
    const timestampMs = Math.max(await this.devnet.blockTimeMs(), this.engine.state.timestampMs)
    const seq = ++this.#seq
    let signature: Uint8Array | null = null
    if (isUserOp(op))
      signature = options.signature ?? this.#keyOf(op.signer).signDigest(userOpDigest(op, this.domain))
    const observationSignatures =
      op.type === 'oracleUpdate'
        ? (options.observationSignatures ??
          op.observations.map((o, i) =>
            TEST_ORACLE_KEYS[i]!.signDigest(observationDigest(op.oracleId, o, this.domain)),
          ))
        : []
    const result = this.engine.apply(op, { seq, timestampMs })
    this.#entries.push({ seq, timestampMs, op, signature, observationSignatures })
    return result
  }

  /** A user op by `role` for its own account, with a fresh nonce. */
  async user(role: Role, op: DistributiveOmit<UserOp, 'account' | 'signer' | 'nonce'>) {
    const address = this.devnet.address(role)
    // Strictly increasing and close to sequenced time, as the nonce window wants.
    const nonce = Math.max(this.#nonceMs + 1, await this.devnet.blockTimeMs())
    this.#nonceMs = nonce
    return this.run({ ...op, account: address, signer: address, nonce } as UserOp)
  }

  /** A price update for `oracleId` signed by the first `threshold` test oracle keys, published now. */
  async price(oracleId: number, priceTicks: number) {
    const publishTimeMs = await this.devnet.blockTimeMs()
    const observations: PriceObservation[] = TEST_ORACLE_KEYS.slice(
      0,
      this.devnet.config.oracle.threshold,
    ).map((k) => ({ signer: k.address, priceTicks, publishTimeMs }))
    return this.run({ type: 'oracleUpdate', oracleId, observations })
  }

  /** Applies the inbox items the engine has not consumed yet, in order. */
  async consumeInbox(): Promise<number> {
    const items = await this.devnet.as.proposer.inboxItems({ fromBlock: this.devnet.deployment.deployBlock })
    let consumed = 0
    for (const { item } of items) {
      if (Number(item.index) < this.engine.state.inboxConsumed) continue
      await this.run({
        type: item.kind === InboxKind.Deposit ? 'deposit' : 'forcedWithdrawal',
        account: item.account.toLowerCase() as Address,
        amountQuantums: item.amountQuantums,
        inboxIndex: Number(item.index),
      })
      consumed++
    }
    return consumed
  }

  /** The entries since the last seal (read-only view). */
  get entries(): readonly SignedEntry[] {
    return this.#entries
  }

  /**
   * Seals the open batch and proposes it as the proposer. `tamper` may change what is posted (a lying
   * root, other data); the engine keeps the honest state either way.
   */
  async propose(
    tamper?: (honest: ProposeBatchParameters, entries: SignedEntry[]) => PostedBatch,
  ): Promise<{ sealed: SealedBatch; posted: PostedBatch; proposed: ProposedBatch }> {
    const proposer = this.devnet.as.proposer
    this.#batchIndex = (await proposer.settlement.read.latestBatchIndex()) + 1n
    const sealed = this.engine.sealBatch(this.#batchIndex)
    const entries = this.#entries
    this.#entries = []
    const honest: ProposeBatchParameters = {
      prevStateRoot: await proposer.settlement.read.latestStateRoot(),
      stateRoot: toHex(sealed.stateRoot),
      withdrawalsRoot: toHex(sealed.withdrawalsRoot),
      inboxConsumed: BigInt(sealed.inboxConsumed),
      batchData: packBatchData(encodeBatch({ version: 1, entries })),
    }
    const posted: PostedBatch = tamper === undefined ? honest : tamper(honest, entries)
    const proposed =
      posted.rawBlobs === undefined
        ? await proposer.proposeBatch(posted)
        : await proposeRawBlobs(proposer, posted)
    return { sealed, posted, proposed }
  }

  #keyOf(address: Address): TestKey {
    for (const role of Object.keys(Role) as Role[]) {
      if (this.devnet.keys[role].address === address) return this.devnet.keys[role]
    }
    throw new Error(`no devnet key for ${address}`)
  }
}

/** What a lying proposer posts: the usual parameters, or blobs made by hand (`rawBlobs`, any content). */
export type PostedBatch = ProposeBatchParameters & { rawBlobs?: Uint8Array[] }

async function proposeRawBlobs(proposer: SettlementClient, posted: PostedBatch): Promise<ProposedBatch> {
  const head = [posted.prevStateRoot, posted.stateRoot, posted.withdrawalsRoot, posted.inboxConsumed] as const
  return proposer.proposed(await proposer.sendProposeBatchBlobs(head, posted.rawBlobs!))
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function isUserOp(op: Op): op is UserOp {
  return (
    op.type !== 'deposit' &&
    op.type !== 'forcedWithdrawal' &&
    op.type !== 'oracleUpdate' &&
    op.type !== 'timeAdvance'
  )
}
