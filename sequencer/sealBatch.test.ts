import { bytesToHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import {
  attachSigners,
  decodePostedBatch,
  type InboxRecord,
  replayDecodedBatch,
} from '../engine/batch/replayBatch.ts'
import { unpackBatchData } from '../engine/codec/batchEnvelope.ts'
import { Engine } from '../engine/engine.ts'
import { recoverAddress } from '../engine/signing/recoverAddress.ts'
import type { StoredBatch } from './log/opLog.ts'
import { fundAndPrice, startTestNode, type TestNode, USDC } from './testing/sequencerHarness.ts'
import { TestKey } from './testing/testKeys.ts'

/** Sealing inside the sequencer: what a batch holds, and that a restart seals again at the same seqs. */

const KEYS = [1, 2, 3].map((i) => TestKey.fromSeed(0x5ea1 + i))
let node: TestNode | undefined

afterEach(async () => {
  await node?.dispose()
  node = undefined
})

async function trade(n: TestNode, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const ack = await n.sequencer.submit(
      n.signer.place(KEYS[i % 3]!, { priceTicks: 590_000 + i, sizeLots: 1 }),
    )
    expect(ack.ok).toBe(true)
  }
}

/** The batch validity rule a watcher applies: decode, recover every signer, match the inbox, replay, compare. */
function expectReplays(
  config: TestNode['config'],
  batches: readonly StoredBatch[],
  keys: readonly TestKey[] = KEYS,
): void {
  const inbox: InboxRecord[] = keys.map((k, index) => ({
    index,
    kind: 'deposit',
    account: k.address,
    amountQuantums: 1_000_000n * USDC,
  }))
  const replica = Engine.create(config)
  for (const batch of batches) {
    const decoded = decodePostedBatch(replica, batch.data)
    if (!('entries' in decoded)) throw new Error(decoded.detail)
    expect(decoded.entries.length).toBe(batch.lastSeq - batch.firstSeq + 1)
    expect(
      attachSigners(
        decoded,
        decoded.jobs.map((j) => recoverAddress(j.digest, j.signature)),
      ),
    ).toBeNull()
    const claimed = {
      batchIndex: BigInt(batch.batchIndex),
      stateRoot: bytesToHex(batch.stateRoot),
      withdrawalsRoot: bytesToHex(batch.withdrawalsRoot),
      inboxConsumed: BigInt(batch.inboxConsumed),
    }
    const result = replayDecodedBatch(
      replica,
      decoded.entries,
      claimed,
      inbox.slice(replica.state.inboxConsumed),
    )
    expect(result.ok, result.ok ? '' : result.detail).toBe(true)
  }
}

describe('Sequencer.sealBatch', () => {
  it('seals consecutive seq ranges whose posted data replays to the sealed roots', async () => {
    node = await startTestNode({ snapshotOnClose: false, snapshotIntervalOps: 0 })
    await fundAndPrice(node.sequencer, node, KEYS)
    expect(node.sequencer.sealBatch()).not.toBeNull()
    expect(node.sequencer.sealBatch()).toBeNull() // nothing new
    await trade(node, 5)
    const second = node.sequencer.sealBatch()!
    await second.durable
    const [first, stored] = node.sequencer.batches(1)
    expect(first!.lastSeq + 1).toBe(stored!.firstSeq)
    expect(stored!.prevStateRoot).toEqual(first!.stateRoot)

    expectReplays(node.config, [first!, stored!])
  })

  it('re-seals at the same seqs after a restart without a snapshot, to the same roots', async () => {
    node = await startTestNode({ snapshotOnClose: false, snapshotIntervalOps: 0 })
    await fundAndPrice(node.sequencer, node, KEYS)
    await trade(node, 3)
    await node.sequencer.sealBatch()!.durable
    await trade(node, 4)
    await node.sequencer.sealBatch()!.durable
    await trade(node, 2) // the open batch
    const root = (await node.sequencer.status()).stateRoot
    const reopened = await node.reopen()
    expect(reopened.sealedBatches).toBe(2)
    expect(reopened.opsSinceSeal).toBe(2)
    expect((await reopened.status()).stateRoot).toBe(root)
    const third = reopened.sealBatch()!
    expect(third.record.batchIndex).toBe(3)
    expect(third.record.prevStateRoot).toEqual(reopened.batches(2)[0]!.stateRoot)
  })

  it('keeps the seal count in snapshots, so a restart from one does not seal twice', async () => {
    node = await startTestNode({ snapshotOnClose: true })
    await fundAndPrice(node.sequencer, node, KEYS)
    await node.sequencer.sealBatch()!.durable
    const root = (await node.sequencer.status()).stateRoot
    const reopened = await node.reopen() // snapshot on close, after the seal, at the same seq
    expect(reopened.sealedBatches).toBe(1)
    expect(reopened.opsSinceSeal).toBe(0)
    expect((await reopened.status()).stateRoot).toBe(root)
  })
  it('seals by itself before a batch outgrows maxBatchBytes, splitting groups too large alone', async () => {
    const maxBatchBytes = 3_000
    // More than 128 accounts: the batch's address table needs 2-byte indexes where a group's needs 1, and
    // the size bound must hold anyway.
    const keys = Array.from({ length: 150 }, (_, i) => TestKey.fromSeed(0xb17e + i))
    node = await startTestNode({ snapshotOnClose: false, snapshotIntervalOps: 0, maxBatchBytes })
    await fundAndPrice(node.sequencer, node, keys)
    const burst = async (n: TestNode, from: number, count: number) => {
      const acks = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          n.sequencer.submit(
            n.signer.place(keys[(from + i) % keys.length]!, { priceTicks: 580_000 + from + i, sizeLots: 1 }),
          ),
        ),
      )
      for (const ack of acks) expect(ack.ok).toBe(true)
    }
    // What is posted may be deflated; the bound is on the codec bytes inside.
    const codecBytes = (b: StoredBatch) => unpackBatchData(b.data).length
    await burst(node, 0, 400) // about 34 KB of intents, arriving at once
    await node.sequencer.sealBatch()!.durable
    let batches = node.sequencer.batches(1)
    expect(batches.length).toBeGreaterThanOrEqual(6)
    for (const b of batches) expect(codecBytes(b)).toBeLessThanOrEqual(maxBatchBytes)
    for (let i = 1; i < batches.length; i++) expect(batches[i]!.firstSeq).toBe(batches[i - 1]!.lastSeq + 1)
    expect(batches.at(-1)!.lastSeq).toBe((await node.sequencer.status()).seq)
    expectReplays(node.config, batches, keys)

    // After a restart with an open batch, its size is known again: the cap still holds.
    await burst(node, 1_000, 20)
    const reopened = await node.reopen()
    expect(reopened.opsSinceSeal).toBeGreaterThan(0)
    await burst(node, 2_000, 100)
    await reopened.sealBatch()!.durable
    batches = reopened.batches(1)
    for (const b of batches) expect(codecBytes(b)).toBeLessThanOrEqual(maxBatchBytes)
    expectReplays(node.config, batches, keys)
  })

  it('answers every queued intent when it closes in the middle of a burst that needs a seal', async () => {
    node = await startTestNode({ snapshotOnClose: false, snapshotIntervalOps: 0, maxBatchBytes: 2_000 })
    await fundAndPrice(node.sequencer, node, KEYS)
    const answers = Array.from({ length: 300 }, (_, i) =>
      node!.sequencer.submit(node!.signer.place(KEYS[i % 3]!, { priceTicks: 570_000 + i, sizeLots: 1 })),
    )
    const closed = node.sequencer.close()
    const results = await Promise.all(answers)
    await closed // returns: nothing is left waiting for a flush that never comes
    expect(results.length).toBe(300)
    for (const r of results) {
      if (!r.ok) expect(r.code).toBe('CLOSED')
    }
    const reopened = await node.reopen()
    for (const b of reopened.batches(1)) expect(unpackBatchData(b.data).length).toBeLessThanOrEqual(2_000)
  })
})
