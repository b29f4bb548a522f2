import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import type { Address, Hash, Hex } from 'viem'
import type { InboxRecord } from '../../engine/batch/replayBatch.ts'
import type { BatchHeader } from '../../settlement-contracts/ts/client.ts'
import type { ReplayerCheckpoint, Verdict, VerdictFault } from '../replay/batchReplayer.ts'
import { WatcherError, WatcherErrorCode } from '../watcherError.ts'

/** The deployment a data directory belongs to; a watcher refuses to open one made for another. */
export interface ChainIdentity {
  chainId: bigint
  settlement: Address
  configHash: Hex
}

/** A `BatchProposed` log as stored. At one index, the latest proposal (block, log index) is the live one. */
export interface StoredProposal {
  batchIndex: number
  batchHash: Hex
  epoch: number
  header: BatchHeader
  transactionHash: Hash
  blockNumber: bigint
  logIndex: number
}

export type ChallengeStatus = 'open' | 'proven' | 'reverted' | 'refunded'

/** A `BatchChallenged` log and what became of it. */
export interface StoredChallenge {
  batchHash: Hex
  batchIndex: number
  challenger: Address
  /** Opened by this watcher's account. */
  ours: boolean
  /** L1 time (seconds) from which an unproven challenge can be resolved. */
  proveDeadline: number
  status: ChallengeStatus
  blockNumber: bigint
}

export interface CheckpointInfo {
  batchIndex: number
  batchHash: Hex
  stateRoot: Hex
  bytes: number
}

/** Everything one scanned block range adds, stored with the new scan position in one transaction. */
export interface ScannedEvents {
  inbox: readonly InboxRecord[]
  proposals: readonly StoredProposal[]
  challenges: readonly StoredChallenge[]
  /** Batch hashes whose challenge was proven. */
  proven: readonly Hex[]
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS inbox (
    idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, account TEXT NOT NULL, amount TEXT NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS proposals (
    batch_hash TEXT PRIMARY KEY, batch_index INTEGER NOT NULL, epoch INTEGER NOT NULL, header TEXT NOT NULL,
    tx_hash TEXT NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS proposals_by_index ON proposals (batch_index, block, log_index);
  CREATE TABLE IF NOT EXISTS verdicts (
    batch_index INTEGER NOT NULL, batch_hash TEXT NOT NULL, epoch INTEGER NOT NULL, ok INTEGER NOT NULL,
    fault TEXT, detail TEXT NOT NULL, ops INTEGER NOT NULL, ms REAL NOT NULL, state_root TEXT NOT NULL,
    PRIMARY KEY (batch_index, batch_hash)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS challenges (
    batch_hash TEXT PRIMARY KEY, batch_index INTEGER NOT NULL, challenger TEXT NOT NULL, ours INTEGER NOT NULL,
    prove_deadline INTEGER NOT NULL, status TEXT NOT NULL, block INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS checkpoints (
    batch_index INTEGER NOT NULL, batch_hash TEXT NOT NULL, state_root TEXT NOT NULL, snapshot BLOB NOT NULL,
    PRIMARY KEY (batch_index, batch_hash)
  ) STRICT;
`

const bigintJson = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v)

function headerFromJson(text: string): BatchHeader {
  const h = JSON.parse(text) as Record<keyof BatchHeader, string>
  return {
    batchIndex: BigInt(h.batchIndex),
    epoch: BigInt(h.epoch),
    prevStateRoot: h.prevStateRoot as Hex,
    stateRoot: h.stateRoot as Hex,
    withdrawalsRoot: h.withdrawalsRoot as Hex,
    dataHash: h.dataHash as Hex,
    inboxConsumed: BigInt(h.inboxConsumed),
    inboxAccumulator: h.inboxAccumulator as Hex,
    proposedAt: BigInt(h.proposedAt),
  }
}

interface ProposalRow {
  batch_hash: string
  batch_index: number
  epoch: number
  header: string
  tx_hash: string
  block: number
  log_index: number
}

interface VerdictRow {
  batch_index: number
  batch_hash: string
  epoch: number
  ok: number
  fault: string | null
  detail: string
  ops: number
  ms: number
  state_root: string
}

interface ChallengeRow {
  batch_hash: string
  batch_index: number
  challenger: string
  ours: number
  prove_deadline: number
  status: string
  block: number
}

const proposalOf = (r: ProposalRow): StoredProposal => ({
  batchIndex: r.batch_index,
  batchHash: r.batch_hash as Hex,
  epoch: r.epoch,
  header: headerFromJson(r.header),
  transactionHash: r.tx_hash as Hash,
  blockNumber: BigInt(r.block),
  logIndex: r.log_index,
})

const verdictOf = (r: VerdictRow): Verdict => ({
  batchIndex: r.batch_index,
  epoch: r.epoch,
  batchHash: r.batch_hash as Hex,
  ok: r.ok === 1,
  ...(r.fault === null ? {} : { fault: r.fault as VerdictFault }),
  detail: r.detail,
  ops: r.ops,
  ms: r.ms,
  stateRoot: r.state_root as Hex,
})

const challengeOf = (r: ChallengeRow): StoredChallenge => ({
  batchHash: r.batch_hash as Hex,
  batchIndex: r.batch_index,
  challenger: r.challenger as Address,
  ours: r.ours === 1,
  proveDeadline: r.prove_deadline,
  status: r.status as ChallengeStatus,
  blockNumber: BigInt(r.block),
})

/**
 * The watcher's SQLite file (`<data-dir>/watcher.db`, WAL): the deployment it belongs to, how far L1 is
 * scanned, the inbox and every proposal seen, verdicts per (batch index, batch hash), challenges, and
 * engine checkpoints at verified batches. Everything but verdicts and checkpoints can be rebuilt from
 * L1; checkpoints spare a restart the replay from genesis.
 */
export class WatcherStore {
  readonly path: string
  readonly #db: Database.Database

  private constructor(path: string, db: Database.Database) {
    this.path = path
    this.#db = db
  }

  /** Opens (or creates) the store in `dataDir`; throws DATA_DIR_MISMATCH when it belongs to another deployment. */
  static open(dataDir: string, identity: ChainIdentity): WatcherStore {
    mkdirSync(dataDir, { recursive: true })
    const path = join(dataDir, 'watcher.db')
    const db = new Database(path)
    try {
      db.pragma('journal_mode = WAL')
      // L1 holds everything but checkpoints and verdicts; losing the last commit to a power cut costs a re-scan.
      db.pragma('synchronous = NORMAL')
      db.exec(SCHEMA)
      const store = new WatcherStore(path, db)
      store.#checkIdentity(identity)
      return store
    } catch (error) {
      db.close()
      throw error
    }
  }

  /**
   * Opens an existing store read-only (another process, the watcher itself, may be writing it); throws
   * when `dataDir` holds no watcher.db, DATA_DIR_MISMATCH when it belongs to another deployment.
   */
  static openReadOnly(dataDir: string, identity: ChainIdentity): WatcherStore {
    const path = join(dataDir, 'watcher.db')
    const db = new Database(path, { readonly: true, fileMustExist: true })
    try {
      const store = new WatcherStore(path, db)
      store.#checkIdentity(identity)
      return store
    } catch (error) {
      db.close()
      throw error
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close()
  }

  #meta(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined
    return row?.value
  }

  #setMeta(key: string, value: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value)
  }

  #checkIdentity(identity: ChainIdentity): void {
    const wanted: Record<string, string> = {
      chain_id: identity.chainId.toString(),
      settlement: identity.settlement.toLowerCase(),
      config_hash: identity.configHash.toLowerCase(),
    }
    const found = Object.keys(wanted).map((k) => [k, this.#meta(k)] as const)
    if (found.every(([, v]) => v === undefined)) {
      this.#db.transaction(() => {
        for (const [k, v] of Object.entries(wanted)) this.#setMeta(k, v)
      })()
      return
    }
    const differs = found.filter(([k, v]) => v !== wanted[k])
    if (differs.length > 0) {
      const what = differs.map(([k, v]) => `${k} ${v ?? '(none)'} (this watcher: ${wanted[k]})`).join(', ')
      throw new WatcherError(
        WatcherErrorCode.DATA_DIR_MISMATCH,
        `the data directory ${dirname(this.path)} belongs to another deployment: ${what}. ` +
          'Give this deployment its own --data-dir, or delete this one to start over',
      )
    }
  }

  // ---------------------------------------------------------------- scanning

  /** The last L1 block whose events are stored; null before the first scan. */
  get scannedBlock(): bigint | null {
    const v = this.#meta('scanned_block')
    return v === undefined ? null : BigInt(v)
  }

  /** Stores the events of blocks up to `toBlock` and moves the scan position there, atomically. */
  recordScan(toBlock: bigint, events: ScannedEvents): void {
    const inbox = this.#db.prepare(
      'INSERT OR IGNORE INTO inbox (idx, kind, account, amount) VALUES (?, ?, ?, ?)',
    )
    const proposal = this.#db.prepare(
      'INSERT OR IGNORE INTO proposals (batch_hash, batch_index, epoch, header, tx_hash, block, log_index) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    const challenge = this.#db.prepare(
      `INSERT INTO challenges (batch_hash, batch_index, challenger, ours, prove_deadline, status, block)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_hash) DO UPDATE SET
       challenger = excluded.challenger, prove_deadline = excluded.prove_deadline, block = excluded.block,
       ours = MAX(ours, excluded.ours)`,
    )
    const proven = this.#db.prepare("UPDATE challenges SET status = 'proven' WHERE batch_hash = ?")
    this.#db.transaction(() => {
      for (const r of events.inbox) inbox.run(r.index, r.kind, r.account, r.amountQuantums.toString())
      for (const p of events.proposals) {
        proposal.run(
          p.batchHash,
          p.batchIndex,
          p.epoch,
          JSON.stringify(p.header, bigintJson),
          p.transactionHash,
          Number(p.blockNumber),
          p.logIndex,
        )
      }
      for (const c of events.challenges) {
        challenge.run(
          c.batchHash,
          c.batchIndex,
          c.challenger,
          c.ours ? 1 : 0,
          c.proveDeadline,
          c.status,
          Number(c.blockNumber),
        )
      }
      for (const hash of events.proven) proven.run(hash)
      this.#setMeta('scanned_block', toBlock.toString())
    })()
  }

  /** Inbox items `from` (inclusive) to `to` (exclusive), in order; fewer when L1 has fewer. */
  inboxRange(from: number, to: number): InboxRecord[] {
    const rows = this.#db
      .prepare('SELECT idx, kind, account, amount FROM inbox WHERE idx >= ? AND idx < ? ORDER BY idx')
      .all(from, to) as { idx: number; kind: string; account: string; amount: string }[]
    const records: InboxRecord[] = []
    for (const r of rows) {
      if (r.idx !== from + records.length) break // a gap: the caller sees fewer items than it asked for
      records.push({
        index: r.idx,
        kind: r.kind as InboxRecord['kind'],
        account: r.account as Address,
        amountQuantums: BigInt(r.amount),
      })
    }
    return records
  }

  inboxLength(): number {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM inbox').get() as { n: number }
    return row.n
  }

  /** The live proposal at `batchIndex`, given that index is at most the contract's latest batch: the latest one there. */
  latestProposal(batchIndex: number): StoredProposal | undefined {
    const row = this.#db
      .prepare('SELECT * FROM proposals WHERE batch_index = ? ORDER BY block DESC, log_index DESC LIMIT 1')
      .get(batchIndex) as ProposalRow | undefined
    return row === undefined ? undefined : proposalOf(row)
  }

  proposal(batchHash: Hex): StoredProposal | undefined {
    const row = this.#db.prepare('SELECT * FROM proposals WHERE batch_hash = ?').get(batchHash) as
      | ProposalRow
      | undefined
    return row === undefined ? undefined : proposalOf(row)
  }

  // ---------------------------------------------------------------- verdicts

  putVerdict(v: Verdict): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO verdicts (batch_index, batch_hash, epoch, ok, fault, detail, ops, ms, state_root)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        v.batchIndex,
        v.batchHash,
        v.epoch,
        v.ok ? 1 : 0,
        v.fault ?? null,
        v.detail,
        v.ops,
        v.ms,
        v.stateRoot,
      )
  }

  verdict(batchIndex: number, batchHash: Hex): Verdict | undefined {
    const row = this.#db
      .prepare('SELECT * FROM verdicts WHERE batch_index = ? AND batch_hash = ?')
      .get(batchIndex, batchHash) as VerdictRow | undefined
    return row === undefined ? undefined : verdictOf(row)
  }

  /** The newest verdicts first. */
  recentVerdicts(limit: number): Verdict[] {
    const rows = this.#db
      .prepare('SELECT * FROM verdicts ORDER BY batch_index DESC, epoch DESC LIMIT ?')
      .all(limit) as VerdictRow[]
    return rows.map(verdictOf)
  }

  verdictCounts(): { ok: number; wrong: number } {
    const rows = this.#db.prepare('SELECT ok, COUNT(*) AS n FROM verdicts GROUP BY ok').all() as {
      ok: number
      n: number
    }[]
    return {
      ok: rows.find((r) => r.ok === 1)?.n ?? 0,
      wrong: rows.find((r) => r.ok === 0)?.n ?? 0,
    }
  }

  // ---------------------------------------------------------------- challenges

  putChallenge(c: StoredChallenge): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO challenges (batch_hash, batch_index, challenger, ours, prove_deadline, status, block)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.batchHash,
        c.batchIndex,
        c.challenger,
        c.ours ? 1 : 0,
        c.proveDeadline,
        c.status,
        Number(c.blockNumber),
      )
  }

  setChallengeStatus(batchHash: Hex, status: ChallengeStatus): void {
    this.#db.prepare('UPDATE challenges SET status = ? WHERE batch_hash = ?').run(status, batchHash)
  }

  challenge(batchHash: Hex): StoredChallenge | undefined {
    const row = this.#db.prepare('SELECT * FROM challenges WHERE batch_hash = ?').get(batchHash) as
      | ChallengeRow
      | undefined
    return row === undefined ? undefined : challengeOf(row)
  }

  /** Challenges still open (not proven, reverted or refunded), by batch index. */
  openChallenges(): StoredChallenge[] {
    const rows = this.#db
      .prepare("SELECT * FROM challenges WHERE status = 'open' ORDER BY batch_index")
      .all() as ChallengeRow[]
    return rows.map(challengeOf)
  }

  // ---------------------------------------------------------------- checkpoints

  putCheckpoint(c: ReplayerCheckpoint): void {
    if (c.snapshot === null) return // genesis needs no row: the engine configuration rebuilds it
    this.#db
      .prepare(
        'INSERT OR REPLACE INTO checkpoints (batch_index, batch_hash, state_root, snapshot) VALUES (?, ?, ?, ?)',
      )
      .run(c.batchIndex, c.batchHash, c.stateRoot, c.snapshot)
  }

  /** Stored checkpoints, newest batch first, without their snapshots. */
  checkpoints(): CheckpointInfo[] {
    const rows = this.#db
      .prepare(
        'SELECT batch_index, batch_hash, state_root, LENGTH(snapshot) AS bytes FROM checkpoints ORDER BY batch_index DESC',
      )
      .all() as { batch_index: number; batch_hash: string; state_root: string; bytes: number }[]
    return rows.map((r) => ({
      batchIndex: r.batch_index,
      batchHash: r.batch_hash as Hex,
      stateRoot: r.state_root as Hex,
      bytes: r.bytes,
    }))
  }

  loadCheckpoint(batchIndex: number, batchHash: Hex): ReplayerCheckpoint | undefined {
    const row = this.#db
      .prepare('SELECT state_root, snapshot FROM checkpoints WHERE batch_index = ? AND batch_hash = ?')
      .get(batchIndex, batchHash) as { state_root: string; snapshot: Buffer } | undefined
    if (row === undefined) return undefined
    return {
      batchIndex,
      batchHash,
      stateRoot: row.state_root as Hex,
      snapshot: new Uint8Array(row.snapshot.buffer, row.snapshot.byteOffset, row.snapshot.byteLength),
    }
  }

  deleteCheckpoint(batchIndex: number, batchHash: Hex): void {
    this.#db
      .prepare('DELETE FROM checkpoints WHERE batch_index = ? AND batch_hash = ?')
      .run(batchIndex, batchHash)
  }
}
