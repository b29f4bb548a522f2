import type { Hash, Hex } from 'viem'
import { versionedHashesOf, versionedHashOf } from './blobs.ts'
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
            'give a beacon node API (--beacon <url>) to read blob-posted batches',
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
 * The beacon slot of an execution block: `(timestamp - genesis) / secondsPerSlot`, which must divide
 * exactly (post-merge blocks start on slot boundaries); otherwise the beacon node is for another chain.
 */
export function slotOfTimestamp(
  timestampSeconds: bigint,
  genesisSeconds: bigint,
  secondsPerSlot: bigint,
): bigint {
  const since = timestampSeconds - genesisSeconds
  if (since < 0n || since % secondsPerSlot !== 0n) {
    throw new BlobSourceError(
      `block time ${timestampSeconds} is not a slot start of a beacon chain that began at ${genesisSeconds} ` +
        `with ${secondsPerSlot}-second slots: is the beacon node on the same network as the RPC node?`,
    )
  }
  return since / secondsPerSlot
}

/**
 * A beacon node's standard API: the block's slot from its timestamp (genesis time and slot length from
 * the node), then `/eth/v1/beacon/blobs/{slot}?versioned_hashes=…` (Fulu and later), or on older nodes
 * `/eth/v1/beacon/blob_sidecars/{slot}`. Blobs are matched to the transaction's versioned hashes by
 * their KZG commitments, so the node's order and extra blobs do not matter.
 */
export function beaconBlobSource(
  beaconUrl: string,
  client: Pick<ChainClient, 'getBlock'>,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): BlobSource {
  const base = beaconUrl.replace(/\/+$/, '')
  const get = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 30_000
  const request = async (path: string): Promise<{ status: number; body: unknown }> => {
    let response: Response
    try {
      response = await get(`${base}${path}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      throw new BlobSourceError(`beacon node ${base} unreachable for ${path}: ${(error as Error).message}`)
    }
    if (!response.ok) return { status: response.status, body: null }
    return { status: response.status, body: await response.json() }
  }
  const json = async (path: string): Promise<unknown> => {
    const { status, body } = await request(path)
    if (body === null) throw new BlobSourceError(`beacon node ${base} answered ${status} for ${path}`)
    return body
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
      const slot = slotOfTimestamp(block.timestamp, genesisSeconds, secondsPerSlot)
      const byHash = new Map<string, string>()
      const query = tx.versionedHashes.map((h) => `versioned_hashes=${h.toLowerCase()}`).join('&')
      const fresh = await request(`/eth/v1/beacon/blobs/${slot}?${query}`)
      if (fresh.body !== null) {
        for (const blob of ((fresh.body as { data?: string[] }).data ?? []).map(hexToBytes)) {
          // A blob that is not even valid matches nothing; the others still count.
          const [hash] = await versionedHashesOf([blob]).catch(() => [undefined])
          if (hash !== undefined) byHash.set(hash, bytesToHex(blob))
        }
      } else if (fresh.status === 404 || fresh.status === 400 || fresh.status === 405) {
        // A node from before Fulu: the sidecars endpoint, with each blob's commitment.
        const answer = (await json(`/eth/v1/beacon/blob_sidecars/${slot}`)) as { data?: BeaconSidecar[] }
        for (const sidecar of answer.data ?? [])
          byHash.set(versionedHashOf(hexToBytes(sidecar.kzg_commitment)), sidecar.blob)
      } else {
        throw new BlobSourceError(
          `beacon node ${base} answered ${fresh.status} for the blobs of slot ${slot}`,
        )
      }
      return tx.versionedHashes.map((hash) => {
        const blob = byHash.get(hash.toLowerCase())
        if (blob === undefined) {
          throw new BlobSourceError(
            `beacon node ${base} has no blob ${hash} of ${tx.hash} at slot ${slot}: blobs are kept about 18 ` +
              'days; older batches need a beacon node that keeps every blob (an archive node)',
          )
        }
        return hexToBytes(blob)
      })
    },
  }
}

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex'))
}

function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
