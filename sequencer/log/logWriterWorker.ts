import { parentPort, workerData } from 'node:worker_threads'
import {
  type BatchRecord,
  type BatchStatus,
  type Durability,
  type EncodedGroup,
  LogTables,
  openLogDatabase,
} from './logDatabase.ts'

/**
 * Worker-thread entry of the log writer: owns the write connection, so that commits and their fsync
 * never block the main thread. Requests are handled strictly in order. Loads no engine code: the main
 * thread has checked the log's identity and encodes the groups.
 */
export type LogWriterRequest =
  | ({ id: number; kind: 'append' } & EncodedGroup)
  | {
      id: number
      kind: 'snapshot'
      seq: number
      root: Uint8Array
      state: Uint8Array
      keep: number
      sealedBatches: number
    }
  | { id: number; kind: 'batch'; batch: BatchRecord }
  | { id: number; kind: 'batchStatus'; batchIndex: number; status: BatchStatus; txHash: string | null }
  | { id: number; kind: 'close' }

export type LogWriterReply =
  | { id: number; ok: true }
  | { id: number; ok: false; error: string }
  | { ready: true }

const port = parentPort
if (port === null) throw new Error('logWriterWorker.ts must run in a worker thread')
const { path, durability } = workerData as { path: string; durability: Durability }
const db = openLogDatabase(path, { durability })
const log = new LogTables(db)

/** After one failure nothing else is written: a later snapshot must never describe a batch row that failed. */
let failed: string | null = null

port.on('message', (req: LogWriterRequest) => {
  if (failed !== null && req.kind !== 'close') {
    port.postMessage({
      id: req.id,
      ok: false,
      error: `refused after an earlier failure: ${failed}`,
    } satisfies LogWriterReply)
    return
  }
  try {
    if (req.kind === 'append') log.insertGroup(req)
    else if (req.kind === 'snapshot')
      log.writeSnapshot(req.seq, req.root, req.state, req.keep, req.sealedBatches)
    else if (req.kind === 'batch') log.insertBatch(req.batch)
    else if (req.kind === 'batchStatus') log.setBatchStatus(req.batchIndex, req.status, req.txHash)
    else db.close()
    port.postMessage({ id: req.id, ok: true } satisfies LogWriterReply)
  } catch (error) {
    failed = error instanceof Error ? error.message : String(error)
    port.postMessage({ id: req.id, ok: false, error: failed } satisfies LogWriterReply)
  }
})
port.postMessage({ ready: true } satisfies LogWriterReply)
