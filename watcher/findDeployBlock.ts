import type { Address } from 'viem'

/** What the search needs of a client: code at an address as of a block. */
export interface CodeReader {
  getBlockNumber(args?: { cacheTime?: number }): Promise<bigint>
  getCode(args: { address: Address; blockNumber: bigint }): Promise<string | undefined>
}

/**
 * The first block at which `address` has code: where a scan of its events starts. A binary search over
 * `eth_getCode` at past blocks, so the node must serve historic state (an archive node, or anvil).
 * Null when there is no contract at `address` now.
 */
export async function findDeployBlock(client: CodeReader, address: Address): Promise<bigint | null> {
  const hasCode = async (blockNumber: bigint): Promise<boolean> => {
    const code = await client.getCode({ address, blockNumber })
    return code !== undefined && code !== '0x'
  }
  let high = await client.getBlockNumber({ cacheTime: 0 })
  if (!(await hasCode(high))) return null
  let low = 0n
  // INVARIANT: code exists at `high`; none below `low`.
  while (low < high) {
    const mid = (low + high) / 2n // rounds down: `mid < high`, so the loop ends
    if (await hasCode(mid)) high = mid
    else low = mid + 1n
  }
  return high
}
