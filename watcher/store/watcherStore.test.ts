import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import type { BatchHeader } from '../../settlement-contracts/ts/client.ts'
import { VerdictFault } from '../replay/batchReplayer.ts'
import { WatcherError } from '../watcherError.ts'
import { type ChainIdentity, WatcherStore } from './watcherStore.ts'

const identity: ChainIdentity = {
  chainId: 31337n,
  settlement: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  configHash: `0x${'ab'.repeat(32)}`,
}
const h = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`

function header(batchIndex: number, epoch: number): BatchHeader {
  return {
    batchIndex: BigInt(batchIndex),
    epoch: BigInt(epoch),
    prevStateRoot: h(1),
    stateRoot: h(2),
    withdrawalsRoot: h(3),
    dataHash: h(4),
    inboxConsumed: 5n,
    inboxAccumulator: h(6),
    proposedAt: 1_767_225_600n,
  }
}

const dirs: string[] = []
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sce-watcher-store-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('WatcherStore', () => {
  it('keeps scan progress, inbox, proposals, verdicts, challenges and checkpoints across a reopen', () => {
    const dir = dataDir()
    const store = WatcherStore.open(dir, identity)
    expect(store.scannedBlock).toBeNull()
    store.recordScan(120n, {
      inbox: [
        {
          index: 0,
          kind: 'deposit',
          account: '0x00000000000000000000000000000000000000a1',
          amountQuantums: 7n,
        },
        {
          index: 1,
          kind: 'forcedWithdrawal',
          account: '0x00000000000000000000000000000000000000a2',
          amountQuantums: 2n ** 63n,
        },
      ],
      proposals: [
        {
          batchIndex: 1,
          batchHash: h(11),
          epoch: 0,
          header: header(1, 0),
          transactionHash: h(21),
          blockNumber: 100n,
          logIndex: 0,
        },
        {
          batchIndex: 2,
          batchHash: h(12),
          epoch: 0,
          header: header(2, 0),
          transactionHash: h(22),
          blockNumber: 101n,
          logIndex: 3,
        },
        // Re-proposed after a revert: the later log at the index is the live one.
        {
          batchIndex: 2,
          batchHash: h(13),
          epoch: 1,
          header: header(2, 1),
          transactionHash: h(23),
          blockNumber: 110n,
          logIndex: 0,
        },
      ],
      challenges: [
        {
          batchHash: h(12),
          batchIndex: 2,
          challenger: '0x00000000000000000000000000000000000000c1',
          ours: true,
          proveDeadline: 99,
          status: 'open',
          blockNumber: 102n,
        },
      ],
      proven: [],
    })
    store.putVerdict({
      batchIndex: 1,
      epoch: 0,
      batchHash: h(11),
      ok: true,
      detail: 'fine',
      ops: 10,
      ms: 1.5,
      stateRoot: h(2),
    })
    store.putVerdict({
      batchIndex: 2,
      epoch: 0,
      batchHash: h(12),
      ok: false,
      fault: VerdictFault.STATE_ROOT_MISMATCH,
      detail: 'state root differs',
      ops: 3,
      ms: 0.5,
      stateRoot: h(9),
    })
    store.putCheckpoint({
      batchIndex: 1,
      batchHash: h(11),
      stateRoot: h(2),
      snapshot: new Uint8Array([1, 2, 3]),
    })
    store.putCheckpoint({ batchIndex: 0, batchHash: h(0), stateRoot: h(5), snapshot: null }) // genesis: not stored
    store.close()

    const again = WatcherStore.open(dir, identity)
    expect(again.scannedBlock).toBe(120n)
    expect(again.inboxLength()).toBe(2)
    expect(again.inboxRange(0, 5)).toEqual([
      {
        index: 0,
        kind: 'deposit',
        account: '0x00000000000000000000000000000000000000a1',
        amountQuantums: 7n,
      },
      {
        index: 1,
        kind: 'forcedWithdrawal',
        account: '0x00000000000000000000000000000000000000a2',
        amountQuantums: 2n ** 63n,
      },
    ])
    expect(again.inboxRange(1, 2)).toHaveLength(1)
    expect(again.latestProposal(2)).toMatchObject({
      batchHash: h(13),
      epoch: 1,
      header: header(2, 1),
      blockNumber: 110n,
    })
    expect(again.proposal(h(12))?.header).toEqual(header(2, 0))
    expect(again.verdict(2, h(12))).toMatchObject({ ok: false, fault: 'STATE_ROOT_MISMATCH', ops: 3 })
    expect(again.verdict(1, h(11))).toEqual({
      batchIndex: 1,
      epoch: 0,
      batchHash: h(11),
      ok: true,
      detail: 'fine',
      ops: 10,
      ms: 1.5,
      stateRoot: h(2),
    })
    expect(again.verdictCounts()).toEqual({ ok: 1, wrong: 1 })
    expect(again.openChallenges()).toMatchObject([{ batchIndex: 2, ours: true, status: 'open' }])
    again.recordScan(130n, { inbox: [], proposals: [], challenges: [], proven: [h(12)] })
    expect(again.openChallenges()).toEqual([])
    expect(again.challenge(h(12))?.status).toBe('proven')
    expect(again.checkpoints()).toEqual([{ batchIndex: 1, batchHash: h(11), stateRoot: h(2), bytes: 3 }])
    expect(Array.from(again.loadCheckpoint(1, h(11))!.snapshot!)).toEqual([1, 2, 3])
    again.deleteCheckpoint(1, h(11))
    expect(again.checkpoints()).toEqual([])
    again.close()
  })

  it('refuses a data directory made for another deployment, naming what differs', () => {
    const dir = dataDir()
    WatcherStore.open(dir, identity).close()
    const other = { ...identity, configHash: `0x${'cd'.repeat(32)}` as Hex }
    expect(() => WatcherStore.open(dir, other)).toThrow(WatcherError)
    expect(() => WatcherStore.open(dir, other)).toThrow(/config_hash 0xabab.*own --data-dir/)
    expect(() => WatcherStore.open(dir, { ...identity, chainId: 1n })).toThrow(/chain_id 31337/)
    WatcherStore.open(dir, {
      ...identity,
      settlement: identity.settlement.toUpperCase().replace('0X', '0x') as Hex,
    }).close()
  })
})
