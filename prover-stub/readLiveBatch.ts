import { type Hash, type Hex, zeroHash } from 'viem'
import type { BatchHeader, SettlementClient } from '../settlement-contracts/ts/client.ts'
import { settlementAbi } from '../settlement-contracts/ts/generated/abis.ts'

export interface LiveBatch {
  header: BatchHeader
  batchHash: Hex
  /** The proposal transaction, whose calldata holds the batch data. */
  transactionHash: Hash
}

/**
 * The live header at `batchIndex` at `blockNumber` (latest when absent), or null when there is none:
 * never proposed, or reverted and not yet proposed again. `batchHashOf` says which header is live;
 * its `BatchProposed` event (indexed by hash) carries the header.
 */
export async function readLiveBatch(
  client: SettlementClient,
  batchIndex: bigint,
  options: { fromBlock?: bigint; blockNumber?: bigint } = {},
): Promise<LiveBatch | null> {
  if (batchIndex < 1n) return null
  const at = options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }
  const batchHash = await client.settlement.read.batchHashOf([batchIndex], at)
  if (batchHash === zeroHash) return null
  const logs = await client.client.getContractEvents({
    address: client.settlementAddress,
    abi: settlementAbi,
    eventName: 'BatchProposed',
    args: { batchIndex, batchHash },
    fromBlock: options.fromBlock ?? 0n,
    toBlock: options.blockNumber ?? 'latest',
    strict: true,
  })
  const log = logs.at(-1)
  if (log === undefined) {
    throw new Error(`batch ${batchIndex} is live as ${batchHash} but no BatchProposed event has that hash`)
  }
  return { header: { ...log.args.header }, batchHash, transactionHash: log.transactionHash }
}
