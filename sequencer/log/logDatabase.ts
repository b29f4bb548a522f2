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
      CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, root BLOB NOT NULL, state BLOB NOT NULL) STRICT;
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

  /** Stores a snapshot of the state after `seq`, then keeps only the newest `keep`. One transaction. */
  writeSnapshot(seq: number, root: Uint8Array, state: Uint8Array, keep: number): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT OR REPLACE INTO snapshots (seq, root, state) VALUES (?, ?, ?)')
        .run(seq, root, state)
      this.#db
        .prepare(
          'DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)',
        )
        .run(Math.max(1, keep))
    })()
  }
}
