import {
  type Address,
  createTestClient,
  encodeAbiParameters,
  type Hex,
  http,
  keccak256,
  parseEther,
  stringToHex,
  toHex,
} from 'viem'
import { packBatchData } from '../engine/codec/batchEnvelope.ts'
import { encodeBatch } from '../engine/codec/encodeBatch.ts'
import { withdrawalProof } from '../engine/commitment/withdrawalsTree.ts'
import { Engine } from '../engine/engine.ts'
import {
  type Op,
  OrderKind,
  type PlaceOrderOp,
  SelfTradePrevention,
  Side,
  type SignedEntry,
  TimeInForce,
} from '../engine/ops.ts'
import { engineConfigHash } from '../engine/state/globalsDigest.ts'
import { BTC_PERP, ORACLE_SIGNERS, testConfig } from '../engine/testing/testConfig.ts'
import { type Anvil, startAnvil } from '../settlement-contracts/ts/anvil.ts'
import { signAttestation } from '../settlement-contracts/ts/attestation.ts'
import { blobCountFor, PAYLOAD_BYTES_PER_BLOB } from '../settlement-contracts/ts/blobs.ts'
import {
  type ChainClient,
  connect,
  type DataMode,
  type SettlementClient,
} from '../settlement-contracts/ts/client.ts'
import { deploySettlement } from '../settlement-contracts/ts/deploy.ts'
import { generateWorkload, mulberry32, type WorkloadOp } from './workload.ts'

/**
 * L1 gas of the settlement contracts, from transaction receipts (gasUsed, intrinsic and calldata
 * included) on a fresh anvil with the Prague rules the contracts are compiled for (EIP-7623 calldata
 * floor included). Roots, withdrawal proofs and account proofs come from the engine.
 *
 * l1_gas_per_trade: a batch of BATCH_ENTRIES entries (the node's default batch.maxOps) of the
 * bench/workload.ts mix (70% passive limit orders, 20% cancels, 10% marketable orders) over ACCOUNTS
 * accounts, after a warm-up that brings the book to its steady size, encoded with the engine codec, with
 * 65-byte signatures, packed as the sequencer packs it and posted as the batcher posts it by default: in
 * EIP-4844 blobs through proposeBatchBlobs. Its L1 gas is the receipt's execution gas plus its blob gas,
 * counted one for one although blob gas has its own, separate fee market; both parts print on their own.
 * Its fills are counted by replaying it through Engine.apply. Peers in the same run: the same batch as
 * calldata (proposeBatch), and the same entries as Solidity abi.encode calldata, the layout a
 * contract-first design would use.
 */

const QUICK = process.env.BENCH_QUICK === '1'
/** The codec's reference batch size (docs/protocol.md, "Batch codec: Size"). */
const BATCH_ENTRIES = 1000
const SMALL_BATCH_ENTRIES = 250
const WARMUP_OPS = QUICK ? 5_000 : 120_000
/** 50 market makers and 200 traders, as in the codec bench. */
const ACCOUNTS = 250
const RUNS = 3
const USDC = 1_000_000n
const START_MS = 1_760_000_000_000
const MID_TICKS = 1_000_000
const VKEY = keccak256(stringToHex('sce-engine-v1'))
const WINDOWS = {
  challengeSeconds: 3_600,
  proveSeconds: 1_800,
  forcedInclusionSeconds: 86_400,
  livenessSeconds: 7 * 86_400,
  depositReclaimSeconds: 43_200,
}
const BONDS = {
  proposerWei: parseEther('0.1'),
  challengerWei: parseEther('0.05'),
  forcedWithdrawalFeeWei: 0n,
}

function median(xs: readonly bigint[]): bigint {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return s[s.length >> 1]!
}

function calldataCounts(bytes: Uint8Array): { zero: number; nonZero: number } {
  let zero = 0
  for (const b of bytes) if (b === 0) zero++
  return { zero, nonZero: bytes.length - zero }
}

// ---------------------------------------------------------------------------------------------------
// The workload batch.

interface FlowBatch {
  entries: SignedEntry[]
  fills: number
  rejected: number
}

function flowAddress(i: number): Address {
  // Address bytes as random as real ones: they are most of the address table's calldata.
  const next = mulberry32(0x5ce + i)
  let hex = ''
  for (let k = 0; k < 5; k++) hex += next().toString(16).padStart(8, '0')
  return `0x${hex}` as Address
}

/**
 * Replays WARMUP_OPS workload ops into an engine, then the next `BATCH_ENTRIES` as the batch, counting
 * fills. Orders carry the workload id as client order id, so cancels can name them.
 */
function buildFlowBatch(): FlowBatch {
  const config = testConfig({
    markets: [{ ...BTC_PERP, maxOrderLots: 10_000_000 }],
    maxOpenOrdersPerAccount: 2_000,
  })
  const engine = Engine.create(config)
  const addresses = Array.from({ length: ACCOUNTS + 1 }, (_, i) => flowAddress(i))
  const owner = new Map<number, number>()
  let seq = 0
  let nowMs = START_MS
  const run = (op: Op) => engine.apply(op, { seq: ++seq, timestampMs: nowMs })
  for (let i = 1; i <= ACCOUNTS; i++) {
    run({ type: 'deposit', account: addresses[i]!, amountQuantums: 10_000_000n * USDC, inboxIndex: i - 1 })
  }
  run({
    type: 'oracleUpdate',
    oracleId: BTC_PERP.oracleId,
    observations: ORACLE_SIGNERS.slice(0, 2).map((signer) => ({
      signer,
      priceTicks: MID_TICKS,
      publishTimeMs: nowMs,
    })),
  })

  const workload = generateWorkload(7, WARMUP_OPS + BATCH_ENTRIES, {
    accounts: ACCOUNTS,
    startMidTicks: MID_TICKS,
  })
  const toOp = (w: WorkloadOp): Op => {
    if (w.type === 'cancel') {
      const account = addresses[owner.get(w.orderId)!]!
      return {
        type: 'cancelOrder',
        account,
        signer: account,
        nonce: nowMs - 50,
        marketId: 0,
        orderId: 0,
        clientOrderId: BigInt(w.orderId),
      }
    }
    owner.set(w.orderId, w.accountId)
    const account = addresses[w.accountId]!
    const limit = w.type === 'limit'
    const op: PlaceOrderOp = {
      type: 'placeOrder',
      account,
      signer: account,
      nonce: nowMs - 50,
      order: {
        marketId: 0,
        side: w.side,
        kind: limit ? OrderKind.Limit : OrderKind.Market,
        tif: limit ? TimeInForce.GTC : TimeInForce.IOC,
        priceTicks: limit ? w.priceTicks : w.side === Side.Buy ? MID_TICKS * 2 : 1,
        sizeLots: w.sizeLots,
        triggerPriceTicks: 0,
        reduceOnly: false,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: limit ? BigInt(w.orderId) : 0n,
        expiresAtMs: 0,
      },
    }
    return op
  }
  for (let i = 0; i < WARMUP_OPS; i++) {
    nowMs += 1 + (i % 3)
    run(toOp(workload.ops[i]!))
  }

  const random = mulberry32(99)
  const signature = (): Uint8Array => {
    const s = new Uint8Array(65)
    for (let k = 0; k < 64; k += 4) new DataView(s.buffer).setUint32(k, random())
    s[64] = 27 + (random() & 1)
    return s
  }
  const entries: SignedEntry[] = []
  let fills = 0
  let rejected = 0
  for (let i = WARMUP_OPS; i < WARMUP_OPS + BATCH_ENTRIES; i++) {
    nowMs += 1 + (i % 3)
    const op = toOp(workload.ops[i]!)
    const r = run(op)
    if (!r.result.ok) rejected++
    for (const e of r.events) if (e.type === 'fill') fills++
    entries.push({ seq, timestampMs: nowMs, op, signature: signature(), observationSignatures: [] })
  }
  return { entries, fills, rejected }
}

const ENTRY_ABI = [
  {
    type: 'tuple[]',
    components: [
      { name: 'seq', type: 'uint64' },
      { name: 'timestampMs', type: 'uint64' },
      { name: 'kind', type: 'uint8' },
      { name: 'account', type: 'address' },
      { name: 'nonce', type: 'uint64' },
      { name: 'marketId', type: 'uint32' },
      { name: 'flags', type: 'uint8' },
      { name: 'priceTicks', type: 'uint64' },
      { name: 'sizeLots', type: 'uint64' },
      { name: 'clientOrderId', type: 'uint64' },
      { name: 'signature', type: 'bytes' },
    ],
  },
] as const

/** The peer layout: one ABI tuple per entry, place orders and cancels alike. */
function abiEncodeEntries(entries: readonly SignedEntry[]): Hex {
  return encodeAbiParameters(ENTRY_ABI, [
    entries.map((e) => {
      const op = e.op
      if (op.type !== 'placeOrder' && op.type !== 'cancelOrder') throw new Error(`unexpected ${op.type}`)
      const place = op.type === 'placeOrder' ? op.order : undefined
      return {
        seq: BigInt(e.seq),
        timestampMs: BigInt(e.timestampMs),
        kind: op.type === 'placeOrder' ? 0 : 1,
        account: op.account,
        nonce: BigInt(op.nonce),
        marketId: place?.marketId ?? (op.type === 'cancelOrder' ? op.marketId : 0),
        flags: place === undefined ? 0 : place.side | (place.kind << 1) | (place.tif << 4),
        priceTicks: BigInt(place?.priceTicks ?? 0),
        sizeLots: BigInt(place?.sizeLots ?? 0),
        clientOrderId: place?.clientOrderId ?? (op.type === 'cancelOrder' ? op.clientOrderId : 0n),
        signature: toHex(e.signature!),
      }
    }),
  ])
}

// ---------------------------------------------------------------------------------------------------
// The chain.

interface Chain {
  anvil: Anvil
  clients: ChainClient[]
  proposer: SettlementClient
  engine: Engine
  advance: (seconds: number) => Promise<void>
}

async function setUp(hardfork = 'prague'): Promise<Chain> {
  const anvil = await startAnvil({ accountCount: 10, hardfork })
  const clients = anvil.accounts.map((account) =>
    connect({ rpcUrl: anvil.rpcUrl, account, chainId: anvil.chainId }),
  )
  const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
  let engine: Engine | undefined
  const deployment = await deploySettlement(clients[0]!, {
    vkey: VKEY,
    attesters: anvil.accounts.slice(5, 8).map((a) => a.address),
    threshold: 2,
    accountTreeDepth: 24,
    windows: WINDOWS,
    bonds: BONDS,
    genesis: (settlement) => {
      const config = testConfig({
        chainId: BigInt(anvil.chainId),
        settlementAddress: settlement.toLowerCase() as Address,
      })
      engine = Engine.create(config)
      return { stateRoot: toHex(engine.root()), configHash: toHex(engineConfigHash(config)) }
    },
  })
  return {
    anvil,
    clients,
    proposer: deployment.client,
    engine: engine!,
    advance: async (seconds) => {
      await testClient.increaseTime({ seconds })
      await testClient.mine({ blocks: 1 })
    },
  }
}

/**
 * Proposes `data` on top of the latest root, with a made-up new root: the contract only hashes the data
 * (or the blobs' versioned hashes). Returns the execution gas.
 */
async function proposeGas(chain: Chain, data: Uint8Array | Hex, salt: number): Promise<bigint> {
  return (await proposeGasParts(chain, data, salt, 'calldata')).executionGas
}

async function proposeGasParts(
  chain: Chain,
  data: Uint8Array | Hex,
  salt: number,
  dataMode: DataMode,
): Promise<{ executionGas: bigint; blobGas: bigint }> {
  const s = chain.proposer.settlement
  const { gasUsed, receipt } = await chain.proposer.proposeBatch(
    {
      prevStateRoot: await s.read.latestStateRoot(),
      stateRoot: keccak256(stringToHex(`root ${salt}`)),
      withdrawalsRoot: keccak256(stringToHex(`withdrawals ${salt}`)),
      inboxConsumed: await s.read.proposedInboxConsumed(),
      batchData: data,
      dataMode,
    },
    BONDS.proposerWei,
  )
  return { executionGas: gasUsed, blobGas: receipt.blobGasUsed ?? 0n }
}

export async function run(): Promise<void> {
  const flow = buildFlowBatch()
  const chain = await setUp()
  try {
    await measure(chain, flow)
  } finally {
    await chain.anvil.stop()
  }
  // The same batch as calldata before EIP-7623 (Cancun rules): how much of that is the calldata floor.
  const cancun = await setUp('cancun')
  try {
    const gas = await proposeGas(cancun, encodeBatch({ version: 1, entries: flow.entries }), 0)
    console.log(`BENCH l1_gas_per_trade_calldata_cancun_rules ${Math.round(Number(gas) / flow.fills)} gas`)
  } finally {
    await cancun.anvil.stop()
  }
}

async function measure(chain: Chain, flow: FlowBatch): Promise<void> {
  const { clients, engine, proposer } = chain
  const users = [1, 2, 3, 4, 8, 9].map((i) => proposer.as(clients[i]!))
  const lower = (a: Address) => a.toLowerCase() as Address

  // Batch 1, built by the engine: six deposits, six withdrawals.
  for (const user of users) {
    await chain.clients[0]!.waitForTransactionReceipt({
      hash: await user.token.write.mint([user.account, 1_000_000n * USDC]),
    })
    await user.deposit(10_000n * USDC, user.account)
  }
  let seq = 0
  const nowMs = Number((await clients[0]!.getBlock()).timestamp) * 1000
  for (const { item } of await proposer.inboxItems()) {
    engine.apply(
      {
        type: 'deposit',
        account: lower(item.account),
        amountQuantums: item.amountQuantums,
        inboxIndex: Number(item.index),
      },
      { seq: ++seq, timestampMs: nowMs },
    )
  }
  for (const user of users) {
    const account = lower(user.account)
    const r = engine.apply(
      { type: 'withdraw', account, signer: account, nonce: nowMs - seq, amountQuantums: 1_000n * USDC },
      { seq: ++seq, timestampMs: nowMs },
    )
    if (!r.result.ok) throw new Error(`withdraw rejected: ${JSON.stringify(r.result)}`)
  }
  const sealed = engine.sealBatch(1n)
  const batch1 = await proposer.proposeBatch({
    prevStateRoot: await proposer.settlement.read.latestStateRoot(),
    stateRoot: toHex(sealed.stateRoot),
    withdrawalsRoot: toHex(sealed.withdrawalsRoot),
    inboxConsumed: BigInt(sealed.inboxConsumed),
    batchData: encodeBatch({ version: 1, entries: [] }),
  })

  // Challenge and prove with 2 of the 3 attesters.
  const watcher = proposer.as(clients[6]!)
  const prover = proposer.as(clients[7]!)
  await watcher.challenge(batch1.header)
  const publicValues = await prover.publicValuesOf(batch1.header)
  const proof = await signAttestation(
    [chain.anvil.privateKeys[5]!, chain.anvil.privateKeys[7]!],
    VKEY,
    publicValues,
  )
  const prove = await prover.prove(batch1.header, proof)
  console.log(`BENCH gas_prove_attestation ${prove.gasUsed} gas`)
  await prover.resolve(batch1.header)

  // Withdrawals: the first claim of a batch opens its spent-bitmap word; the others share it.
  const claims: bigint[] = []
  for (let k = 0; k < sealed.withdrawals.length; k++) {
    const w = sealed.withdrawals[k]!
    const { gasUsed } = await users[0]!.claimWithdrawal({
      batchIndex: 1n,
      withdrawalIndex: BigInt(k),
      account: w.account,
      amountQuantums: w.amountQuantums,
      proof: withdrawalProof(sealed.withdrawalLeaves, k),
    })
    claims.push(gasUsed)
  }
  console.log(`BENCH gas_withdraw ${claims[0]} gas`)
  console.log(`BENCH gas_withdraw_same_word ${median(claims.slice(1))} gas`)

  // Proposals: an empty batch, then the workload batch at two sizes for the slope.
  const base: bigint[] = []
  const empty = encodeBatch({ version: 1, entries: [] })
  for (let r = 0; r < RUNS; r++) base.push(await proposeGas(chain, empty, r))
  console.log(`BENCH gas_propose_base ${median(base)} gas`)

  const small = encodeBatch({ version: 1, entries: flow.entries.slice(0, SMALL_BATCH_ENTRIES) })
  const full = encodeBatch({ version: 1, entries: flow.entries })
  const smallGas: bigint[] = []
  const fullGas: bigint[] = []
  const peerGas: bigint[] = []
  const peer = abiEncodeEntries(flow.entries)
  for (let r = 0; r < RUNS; r++) {
    smallGas.push(await proposeGas(chain, small, 100 + r))
    fullGas.push(await proposeGas(chain, full, 200 + r))
    peerGas.push(await proposeGas(chain, peer, 300 + r))
  }
  const perKb = ((median(fullGas) - median(smallGas)) * 1024n) / BigInt(full.length - small.length) // floor
  console.log(`BENCH gas_propose_per_kb ${perKb} gas`)

  const { zero, nonZero } = calldataCounts(full)
  // Calldata pricing: 4/16 gas per zero/non-zero byte, or under EIP-7623 a floor of 10/40 when larger.
  const standard = 4 * zero + 16 * nonZero
  console.log(
    `# batch of ${flow.entries.length} entries: ${full.length} bytes (${nonZero} non-zero), ${flow.fills} fills, ` +
      `${flow.rejected} rejected; calldata ${standard} gas at 4/16, ${standard * 2.5} at the EIP-7623 floor`,
  )

  // As the batcher posts it: packed (raw or deflate, whichever is smaller), in blobs.
  const packed = packBatchData(full)
  const blobExecution: bigint[] = []
  const blobGas: bigint[] = []
  const blobBase: bigint[] = []
  for (let r = 0; r < RUNS; r++) {
    const parts = await proposeGasParts(chain, packed, 400 + r, 'blobs')
    blobExecution.push(parts.executionGas)
    blobGas.push(parts.blobGas)
    blobBase.push((await proposeGasParts(chain, packBatchData(empty), 500 + r, 'blobs')).executionGas)
  }
  console.log(`BENCH gas_propose_blobs_base ${median(blobBase)} gas`)
  console.log(
    `# posted: ${packed.length} bytes packed in ${blobCountFor(packed.length)} blob(s) of ${PAYLOAD_BYTES_PER_BLOB} payload bytes`,
  )
  const executionPerTrade = Number(median(blobExecution)) / flow.fills
  const blobPerTrade = Number(median(blobGas)) / flow.fills
  const perTrade = executionPerTrade + blobPerTrade
  const calldataPerTrade = Number(median(fullGas)) / flow.fills
  const peerPerTrade = Number(median(peerGas)) / flow.fills
  console.log(`BENCH l1_gas_per_trade ${Math.round(perTrade)} gas`)
  console.log(`BENCH l1_execution_gas_per_trade ${Math.round(executionPerTrade)} gas`)
  console.log(`BENCH l1_blob_gas_per_trade ${Math.round(blobPerTrade)} gas`)
  console.log(`BENCH l1_gas_per_trade_calldata ${Math.round(calldataPerTrade)} gas`)
  console.log(`BENCH l1_gas_per_trade_abi_encode ${Math.round(peerPerTrade)} gas`)
  console.log(`RATIO l1_gas_per_trade_vs_calldata ${(perTrade / calldataPerTrade).toFixed(2)}`)
  console.log(`RATIO l1_gas_per_trade_vs_abi_encode ${(perTrade / peerPerTrade).toFixed(2)}`)
  // Loopring's published figure (about 450 gas per trade) is not measured here; see docs/contracts.md.
  console.log(`RATIO l1_gas_per_trade_vs_loopring_published_450 ${(perTrade / 450).toFixed(2)}`)

  // Freeze, then escape against batch 1's root with the engine's account proof.
  await chain.advance(WINDOWS.livenessSeconds)
  await watcher.freezeForLiveness()
  const parts = engine.commitment.rootParts()
  const escapes: bigint[] = []
  for (const user of users) {
    const account = engine.state.accountByAddress(lower(user.account))!
    const p = engine.accountProof(account.accountId)
    const { gasUsed } = await user.escape({
      ...parts,
      accountId: BigInt(account.accountId),
      escapeEquityQuantums: p.escapeEquityQuantums,
      accountDataHash: p.accountDataHash,
      proof: p.proof,
    })
    escapes.push(gasUsed)
  }
  console.log(`BENCH gas_escape ${escapes[0]} gas`)
  console.log(`BENCH gas_escape_same_word ${median(escapes.slice(1))} gas`)
}
