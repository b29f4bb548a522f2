import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CodecError } from '../../engine/codec/codecError.ts'
import type { SignedEntry } from '../../engine/ops.ts'
import { batchDataArb } from '../../engine/testing/codecArbitraries.ts'
import { SequencerError } from '../errors.ts'
import { sequencerTestConfig } from '../testing/testKeys.ts'
import { OpLog } from './opLog.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sce-oplog-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const config = sequencerTestConfig()
const open = (options: Partial<Parameters<typeof OpLog.open>[0]> = {}) =>
  OpLog.open({ path: join(dir, 'log.db'), config, ...options })

/** Random entries renumbered from `firstSeq` with non-decreasing times; signers are what decoding cannot restore. */
function renumber(entries: SignedEntry[], firstSeq: number, firstTimestampMs: number): SignedEntry[] {
  let t = firstTimestampMs
  return entries.map((e, i) => {
    t += i === 0 ? 0 : (e.seq % 3) * 7
    return { ...e, seq: firstSeq + i, timestampMs: t }
  })
}

describe('OpLog', () => {
  it('returns exactly what was appended, signers included, across groups and reopen', () => {
    fc.assert(
      fc.property(fc.array(batchDataArb({ maxEntries: 12 }), { minLength: 1, maxLength: 6 }), (batches) => {
        rmSync(join(dir, 'log.db'), { force: true })
        rmSync(join(dir, 'log.db-wal'), { force: true })
        rmSync(join(dir, 'log.db-shm'), { force: true })
        const log = open({ durability: 'normal' })
        const all: SignedEntry[] = []
        for (const b of batches) {
          const group = renumber(b.entries, log.lastSeq + 1, Math.max(log.lastTimestampMs, 1_700_000_000_000))
          log.append(group)
          all.push(...group)
        }
        log.close()
        const again = open()
        expect(again.lastSeq).toBe(all.length)
        expect([...again.entries()]).toEqual(all)
        const from = Math.floor(all.length / 2) + 1 // floor: any start inside the log
        expect([...again.entries(from)]).toEqual(all.slice(from - 1))
        again.close()
      }),
      { seed: 0x10e, numRuns: 15 },
    )
  })

  it('refuses a group that does not continue the log, and writes nothing for an unencodable one', () => {
    const log = open()
    const e: SignedEntry = {
      seq: 1,
      timestampMs: 1,
      op: { type: 'timeAdvance' },
      signature: null,
      observationSignatures: [],
    }
    log.append([e])
    expect(() => log.append([{ ...e, seq: 3 }])).toThrow(/SEQ_GAP/)
    expect(() => log.append([{ ...e, seq: 2, timestampMs: 0 }])).toThrow(CodecError)
    const bad: SignedEntry = {
      ...e,
      seq: 2,
      op: {
        type: 'deposit',
        account: '0xABC0000000000000000000000000000000000000',
        amountQuantums: 1n,
        inboxIndex: 0,
      },
    }
    expect(() => log.append([bad])).toThrow(CodecError)
    expect(log.lastSeq).toBe(1)
    expect([...log.entries()]).toHaveLength(1)
    log.close()
  })

  it('will not open a log written under another configuration', () => {
    open().close()
    expect(() => open({ config: sequencerTestConfig({ chainId: 1n }) })).toThrow(/chainId/)
    expect(() => open({ config: sequencerTestConfig({ maxOpenOrdersPerAccount: 7 }) })).toThrow(
      SequencerError,
    )
  })

  it('detects a gap between groups', () => {
    const log = open()
    const e = (seq: number): SignedEntry => ({
      seq,
      timestampMs: 5,
      op: { type: 'timeAdvance' },
      signature: null,
      observationSignatures: [],
    })
    log.append([e(1), e(2)])
    log.append([e(3)])
    log.append([e(4)])
    log.close()
    const db = new Database(join(dir, 'log.db'))
    db.prepare('DELETE FROM log_groups WHERE first_seq = 3').run()
    db.close()
    const reopened = open()
    expect(() => [...reopened.entries()]).toThrow(/gap/)
    reopened.close()
  })

  it('keeps the newest snapshots only', () => {
    const log = open()
    for (const seq of [10, 20, 30])
      log.writeSnapshot(seq, new Uint8Array(32).fill(seq), new Uint8Array([seq]), 2)
    expect(log.snapshots().map((s) => s.seq)).toEqual([30, 20])
    expect(log.readSnapshot(20)?.bytes).toEqual(new Uint8Array([20]))
    expect(log.readSnapshot(10)).toBeNull()
    log.close()
  })
})
