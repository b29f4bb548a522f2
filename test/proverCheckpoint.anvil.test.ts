import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChainReplayer, CheckpointError } from '../prover-stub/chainReplayer.ts'
import { limitOrder } from '../sequencer/testing/sequencerHarness.ts'
import type { BatchHeader } from '../settlement-contracts/ts/client.ts'
import { DEVNET_WINDOWS, type Devnet, ManualBatcher, startDevnet, USDC } from './support/devnet.ts'

/**
 * An attester's finalized checkpoint on disk (`--data-dir`): it follows finalization, and after a restart
 * a challenge replays only the batches since, however old the ones before are (blobs are pruned after
 * about 18 days). A directory of another chain, or a damaged one, is refused.
 */

let devnet: Devnet
let b: ManualBatcher
let dir: string
const headers: BatchHeader[] = []

function replayer(checkpointDir = dir): ChainReplayer {
  return new ChainReplayer({
    client: devnet.as.bystander,
    config: devnet.config,
    fromBlock: devnet.deployment.deployBlock,
    checkpointDir,
  })
}

async function batch(priceTicks: number): Promise<void> {
  await b.price(1, priceTicks)
  await b.user('alice', { type: 'placeOrder', order: limitOrder({ priceTicks, sizeLots: 1 }) })
  await b.user('bob', { type: 'placeOrder', order: limitOrder({ side: 1, priceTicks, sizeLots: 1 }) })
  headers.push((await b.propose()).proposed.header)
}

beforeAll(async () => {
  devnet = await startDevnet()
  b = new ManualBatcher(devnet)
  dir = mkdtempSync(join(tmpdir(), 'sce-attester-'))
  await devnet.as.alice.deposit(1_000n * USDC, devnet.address('alice'))
  await devnet.as.bob.deposit(1_000n * USDC, devnet.address('bob'))
  await b.consumeInbox()
  await batch(600_000)
  await batch(600_100)
  await devnet.advance(DEVNET_WINDOWS.challengeSeconds)
  for (const h of headers) expect((await devnet.as.bystander.resolve(h)).outcome).toBe('finalized')
  await batch(600_200) // pending: what a challenge would be about
}, 60_000)

afterAll(async () => {
  await devnet?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe('attester finalized checkpoint', () => {
  it('keeps the newest finalized state on disk, and only when something newer finalized', async () => {
    const first = replayer()
    expect(await first.loadCheckpoint()).toBeNull() // nothing kept yet
    expect(await first.keepFinalized()).toBe(2n)
    expect(first.checkpointBatch).toBe(2n)
    expect(readdirSync(dir).sort()).toEqual(['finalized-2.snapshot', 'finalized.json'])
    expect(await first.keepFinalized()).toBeNull()
  })

  it('keeps a batch it already replayed as an ancestor, without a snapshot of it', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sce-attester-ancestor-'))
    try {
      const r = replayer(other)
      expect((await r.replayTo(3n)).ok).toBe(true) // batch 2 replayed on the way, no snapshot kept of it
      expect(r.cachedBatches().find((c) => c.batchIndex === 2n)?.snapshot).toBe(false)
      expect(await r.keepFinalized()).toBe(2n)
      expect(readdirSync(other).sort()).toEqual(['finalized-2.snapshot', 'finalized.json'])
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  it('after a restart, a challenged batch replays from the checkpoint: older batches are not read', async () => {
    const restarted = replayer()
    expect(await restarted.loadCheckpoint()).toBe(2n)
    const result = await restarted.replayTo(3n)
    expect(
      result.ok,
      JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
    ).toBe(true)
    expect(restarted.stats.batchesReplayed).toBe(1)
    // Without the checkpoint, the same request replays from genesis.
    const fresh = replayer(join(dir, 'none'))
    expect((await fresh.replayTo(3n)).ok).toBe(true)
    expect(fresh.stats.batchesReplayed).toBe(3)
    expect(existsSync(join(dir, 'none'))).toBe(false) // nothing is written without keepFinalized
  })

  it('refuses a directory whose state is not finalized on this settlement, or damaged', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sce-attester-other-'))
    try {
      const file = JSON.parse(readFileSync(join(dir, 'finalized.json'), 'utf8')) as Record<string, string>
      writeFileSync(
        join(other, 'finalized.json'),
        JSON.stringify({ ...file, batchHash: `0x${'ab'.repeat(32)}` }),
      )
      await expect(replayer(other).loadCheckpoint()).rejects.toThrow(/is not finalized on this settlement/)
      writeFileSync(join(other, 'finalized.json'), JSON.stringify({ ...file, batchIndex: '9' }))
      await expect(replayer(other).loadCheckpoint()).rejects.toBeInstanceOf(CheckpointError)
      writeFileSync(join(other, 'finalized.json'), '{"batchIndex": 2')
      await expect(replayer(other).loadCheckpoint()).rejects.toThrow(/finalized.json is unreadable/)
      writeFileSync(join(other, 'finalized.json'), JSON.stringify(file))
      const snapshot = readFileSync(join(dir, file.snapshotFile!))
      writeFileSync(join(other, file.snapshotFile!), snapshot.subarray(0, snapshot.length - 1))
      await expect(replayer(other).loadCheckpoint()).rejects.toThrow(
        /cannot be restored .*: damaged or missing/,
      )
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })
})
