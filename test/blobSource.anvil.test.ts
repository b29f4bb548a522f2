import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BlobSourceError, beaconBlobSource, nodeBlobSource } from '../settlement-contracts/ts/blobSource.ts'
import { blobSidecarsOf, toBlobs } from '../settlement-contracts/ts/blobs.ts'
import { type ProposedBatchLog, SettlementClient } from '../settlement-contracts/ts/client.ts'
import { type Devnet, startDevnet } from './support/devnet.ts'

/**
 * Reading blob-posted batch data back: from anvil's own blob methods, and from a beacon node's standard
 * API. No beacon node runs on this machine, so the beacon side is a loopback server that answers the
 * three endpoints the source uses from what anvil holds; it can also lie and forget. Every blob is
 * checked against the versioned hashes of the proposing transaction, so a lying source is caught.
 */

let devnet: Devnet
let beacon: Server
let beaconUrl: string
/**
 * How the loopback beacon answers: honestly (Fulu's blobs endpoint), as a node from before Fulu (sidecars
 * only), with another blob under the committed commitment, or not at all.
 */
let beaconMode: 'honest' | 'preFulu' | 'lying' | 'pruned' = 'honest'
const sidecarsBySlot = new Map<bigint, { blob: Hex; kzg_commitment: Hex }[]>()
let genesisSeconds = 0n

const data = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 29 + 3) & 255) // two blobs

async function proposeInBlobs(): Promise<ProposedBatchLog> {
  const proposer = devnet.as.proposer
  const proposed = await proposer.proposeBatch({
    prevStateRoot: await proposer.settlement.read.latestStateRoot(),
    stateRoot: `0x${'ab'.repeat(32)}`,
    withdrawalsRoot: `0x${'cd'.repeat(32)}`,
    inboxConsumed: 0n,
    batchData: data,
    dataMode: 'blobs',
  })
  // The loopback beacon learns the blobs as a beacon node would: by slot, with their commitments.
  const block = await proposer.client.getBlock({ blockNumber: proposed.receipt.blockNumber })
  const blobs = await nodeBlobSource(proposer.client).blobs({
    hash: proposed.hash,
    blockNumber: proposed.receipt.blockNumber,
    versionedHashes: [],
  })
  const { commitments } = await blobSidecarsOf(blobs)
  sidecarsBySlot.set(
    block.timestamp - genesisSeconds,
    blobs.map((blob, i) => ({ blob: toHex(blob), kzg_commitment: toHex(commitments[i]!) })),
  )
  return {
    header: proposed.header,
    batchHash: proposed.batchHash,
    blockNumber: proposed.receipt.blockNumber,
    transactionHash: proposed.hash,
  }
}

function readerWith(source: 'node' | 'beacon'): SettlementClient {
  const bystander = devnet.as.bystander
  const addresses = { settlement: bystander.settlementAddress, token: bystander.tokenAddress }
  return source === 'node'
    ? new SettlementClient(bystander.client, addresses)
    : new SettlementClient(bystander.client, addresses, {
        blobSource: beaconBlobSource(beaconUrl, bystander.client),
      })
}

beforeAll(async () => {
  devnet = await startDevnet()
  genesisSeconds = (await devnet.as.bystander.client.getBlock({ blockNumber: 0n })).timestamp
  beacon = createServer((req, res) => {
    const url = req.url ?? ''
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (url === '/eth/v1/beacon/genesis') return send(200, { data: { genesis_time: `${genesisSeconds}` } })
    if (url === '/eth/v1/config/spec') return send(200, { data: { SECONDS_PER_SLOT: '1' } })
    const blobsAt = /^\/eth\/v1\/beacon\/blobs\/(\d+)\?(.*)$/.exec(url)
    if (blobsAt !== null) {
      if (beaconMode !== 'honest') return send(404, { message: 'not found' })
      // Every blob of the slot, last first, plus one nobody asked for: the source must match by commitment.
      const all = [...(sidecarsBySlot.get(BigInt(blobsAt[1]!)) ?? [])].reverse().map((c) => c.blob)
      return send(200, { data: [toHex(toBlobs(new Uint8Array(3).fill(1))[0]!), ...all] })
    }
    const slot = /^\/eth\/v1\/beacon\/blob_sidecars\/(\d+)$/.exec(url)?.[1]
    if (slot === undefined) return send(404, { message: 'not found' })
    if (beaconMode === 'pruned') return send(200, { data: [] })
    const sidecars = sidecarsBySlot.get(BigInt(slot)) ?? []
    if (beaconMode === 'lying') {
      const other = toHex(toBlobs(new Uint8Array(10).fill(7))[0]!)
      return send(200, { data: sidecars.map((s) => ({ ...s, blob: other })) })
    }
    return send(200, { data: sidecars })
  })
  await new Promise<void>((resolve) => beacon.listen(0, '127.0.0.1', resolve))
  beaconUrl = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}/`
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => beacon?.close(resolve))
  await devnet?.stop()
})

describe('blob-posted batch data', () => {
  it('is read back from the RPC node and from a beacon node, checked against the versioned hashes', async () => {
    const proposal = await proposeInBlobs()
    const tx = await devnet.as.bystander.client.getTransaction({ hash: proposal.transactionHash })
    expect(tx.blobVersionedHashes).toHaveLength(2)
    expect(await readerWith('node').batchData(proposal)).toEqual(data)
    beaconMode = 'honest'
    expect(await readerWith('beacon').batchData(proposal)).toEqual(data)
    beaconMode = 'preFulu'
    expect(await readerWith('beacon').batchData(proposal)).toEqual(data)
    beaconMode = 'honest'
  })

  it('blames the source, not the batch, when a source serves other blobs or none', async () => {
    const proposal = await proposeInBlobs()
    beaconMode = 'lying'
    const lying = await readerWith('beacon')
      .batchData(proposal)
      .catch((e: unknown) => e)
    expect(lying).toBeInstanceOf(BlobSourceError)
    expect((lying as Error).message).toMatch(/blob 0 commits to 0x01.*but the transaction carries/)
    beaconMode = 'pruned'
    const pruned = await readerWith('beacon')
      .batchData(proposal)
      .catch((e: unknown) => e)
    expect(pruned).toBeInstanceOf(BlobSourceError)
    expect((pruned as Error).message).toMatch(
      /has no blob 0x01[0-9a-f]+ of 0x[0-9a-f]+ at slot \d+: blobs are kept about 18 days; .*archive node/,
    )
    beaconMode = 'honest'
    const deadBeacon = new SettlementClient(
      devnet.as.bystander.client,
      { settlement: devnet.as.bystander.settlementAddress, token: devnet.as.bystander.tokenAddress },
      {
        blobSource: beaconBlobSource('http://127.0.0.1:9/', devnet.as.bystander.client, { timeoutMs: 2_000 }),
      },
    )
    const dead = await deadBeacon.batchData(proposal).catch((e: unknown) => e)
    expect(dead).toBeInstanceOf(BlobSourceError)
    expect((dead as Error).message).toMatch(/beacon node http:\/\/127\.0\.0\.1:9 unreachable/)
  })

  it('blames the batch when its transaction is not a proposal or its data does not hash to dataHash', async () => {
    const proposal = await proposeInBlobs()
    const reader = readerWith('node')
    const wrongHash = { ...proposal, header: { ...proposal.header, dataHash: `0x${'00'.repeat(32)}` as Hex } }
    await expect(reader.batchData(wrongHash)).rejects.toMatchObject({ code: 'DATA_HASH_MISMATCH' })
    const deposit = await devnet.as.alice.deposit(1_000_000n, devnet.address('alice'))
    await expect(reader.batchData({ ...proposal, transactionHash: deposit.hash })).rejects.toMatchObject({
      code: 'NOT_A_PROPOSAL',
    })
  })
})
