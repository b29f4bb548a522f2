import type { Hash, Hex } from 'viem'
import { versionedHashOf } from './blobs.ts'
import type { ChainClient } from './client.ts'

/**
 * Where blob contents come from. Execution nodes keep only the versioned hashes; the blobs themselves
 * live on the consensus layer (a beacon node, about 18 days) or, on a dev chain, in anvil. Sources are not
 * trusted: every blob is checked against its versioned hash before use (blobs.ts dataFromVerifiedBlobs).
 */
export interface BlobSource {
  /** A short description for error messages and logs. */
  readonly name: string
  /** The blobs of one transaction, in the order of `versionedHashes`. */
  blobs(tx: BlobTransaction): Promise<Uint8Array[]>
}

export interface BlobTransaction {
  hash: Hash
  blockNumber: bigint
  versionedHashes: readonly Hex[]
}

export class BlobSourceError extends Error {
  override name = 'BlobSourceError'
}

/**
 * The chain's own RPC node, through `anvil_getBlobsByTransactionHash`: anvil answers it; a production
 * execution node does not, and then the error says to configure a beacon node.
 */
export function nodeBlobSource(client: Pick<ChainClient, 'request'>): BlobSource {
  return {
    name: 'the RPC node (anvil_getBlobsByTransactionHash)',
    async blobs(tx) {
      let answer: unknown
      try {
        answer = await client.request({
          method: 'anvil_getBlobsByTransactionHash',
          params: [tx.hash],
        } as never)
      } catch (error) {
        throw new BlobSourceError(
          `the RPC node cannot serve the blobs of ${tx.hash} (${(error as Error).message.split('\n')[0]}); ` +
            'configure a beacon node URL (beaconUrl) to read blob-posted batches',
        )
      }
      if (!Array.isArray(answer) || !answer.every((b) => typeof b === 'string' && b.startsWith('0x'))) {
        throw new BlobSourceError(`the RPC node answered no blob list for ${tx.hash}`)
      }
      return answer.map((b: string) => new Uint8Array(Buffer.from(b.slice(2), 'hex')))
    },
  }
}

interface BeaconSidecar {
  blob: string
  kzg_commitment: string
}

/**
 * A beacon node's standard API: the block's slot from its timestamp (genesis time and slot length from
 * the node), then `/eth/v1/beacon/blob_sidecars/{slot}`, picking the sidecars whose commitments hash to
 * the transaction's versioned hashes.
 */
export function beaconBlobSource(
  beaconUrl: string,
  client: Pick<ChainClient, 'getBlock'>,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): BlobSource {
  const base = beaconUrl.replace(/\/+$/, '')
  const get = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 30_000
  const json = async (path: string): Promise<unknown> => {
    const response = await get(`${base}${path}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok) {
      throw new BlobSourceError(`beacon node ${base} answered ${response.status} for ${path}`)
    }
    return response.json()
  }
  let timing: Promise<{ genesisSeconds: bigint; secondsPerSlot: bigint }> | undefined
  const slotTiming = () => {
    timing ??= (async () => {
      const genesis = (await json('/eth/v1/beacon/genesis')) as { data?: { genesis_time?: string } }
      const spec = (await json('/eth/v1/config/spec')) as { data?: { SECONDS_PER_SLOT?: string } }
      const genesisTime = genesis.data?.genesis_time
      const secondsPerSlot = spec.data?.SECONDS_PER_SLOT
      if (genesisTime === undefined || secondsPerSlot === undefined || BigInt(secondsPerSlot) <= 0n) {
        throw new BlobSourceError(`beacon node ${base} did not give its genesis time and slot length`)
      }
      return { genesisSeconds: BigInt(genesisTime), secondsPerSlot: BigInt(secondsPerSlot) }
    })()
    timing.catch(() => {
      timing = undefined
    })
    return timing
  }
  return {
    name: `beacon node ${base}`,
    async blobs(tx) {
      const [{ genesisSeconds, secondsPerSlot }, block] = await Promise.all([
        slotTiming(),
        client.getBlock({ blockNumber: tx.blockNumber }),
      ])
      if (block.timestamp < genesisSeconds) {
        throw new BlobSourceError(`block ${tx.blockNumber} is older than the beacon chain's genesis`)
      }
      const slot = (block.timestamp - genesisSeconds) / secondsPerSlot // exact: blocks start on slot boundaries
      const answer = (await json(`/eth/v1/beacon/blob_sidecars/${slot}`)) as { data?: BeaconSidecar[] }
      const byHash = new Map<string, string>()
      for (const sidecar of answer.data ?? []) {
        const commitment = new Uint8Array(Buffer.from(sidecar.kzg_commitment.slice(2), 'hex'))
        byHash.set(versionedHashOf(commitment), sidecar.blob)
      }
      return tx.versionedHashes.map((hash) => {
        const blob = byHash.get(hash.toLowerCase())
        if (blob === undefined) {
          throw new BlobSourceError(
            `beacon node ${base} has no blob ${hash} of ${tx.hash} at slot ${slot} (pruned after about 18 days?)`,
          )
        }
        return new Uint8Array(Buffer.from(blob.slice(2), 'hex'))
      })
    },
  }
}
