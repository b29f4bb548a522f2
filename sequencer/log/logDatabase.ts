import Database from 'better-sqlite3'

/**
 * The SQLite side of the log, with no engine code: what the log-writer thread loads. Layout in
 * docs/operations.md, "The data directory".
 */

/** `full`: fsync on every group commit (survives power loss). `normal`: WAL without fsync per commit (survives a process crash, not power loss). */
export type Durability = 'full' | 'normal'

/** One group commit as stored: the codec batch of its entries and their signers. */
export interface EncodedGroup {
  firstSeq: number
  lastSeq: number
  lastTimestampMs: number
  batch: Uint8Array
  signers: Uint8Array
}

/**
 * A sealed batch as the node keeps it: what it posts, and what it needs to track, prove and serve
 * withdrawal proofs for. Roots are 32 bytes; `data` is the posted bytes (engine/codec/batchEnvelope.ts).
 */
export interface BatchRecord {
  batchIndex: number
  firstSeq: number
  lastSeq: number
  prevStateRoot: Uint8Array
  stateRoot: Uint8Array
  withdrawalsRoot: Uint8Array
  inboxConsumed: number
  data: Uint8Array
  /** keccak256(data): what the contract stores as the header's `dataHash`. */
  dataHash: Uint8Array
  /** JSON of the batch's withdrawals: `[{ account, amountQuantums (decimal string) }]`, in leaf order. */
  withdrawals: string
}

/** Where a batch of ours stands on L1, as far as the node has seen. */
export type BatchStatus = 'sealed' | 'posted' | 'finalized'

/** Opens (and creates the tables of) a log database; read-only opens change nothing. */
export function openLogDatabase(
  path: string,
  options: { durability?: Durability; readonly?: boolean } = {},
): Database.Database {
  const readonly = options.readonly === true
  const db = new Database(path, { readonly, fileMustExist: readonly })
  if (readonly) return db
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS log_groups (
        first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, batch BLOB NOT NULL, signers BLOB NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS snapshots (
        seq INTEGER PRIMARY KEY, root BLOB NOT NULL, state BLOB NOT NULL, sealed_batches INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE TABLE IF NOT EXISTS batches (
        batch_index INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
        prev_state_root BLOB NOT NULL, state_root BLOB NOT NULL, withdrawals_root BLOB NOT NULL,
        inbox_consumed INTEGER NOT NULL, data BLOB NOT NULL, data_hash BLOB NOT NULL, withdrawals TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'sealed', tx_hash TEXT
      ) STRICT;
    `)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * Writes to the log tables. INVARIANT: groups are inserted only when they continue the log
 * (`firstSeq = lastSeq + 1`), so the rows tile 1..lastSeq.
 */
export class LogTables {
  readonly #db: Database.Database
  readonly #insertGroup: Database.Statement<[number, number, Uint8Array, Uint8Array]>
  #lastSeq: number

  constructor(db: Database.Database) {
    this.#db = db
    this.#insertGroup = db.prepare(
      'INSERT INTO log_groups (first_seq, last_seq, batch, signers) VALUES (?, ?, ?, ?)',
    )
    const row = db.prepare('SELECT MAX(last_seq) FROM log_groups').raw().get() as [number | null]
    this.#lastSeq = row[0] ?? 0
  }

  get lastSeq(): number {
    return this.#lastSeq
  }

  /** One transaction; durable per the durability setting when it returns. */
  insertGroup(group: EncodedGroup): void {
    if (group.firstSeq !== this.#lastSeq + 1 || group.lastSeq < group.firstSeq) {
      throw new RangeError(
        `log append of seqs ${group.firstSeq}..${group.lastSeq}, expected ${this.#lastSeq + 1}`,
      )
    }
    this.#insertGroup.run(group.firstSeq, group.lastSeq, group.batch, group.signers)
    this.#lastSeq = group.lastSeq
  }

  /**
   * Stores a snapshot of the state after `seq` and after `sealedBatches` batch seals, then keeps only the
   * newest `keep`. One transaction. (A seal changes the state without a seq, so both say where it is.)
   */
  writeSnapshot(seq: number, root: Uint8Array, state: Uint8Array, keep: number, sealedBatches: number): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT OR REPLACE INTO snapshots (seq, root, state, sealed_batches) VALUES (?, ?, ?, ?)')
        .run(seq, root, state, sealedBatches)
      this.#db
        .prepare(
          'DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)',
        )
        .run(Math.max(1, keep))
    })()
  }

  /** Records a sealed batch. INVARIANT: batch indices are consecutive from 1, and seqs continue the previous batch. */
  insertBatch(batch: BatchRecord): void {
    const last = this.#db
      .prepare('SELECT batch_index, last_seq FROM batches ORDER BY batch_index DESC LIMIT 1')
      .raw()
      .get() as [number, number] | undefined
    const [lastIndex, lastSeq] = last ?? [0, 0]
    if (batch.batchIndex !== lastIndex + 1 || batch.firstSeq !== lastSeq + 1 || batch.lastSeq < lastSeq) {
      throw new RangeError(
        `batch ${batch.batchIndex} of seqs ${batch.firstSeq}..${batch.lastSeq} does not follow batch ${lastIndex} ending at seq ${lastSeq}`,
      )
    }
    this.#db
      .prepare(
        `INSERT INTO batches (batch_index, first_seq, last_seq, prev_state_root, state_root, withdrawals_root,
           inbox_consumed, data, data_hash, withdrawals) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        batch.batchIndex,
        batch.firstSeq,
        batch.lastSeq,
        batch.prevStateRoot,
        batch.stateRoot,
        batch.withdrawalsRoot,
        batch.inboxConsumed,
        batch.data,
        batch.dataHash,
        batch.withdrawals,
      )
  }

  setBatchStatus(batchIndex: number, status: BatchStatus, txHash: string | null): void {
    // Finalizing does not forget which transaction posted the batch.
    const sql =
      status === 'finalized' && txHash === null
        ? 'UPDATE batches SET status = ?, tx_hash = COALESCE(?, tx_hash) WHERE batch_index = ?'
        : 'UPDATE batches SET status = ?, tx_hash = ? WHERE batch_index = ?'
    this.#db.prepare(sql).run(status, txHash, batchIndex)
  }
}
