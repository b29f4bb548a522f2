import type Database from 'better-sqlite3'
import { bytesToHex, type Hex } from 'viem'
import { decodeBatch } from '../../engine/codec/decodeBatch.ts'
import { encodeBatch } from '../../engine/codec/encodeBatch.ts'
import type { EngineConfig } from '../../engine/config.ts'
import type { SignedEntry } from '../../engine/ops.ts'
import { snapshotConfigHash } from '../../engine/snapshot/snapshotFormat.ts'
import { SequencerError, SequencerErrorCode } from '../errors.ts'
import { applySigners, packSigners } from './entrySigners.ts'
import {
  type BatchRecord,
  type BatchStatus,
  type Durability,
  type EncodedGroup,
  LogTables,
  openLogDatabase,
} from './logDatabase.ts'

export type { BatchRecord, BatchStatus, Durability, EncodedGroup }

/**
 * The write-ahead log of sequenced entries and the engine snapshots, in one SQLite file (WAL journal).
 *
 * INVARIANT: `log_groups` rows tile the seqs 1..lastSeq without gap or overlap, in order; a row is one
 * group commit, stored as the batch codec's encoding of its entries (docs/protocol.md, "Batch codec")
 * plus the recovered signers (log/entrySigners.ts). What is in a committed row is what the batcher
 * posts; what is not was never acknowledged.
 */

export const LOG_FORMAT = '1'

export interface OpLogOptions {
  path: string
  config: EngineConfig
  durability?: Durability
  readonly?: boolean
}

export interface SnapshotInfo {
  seq: number
  root: Hex
  /** Batches sealed when the snapshot was taken: the state after the seal of batch `sealedBatches`, if it ended at `seq`. */
  sealedBatches: number
}

export interface StoredBatch extends BatchRecord {
  status: BatchStatus
  txHash: Hex | null
}

export interface StoredSnapshot extends SnapshotInfo {
  bytes: Uint8Array
}

/**
 * Encodes entries that continue a log ending at `lastSeq` and `lastTimestampMs`; null for none.
 * Throws CodecError when an entry cannot be encoded or does not continue the log.
 */
export function encodeGroup(
  entries: readonly SignedEntry[],
  lastSeq: number,
  lastTimestampMs: number,
): EncodedGroup | null {
  const first = entries[0]
  if (first === undefined) return null
  const batch = encodeBatch(
    { version: 1, entries: entries as SignedEntry[] },
    { expectedFirstSeq: lastSeq + 1, minFirstTimestampMs: lastTimestampMs },
  )
  const last = entries[entries.length - 1]!
  return {
    firstSeq: first.seq,
    lastSeq: last.seq,
    lastTimestampMs: last.timestampMs,
    batch,
    signers: packSigners(entries),
  }
}

type GroupRow = [firstSeq: number, lastSeq: number, batch: Uint8Array, signers: Uint8Array]

export class OpLog {
  readonly path: string
  readonly #db: Database.Database
  readonly #tables: LogTables
  #lastTimestampMs: number

  private constructor(db: Database.Database, path: string) {
    this.#db = db
    this.path = path
    this.#tables = new LogTables(db)
    const last = db.prepare('SELECT batch FROM log_groups ORDER BY first_seq DESC LIMIT 1').raw().get() as
      | [Uint8Array]
      | undefined
    const lastEntries = last === undefined ? [] : decodeBatch(plainBytes(last[0])).entries
    this.#lastTimestampMs = lastEntries.at(-1)?.timestampMs ?? 0
  }

  /** Opens or creates the log; throws CONFIG_MISMATCH when it was written under another engine configuration. */
  static open(options: OpLogOptions): OpLog {
    const readonly = options.readonly === true
    const db = openLogDatabase(options.path, { readonly, durability: options.durability ?? 'full' })
    try {
      checkIdentity(db, options.config, readonly)
      return new OpLog(db, options.path)
    } catch (error) {
      db.close()
      throw error
    }
  }

  /** Seq of the last durable entry; 0 for an empty log. */
  get lastSeq(): number {
    return this.#tables.lastSeq
  }

  get lastTimestampMs(): number {
    return this.#lastTimestampMs
  }

  /**
   * Encodes and commits one group: consecutive seqs starting at lastSeq + 1. Durable (per the
   * durability setting) when this returns. Throws CodecError (nothing written) when an entry cannot be
   * encoded, and SqliteError when the write fails.
   */
  append(entries: readonly SignedEntry[]): void {
    const group = encodeGroup(entries, this.lastSeq, this.#lastTimestampMs)
    if (group !== null) this.appendEncoded(group)
  }

  /** Commits a group encoded by `encodeGroup` (possibly on another thread). */
  appendEncoded(group: EncodedGroup): void {
    this.#tables.insertGroup(group)
    this.#lastTimestampMs = group.lastTimestampMs
  }

  /**
   * Every entry with seq ≥ `fromSeq`, in order, signers filled in. Throws LOG_CORRUPT on a gap, a
   * group that does not decode, or signers that do not fit.
   */
  *entries(fromSeq = 1): Generator<SignedEntry> {
    for (const group of this.#groups(fromSeq)) for (const e of group) if (e.seq >= fromSeq) yield e
  }

  /** `entries` as a callback loop: the replay path, without a generator step per entry. */
  forEachEntry(fromSeq: number, visit: (entry: SignedEntry) => void): void {
    for (const group of this.#groups(fromSeq)) {
      for (let i = 0; i < group.length; i++) {
        const e = group[i]!
        if (e.seq >= fromSeq) visit(e)
      }
    }
  }

  /** The decoded groups holding seqs ≥ `fromSeq`, checked to tile the log. */
  *#groups(fromSeq: number): Generator<SignedEntry[]> {
    const rows = this.#db
      .prepare(
        'SELECT first_seq, last_seq, batch, signers FROM log_groups WHERE last_seq >= ? ORDER BY first_seq',
      )
      .raw()
      .iterate(fromSeq) as IterableIterator<GroupRow>
    let expected = -1
    for (const [firstSeq, lastSeq, batch, signers] of rows) {
      if (expected === -1) {
        if (firstSeq > fromSeq) throw corrupt(`the log starts at seq ${firstSeq}, after ${fromSeq}`)
      } else if (firstSeq !== expected) {
        throw corrupt(`gap: group at seq ${firstSeq}, expected ${expected}`)
      }
      let entries: SignedEntry[]
      try {
        entries = decodeBatch(plainBytes(batch), { expectedFirstSeq: firstSeq }).entries
      } catch (error) {
        throw corrupt(`group at seq ${firstSeq} does not decode`, error)
      }
      if (entries.length !== lastSeq - firstSeq + 1) {
        throw corrupt(`group at seq ${firstSeq} has ${entries.length} entries`)
      }
      if (!applySigners(entries, signers))
        throw corrupt(`group at seq ${firstSeq}: signers do not fit its entries`)
      yield entries
      expected = lastSeq + 1
    }
  }

  /** Stores a snapshot of the state after `seq` and `sealedBatches` seals, then keeps only the newest `keep`. */
  writeSnapshot(seq: number, root: Uint8Array, state: Uint8Array, keep: number, sealedBatches = 0): void {
    this.#tables.writeSnapshot(seq, root, state, keep, sealedBatches)
  }

  /** Newest first. */
  snapshots(): SnapshotInfo[] {
    const rows = this.#db
      .prepare('SELECT seq, root, sealed_batches FROM snapshots ORDER BY seq DESC, sealed_batches DESC')
      .raw()
      .all() as [number, Uint8Array, number][]
    return rows.map(([seq, root, sealedBatches]) => ({ seq, root: bytesToHex(root), sealedBatches }))
  }

  readSnapshot(seq: number): StoredSnapshot | null {
    const row = this.#db
      .prepare('SELECT seq, root, state, sealed_batches FROM snapshots WHERE seq = ?')
      .raw()
      .get(seq) as [number, Uint8Array, Uint8Array, number] | undefined
    if (row === undefined) return null
    return { seq: row[0], root: bytesToHex(row[1]), bytes: new Uint8Array(row[2]), sealedBatches: row[3] }
  }

  /** Records a sealed batch (tests and tools; the node writes through its log-writer thread). */
  insertBatch(batch: BatchRecord): void {
    this.#tables.insertBatch(batch)
  }

  /**
   * Sealed batches with index ≥ `fromIndex`, in order. Without `withData` the posted bytes are left out
   * (`data` is empty): what a tracker that only compares headers needs.
   */
  batches(fromIndex = 1, withData = true, limit = -1): StoredBatch[] {
    const rows = this.#db
      .prepare(
        `SELECT batch_index, first_seq, last_seq, prev_state_root, state_root, withdrawals_root, inbox_consumed,
           ${withData ? 'data' : "x''"}, data_hash, withdrawals, status, tx_hash
         FROM batches WHERE batch_index >= ? ORDER BY batch_index LIMIT ?`,
      )
      .raw()
      .all(fromIndex, limit) as [
      number,
      number,
      number,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      number,
      Uint8Array,
      Uint8Array,
      string,
      BatchStatus,
      string | null,
    ][]
    return rows.map((r) => ({
      batchIndex: r[0],
      firstSeq: r[1],
      lastSeq: r[2],
      prevStateRoot: plainBytes(r[3]),
      stateRoot: plainBytes(r[4]),
      withdrawalsRoot: plainBytes(r[5]),
      inboxConsumed: r[6],
      data: plainBytes(r[7]),
      dataHash: plainBytes(r[8]),
      withdrawals: r[9],
      status: r[10],
      txHash: r[11] as Hex | null,
    }))
  }

  /** One sealed batch, with its posted bytes; null when there is none at `batchIndex`. */
  batch(batchIndex: number): StoredBatch | null {
    const [found] = this.batches(batchIndex, true, 1)
    return found !== undefined && found.batchIndex === batchIndex ? found : null
  }

  /** The entries with seqs `fromSeq..toSeq`, signatures included (signers too, though a batch does not carry them). */
  entriesBetween(fromSeq: number, toSeq: number): SignedEntry[] {
    const out: SignedEntry[] = []
    if (toSeq < fromSeq) return out
    for (const group of this.#groups(fromSeq)) {
      for (const e of group) {
        if (e.seq > toSeq) return out
        if (e.seq >= fromSeq) out.push(e)
      }
    }
    if (out.length !== toSeq - fromSeq + 1)
      throw corrupt(`the log holds no seqs ${fromSeq + out.length}..${toSeq}`)
    return out
  }

  close(): void {
    if (this.#db.open) this.#db.close()
  }
}

/** SQLite hands back Buffers; decoded signatures are views of their input, and should be plain Uint8Arrays. */
function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

function corrupt(message: string, cause?: unknown): SequencerError {
  return new SequencerError(SequencerErrorCode.LOG_CORRUPT, `The log is corrupt: ${message}.`, {
    cause,
    details: 'Restore the data directory from a backup or rebuild it from the batches posted on L1.',
  })
}

/** A log replays only under the engine configuration it was written with. */
function checkIdentity(db: Database.Database, config: EngineConfig, readonly: boolean): void {
  const want: Record<string, string> = {
    format: LOG_FORMAT,
    chainId: config.chainId.toString(),
    settlementAddress: config.settlementAddress.toLowerCase(),
    engineConfigHash: bytesToHex(snapshotConfigHash(config)),
  }
  const rows = db.prepare('SELECT key, value FROM meta').raw().all() as [string, string][]
  if (rows.length === 0) {
    if (readonly) throw corrupt('the log has no identity (meta table is empty)')
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
    db.transaction(() => {
      for (const [k, v] of Object.entries(want)) put.run(k, v)
    })()
    return
  }
  const have = new Map(rows)
  for (const [k, v] of Object.entries(want)) {
    if (have.get(k) !== v) {
      throw new SequencerError(
        SequencerErrorCode.CONFIG_MISMATCH,
        `The data directory was written with ${k} = ${have.get(k) ?? '(none)'}, but this node is configured with ${v}.`,
        {
          details:
            'Point dataDir at the directory of this deployment, or start a new deployment with an empty data directory; engine parameters cannot change under an existing log.',
        },
      )
    }
  }
}
