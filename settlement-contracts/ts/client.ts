import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  type Client,
  ContractFunctionRevertedError,
  createWalletClient,
  decodeErrorResult,
  decodeFunctionData,
  defineChain,
  type GetContractReturnType,
  getContract,
  type Hash,
  type Hex,
  http,
  keccak256,
  type PublicActions,
  parseEventLogs,
  publicActions,
  type TransactionReceipt,
  type Transport,
  toHex,
  type WalletActions,
  type WalletRpcSchema,
} from 'viem'
import { type BlobSource, BlobSourceError, nodeBlobSource } from './blobSource.ts'
import {
  BlobCode,
  BlobError,
  blobSidecarsOf,
  blobsDataHash,
  dataFromVerifiedBlobs,
  toBlobs,
} from './blobs.ts'
import { attestationVerifierAbi, mockUSDCAbi, settlementAbi } from './generated/abis.ts'

/** A signer and a reader on one RPC: what every call here needs. */
export type ChainClient = Client<
  Transport,
  Chain,
  Account,
  WalletRpcSchema,
  WalletActions<Chain, Account> & PublicActions<Transport, Chain, Account>
>

export interface ConnectParameters {
  rpcUrl: string
  account: Account
  chainId: number
  /** How often receipts are polled. anvil mines at once, so the default is short. */
  pollingIntervalMs?: number
}

/** A wallet client with public actions for `account` on `rpcUrl`. */
export function connect(params: ConnectParameters): ChainClient {
  const chain = defineChain({
    id: params.chainId,
    name: `sce-l1-${params.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [params.rpcUrl] } },
  })
  return createWalletClient({
    account: params.account,
    chain,
    transport: http(params.rpcUrl),
    pollingInterval: params.pollingIntervalMs ?? 50,
  }).extend(publicActions)
}

/** `ISettlement.BatchHeader`: what `BatchProposed` carries and what challenge, prove and resolve take back. */
export interface BatchHeader {
  batchIndex: bigint
  epoch: bigint
  prevStateRoot: Hex
  stateRoot: Hex
  withdrawalsRoot: Hex
  dataHash: Hex
  inboxConsumed: bigint
  inboxAccumulator: Hex
  proposedAt: bigint
}

export const InboxKind = { Deposit: 0, ForcedWithdrawal: 1 } as const
export type InboxKind = (typeof InboxKind)[keyof typeof InboxKind]

/** `ISettlement.InboxItem`, as hashed into the inbox accumulator. */
export interface InboxItem {
  kind: InboxKind
  sender: Address
  account: Address
  amountQuantums: bigint
  index: bigint
  timestamp: bigint
}

export interface SentTransaction {
  hash: Hash
  receipt: TransactionReceipt
  gasUsed: bigint
}

export interface ProposedBatch extends SentTransaction {
  header: BatchHeader
  batchHash: Hex
}

export interface AppendedInboxItem extends SentTransaction {
  item: InboxItem
  accumulator: Hex
}

export interface ResolvedBatch extends SentTransaction {
  outcome: 'finalized' | 'reverted'
}

export interface ProposeBatchParameters {
  prevStateRoot: Hex
  stateRoot: Hex
  withdrawalsRoot: Hex
  /** Inbox items consumed in total after the batch. */
  inboxConsumed: bigint
  /** The batch as posted (engine/codec/batchEnvelope packBatchData, or the raw codec). */
  batchData: Uint8Array | Hex
  /**
   * `'blobs'` sends it as EIP-4844 blobs through `proposeBatchBlobs` (docs/protocol.md, "Batch data in
   * blobs"); `'calldata'` (the default) through `proposeBatch`.
   */
  dataMode?: DataMode
}

export type DataMode = 'calldata' | 'blobs'

/**
 * The most batch data one `proposeBatch` should carry: execution clients' transaction pools refuse
 * transactions over 128 KiB (geth's txMaxSize), and the call's own encoding needs a few hundred bytes.
 */
export const MAX_CALLDATA_BATCH_BYTES = 120_000

/**
 * The batch data of a proposal cannot be had, and that is the proposer's doing: the transaction is not a
 * direct proposal, its data does not hash to the header's `dataHash`, or its blobs are not a canonical
 * payload. Nobody can replay such a batch. Other failures (RPC, blob source) are ours, and worth a retry.
 */
export class BatchDataError extends Error {
  override name = 'BatchDataError'
  constructor(
    readonly code: 'NOT_A_PROPOSAL' | 'DATA_HASH_MISMATCH' | 'BLOB_MALFORMED',
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

export interface SettlementClientOptions {
  /** Where blob-posted batch data is read from; the RPC node (anvil's blob methods) by default. */
  blobSource?: BlobSource
}

export interface ClaimWithdrawalParameters {
  batchIndex: bigint
  withdrawalIndex: bigint
  account: Address
  amountQuantums: bigint
  /** 16 siblings, bottom-up (engine/commitment/withdrawalsTree.ts withdrawalProof). */
  proof: readonly (Uint8Array | Hex)[]
}

export interface EscapeParameters {
  /** The parts of the last finalized state root (engine StateCommitment.rootParts). */
  accountsRoot: Uint8Array | Hex
  marketsHash: Uint8Array | Hex
  globalsHash: Uint8Array | Hex
  accountId: bigint
  escapeEquityQuantums: bigint
  accountDataHash: Uint8Array | Hex
  /** ACCOUNT_TREE_DEPTH siblings, bottom-up (Engine.accountProof). */
  proof: readonly (Uint8Array | Hex)[]
}

export interface LogRange {
  fromBlock?: bigint
  toBlock?: bigint
}

export interface ProposedBatchLog {
  header: BatchHeader
  batchHash: Hex
  blockNumber: bigint
  transactionHash: Hash
}

export interface InboxItemLog {
  item: InboxItem
  accumulator: Hex
  blockNumber: bigint
  transactionHash: Hash
}

export type SettlementContract = GetContractReturnType<typeof settlementAbi, ChainClient, Address>
export type TokenContract = GetContractReturnType<typeof mockUSDCAbi, ChainClient, Address>

/** How long a write waits for its receipt before throwing (the transaction may still land). */
export const RECEIPT_TIMEOUT_MS = 60_000

const hex = (x: Uint8Array | Hex): Hex => (typeof x === 'string' ? x : toHex(x))

/** Every custom error a Settlement call can bubble up: its own, the verifier's and the token's. */
const knownErrorsAbi = [...settlementAbi, ...attestationVerifierAbi, ...mockUSDCAbi].filter(
  (x) => x.type === 'error',
)

/**
 * The custom error name of a failed call (`'ChallengeWindowOpen'`, `'NotEnoughSignatures'`, ...), or
 * undefined when the failure is not a known custom error.
 */
export function revertErrorName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined
  if (reverted.data !== undefined) return reverted.data.errorName
  if (reverted.raw === undefined) return undefined
  try {
    return decodeErrorResult({ abi: knownErrorsAbi, data: reverted.raw }).errorName
  } catch {
    return undefined
  }
}

/**
 * The calls the sequencer, the watcher and the tests make on one Settlement deployment, as `client`'s
 * account. Every write waits for its receipt and throws when the transaction reverted.
 */
export class SettlementClient {
  readonly client: ChainClient
  readonly settlementAddress: Address
  readonly tokenAddress: Address
  readonly settlement: SettlementContract
  readonly token: TokenContract
  readonly blobSource: BlobSource

  constructor(
    client: ChainClient,
    addresses: { settlement: Address; token: Address },
    options: SettlementClientOptions = {},
  ) {
    this.client = client
    this.settlementAddress = addresses.settlement
    this.tokenAddress = addresses.token
    this.settlement = getContract({ address: addresses.settlement, abi: settlementAbi, client })
    this.token = getContract({ address: addresses.token, abi: mockUSDCAbi, client })
    this.blobSource = options.blobSource ?? nodeBlobSource(client)
  }

  /** The same deployment, signing as another account. */
  as(client: ChainClient): SettlementClient {
    return new SettlementClient(
      client,
      { settlement: this.settlementAddress, token: this.tokenAddress },
      { blobSource: this.blobSource },
    )
  }

  get account(): Address {
    return this.client.account.address
  }

  async #sent(hash: Hash): Promise<SentTransaction> {
    // Bounded, so a caller stopping (a node on SIGTERM) is never held for viem's 180 s default; a sender
    // that must know the outcome keeps the hash and asks again (`transactionState`).
    const receipt = await this.client.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return { hash, receipt, gasUsed: receipt.gasUsed }
  }

  #inboxItem(sent: SentTransaction): AppendedInboxItem {
    const [log] = parseEventLogs({
      abi: settlementAbi,
      eventName: 'InboxItemAppended',
      logs: sent.receipt.logs,
    })
    if (log === undefined) throw new Error(`no InboxItemAppended in ${sent.hash}`)
    return { ...sent, ...inboxItemOf(log.args) }
  }

  // ---------------------------------------------------------------- inbox

  /** Approves the settlement for `amountQuantums` (when the allowance is short) and deposits for `l2Recipient`. */
  async deposit(amountQuantums: bigint, l2Recipient: Address): Promise<AppendedInboxItem> {
    const allowance = await this.token.read.allowance([this.account, this.settlementAddress])
    if (allowance < amountQuantums) {
      await this.#sent(await this.token.write.approve([this.settlementAddress, amountQuantums]))
    }
    return this.#inboxItem(
      await this.#sent(await this.settlement.write.deposit([amountQuantums, l2Recipient])),
    )
  }

  /** Pays FORCED_WITHDRAWAL_FEE_WEI (read from the contract unless given). */
  async requestForcedWithdrawal(amountQuantums: bigint, feeWei?: bigint): Promise<AppendedInboxItem> {
    const value = feeWei ?? (await this.settlement.read.FORCED_WITHDRAWAL_FEE_WEI())
    return this.#inboxItem(
      await this.#sent(await this.settlement.write.requestForcedWithdrawal([amountQuantums], { value })),
    )
  }

  async reclaimDeposit(item: InboxItem): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.reclaimDeposit([item]))
  }

  // ---------------------------------------------------------------- batches

  /** Proposes with PROPOSER_BOND_WEI (read from the contract unless given); returns the stored header. */
  async proposeBatch(params: ProposeBatchParameters, bondWei?: bigint): Promise<ProposedBatch> {
    return this.proposed(await this.sendProposeBatch(params, bondWei))
  }

  /** Sends `proposeBatch` without waiting: the hash, to be remembered before `proposed(hash)` waits for it. */
  async sendProposeBatch(params: ProposeBatchParameters, bondWei?: bigint): Promise<Hash> {
    const value = bondWei ?? (await this.settlement.read.PROPOSER_BOND_WEI())
    const head = [
      params.prevStateRoot,
      params.stateRoot,
      params.withdrawalsRoot,
      params.inboxConsumed,
    ] as const
    if (params.dataMode === 'blobs') {
      const data = typeof params.batchData === 'string' ? hexToBytes(params.batchData) : params.batchData
      return this.sendProposeBatchBlobs([...head], toBlobs(data), value)
    }
    return this.settlement.write.proposeBatch([...head, hex(params.batchData)], { value })
  }

  /**
   * Sends `proposeBatchBlobs` with `blobs` as they are (`toBlobs` makes them from batch data; anything else
   * is a malformed post, which tests need). KZG commitments and proofs are computed off the main thread.
   */
  async sendProposeBatchBlobs(
    head: readonly [prevStateRoot: Hex, stateRoot: Hex, withdrawalsRoot: Hex, inboxConsumed: bigint],
    blobs: Uint8Array[],
    bondWei?: bigint,
  ): Promise<Hash> {
    const value = bondWei ?? (await this.settlement.read.PROPOSER_BOND_WEI())
    const sidecars = await blobSidecarsOf(blobs)
    // Room for the blob base fee to double a few times before inclusion; only the base fee is charged.
    const maxFeePerBlobGas = 4n * (await this.client.getBlobBaseFee()) + 1_000_000_000n
    return this.settlement.write.proposeBatchBlobs([...head], {
      value,
      blobs: blobs.map((blob) => toHex(blob)),
      blobVersionedHashes: sidecars.versionedHashes,
      sidecars: blobs.map((blob, i) => ({
        blob: toHex(blob),
        commitment: toHex(sidecars.commitments[i]!),
        proof: toHex(sidecars.proofs[i]!),
      })),
      maxFeePerBlobGas,
    })
  }

  /** Waits for a sent `proposeBatch` and returns the header it stored; throws when it reverted. */
  async proposed(hash: Hash): Promise<ProposedBatch> {
    const sent = await this.#sent(hash)
    const [log] = parseEventLogs({ abi: settlementAbi, eventName: 'BatchProposed', logs: sent.receipt.logs })
    if (log === undefined) throw new Error(`no BatchProposed in ${sent.hash}`)
    return { ...sent, header: { ...log.args.header }, batchHash: log.args.batchHash }
  }

  /** Where a sent transaction stands: still pending, mined (successfully or not), or unknown to the node (dropped). */
  async transactionState(hash: Hash): Promise<'pending' | 'success' | 'reverted' | 'unknown'> {
    try {
      const receipt = await this.client.getTransactionReceipt({ hash })
      return receipt.status === 'success' ? 'success' : 'reverted'
    } catch {
      // No receipt: pending, or not known at all.
    }
    try {
      await this.client.getTransaction({ hash })
      return 'pending'
    } catch {
      return 'unknown'
    }
  }

  async challenge(header: BatchHeader, bondWei?: bigint): Promise<SentTransaction> {
    const value = bondWei ?? (await this.settlement.read.CHALLENGER_BOND_WEI())
    return this.#sent(await this.settlement.write.challenge([header], { value }))
  }

  async prove(header: BatchHeader, proof: Uint8Array | Hex): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.prove([header, hex(proof)]))
  }

  async resolve(header: BatchHeader): Promise<ResolvedBatch> {
    const sent = await this.#sent(await this.settlement.write.resolve([header]))
    const reverted = parseEventLogs({
      abi: settlementAbi,
      eventName: 'BatchesReverted',
      logs: sent.receipt.logs,
    })
    return { ...sent, outcome: reverted.length > 0 ? 'reverted' : 'finalized' }
  }

  async reclaimChallengeBond(batchHash: Hex): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.reclaimChallengeBond([batchHash]))
  }

  /** Pays the caller's ETH credit to `recipient` (the caller by default). */
  async claimCredit(recipient?: Address): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.claimCredit([recipient ?? this.account]))
  }

  /** The public values the verifier checks for `header`, built by the contract from storage. */
  async publicValuesOf(header: BatchHeader): Promise<Hex> {
    return this.settlement.read.publicValuesOf([header])
  }

  // ---------------------------------------------------------------- exits

  async claimWithdrawal(params: ClaimWithdrawalParameters): Promise<SentTransaction> {
    return this.#sent(
      await this.settlement.write.withdraw([
        params.batchIndex,
        params.withdrawalIndex,
        params.account,
        params.amountQuantums,
        params.proof.map(hex),
      ]),
    )
  }

  async freezeForForcedWithdrawal(item: InboxItem): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.freezeForForcedWithdrawal([item]))
  }

  async freezeForLiveness(): Promise<SentTransaction> {
    return this.#sent(await this.settlement.write.freezeForLiveness())
  }

  /** Escapes as the caller, whose address must be the leaf's. */
  async escape(params: EscapeParameters): Promise<SentTransaction> {
    return this.#sent(
      await this.settlement.write.escape([
        hex(params.accountsRoot),
        hex(params.marketsHash),
        hex(params.globalsHash),
        params.accountId,
        params.escapeEquityQuantums,
        hex(params.accountDataHash),
        params.proof.map(hex),
      ]),
    )
  }

  // ---------------------------------------------------------------- reading L1

  /** Inbox items in L1 order, from the `InboxItemAppended` events. */
  async inboxItems(range: LogRange = {}): Promise<InboxItemLog[]> {
    const logs = await this.client.getContractEvents({
      address: this.settlementAddress,
      abi: settlementAbi,
      eventName: 'InboxItemAppended',
      fromBlock: range.fromBlock ?? 0n,
      toBlock: range.toBlock ?? 'latest',
      strict: true,
    })
    return logs.map((log) => ({
      ...inboxItemOf(log.args),
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
    }))
  }

  /** Every `BatchProposed` event, reverted batches included; `batchHashOf` says which are live. */
  async proposedBatches(range: LogRange = {}): Promise<ProposedBatchLog[]> {
    const logs = await this.client.getContractEvents({
      address: this.settlementAddress,
      abi: settlementAbi,
      eventName: 'BatchProposed',
      fromBlock: range.fromBlock ?? 0n,
      toBlock: range.toBlock ?? 'latest',
      strict: true,
    })
    return logs.map((log) => ({
      header: { ...log.args.header },
      batchHash: log.args.batchHash,
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
    }))
  }

  /**
   * The batch data of a proposal, read back from L1 (its calldata, or its blobs through `blobSource`) and
   * checked against the header's `dataHash`: what a watcher or an attester replays. Throws
   * `BatchDataError` when the data cannot be had through the proposer's fault; anything else (RPC, blob
   * source) is transient.
   */
  async batchData(proposal: {
    transactionHash: Hash
    header: Pick<BatchHeader, 'dataHash'>
  }): Promise<Uint8Array> {
    const { transactionHash } = proposal
    const expected = proposal.header.dataHash.toLowerCase()
    const tx = await this.client.getTransaction({ hash: transactionHash })
    let call: ReturnType<typeof decodeFunctionData<typeof settlementAbi>>
    try {
      call = decodeFunctionData({ abi: settlementAbi, data: tx.input })
    } catch {
      throw new BatchDataError('NOT_A_PROPOSAL', `${transactionHash} is not a direct proposeBatch call`)
    }
    if (call.functionName === 'proposeBatch') {
      const data = hexToBytes(call.args[4])
      if (keccak256(data) !== expected) {
        throw new BatchDataError(
          'DATA_HASH_MISMATCH',
          `the calldata of ${transactionHash} does not hash to the header's dataHash ${expected}`,
        )
      }
      return data
    }
    if (call.functionName !== 'proposeBatchBlobs') {
      throw new BatchDataError(
        'NOT_A_PROPOSAL',
        `${transactionHash} is a ${call.functionName} call, not a proposal`,
      )
    }
    const versionedHashes = tx.blobVersionedHashes ?? []
    if (versionedHashes.length === 0 || blobsDataHash(versionedHashes) !== expected) {
      throw new BatchDataError(
        'DATA_HASH_MISMATCH',
        `the blobs of ${transactionHash} do not hash to the header's dataHash ${expected}`,
      )
    }
    if (tx.blockNumber === null) throw new Error(`${transactionHash} is not mined yet`)
    const blobs = await this.blobSource.blobs({
      hash: transactionHash,
      blockNumber: tx.blockNumber,
      versionedHashes,
    })
    try {
      return await dataFromVerifiedBlobs(blobs, versionedHashes)
    } catch (error) {
      if (error instanceof BlobError && error.code === BlobCode.MALFORMED) {
        throw new BatchDataError('BLOB_MALFORMED', `the blobs of ${transactionHash}: ${error.message}`)
      }
      // The source served something else than the committed blobs: the source is at fault, not the batch.
      throw new BlobSourceError(`${this.blobSource.name}: ${(error as Error).message}`)
    }
  }
}

function hexToBytes(h: Hex): Uint8Array {
  return new Uint8Array(Buffer.from(h.slice(2), 'hex'))
}

function inboxItemOf(args: {
  index: bigint
  kind: number
  account: Address
  sender: Address
  amountQuantums: bigint
  timestamp: bigint
  accumulator: Hex
}): { item: InboxItem; accumulator: Hex } {
  if (args.kind !== InboxKind.Deposit && args.kind !== InboxKind.ForcedWithdrawal) {
    throw new Error(`unknown inbox kind ${args.kind}`)
  }
  return {
    item: {
      kind: args.kind,
      sender: args.sender,
      account: args.account,
      amountQuantums: args.amountQuantums,
      index: args.index,
      timestamp: args.timestamp,
    },
    accumulator: args.accumulator,
  }
}
