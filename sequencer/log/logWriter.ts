import type { Worker } from 'node:worker_threads'
import { spawnWorker } from '../intake/spawnWorker.ts'
import type { BatchRecord, BatchStatus, Durability, EncodedGroup } from './logDatabase.ts'
import type { LogWriterReply, LogWriterRequest } from './logWriterWorker.ts'

/** Buffers that views cover exactly are moved; a view into a larger buffer is copied by the clone instead. */
function movable(...views: Uint8Array[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = []
  for (const v of views) {
    const b = v.buffer as ArrayBuffer
    if (v.byteOffset === 0 && v.byteLength === b.byteLength && b.byteLength > 0 && !out.includes(b))
      out.push(b)
  }
  return out
}

export class LogWriteError extends Error {
  override readonly name = 'LogWriteError'
}

type Pending = { resolve: () => void; reject: (e: Error) => void }

/**
 * The write side of the log on its own thread. Calls complete in the order made; a group is durable
 * when its `append` resolves. Any failure (a SQLite error, the worker dying) rejects that call and every
 * later one: the caller halts.
 */
export class LogWriter {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #failed: Error | null = null
  #closed: Promise<void> | null = null

  private constructor(worker: Worker) {
    this.#worker = worker
    worker.on('message', (m: LogWriterReply) => {
      if ('ready' in m) return
      const p = this.#pending.get(m.id)
      if (p === undefined) return
      this.#pending.delete(m.id)
      if (m.ok) {
        p.resolve()
        return
      }
      const error = new LogWriteError(m.error)
      p.reject(error)
      this.#fail(error)
    })
    worker.on('error', (e) => this.#fail(new LogWriteError(`log writer thread failed: ${e.message}`)))
    worker.on('exit', (code) => {
      if (this.#pending.size > 0) this.#fail(new LogWriteError(`log writer thread exited with code ${code}`))
    })
  }

  /** The log at `path` must exist with its identity checked (`OpLog.open`). */
  static start(options: { path: string; durability: Durability }): Promise<LogWriter> {
    const worker = spawnWorker(new URL('./logWriterWorker.ts', import.meta.url), options)
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e)
      worker.once('error', onError)
      worker.once('message', (m: LogWriterReply) => {
        worker.off('error', onError)
        if ('ready' in m) resolve(new LogWriter(worker))
        else reject(new LogWriteError('log writer did not start'))
      })
    })
  }

  /** The group's byte arrays may be transferred: do not use them after the call. */
  append(group: EncodedGroup): Promise<void> {
    return this.#send({ id: 0, kind: 'append', ...group }, movable(group.batch, group.signers))
  }

  /** `state` may be transferred: do not use it after the call. */
  writeSnapshot(
    seq: number,
    root: Uint8Array,
    state: Uint8Array,
    keep: number,
    sealedBatches: number,
  ): Promise<void> {
    return this.#send({ id: 0, kind: 'snapshot', seq, root, state, keep, sealedBatches }, movable(state))
  }

  /** Records a sealed batch, behind every group already sent. */
  writeBatch(batch: BatchRecord): Promise<void> {
    return this.#send({ id: 0, kind: 'batch', batch }, [])
  }

  setBatchStatus(batchIndex: number, status: BatchStatus, txHash: string | null): Promise<void> {
    return this.#send({ id: 0, kind: 'batchStatus', batchIndex, status, txHash }, [])
  }

  /** Commits what was sent, closes the database and ends the thread. Safe to call again: one close runs. */
  close(): Promise<void> {
    // A second close (a halt closes the writer, then the owner closes the sequencer) would post to a
    // thread that may be gone already and wait for an answer forever.
    this.#closed ??= (async () => {
      if (this.#failed === null) await this.#send({ id: 0, kind: 'close' }, []).catch(() => {})
      await this.#worker.terminate()
    })()
    return this.#closed
  }

  #send(req: LogWriterRequest, transfer: ArrayBuffer[]): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed)
    // After close began, the thread may be gone: an answer would never come.
    if (this.#closed !== null && req.kind !== 'close')
      return Promise.reject(new Error('the log writer is closed'))
    const id = this.#nextId++
    req.id = id
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage(req, transfer)
    })
  }

  #fail(error: Error): void {
    if (this.#failed !== null) return
    this.#failed = error
    for (const p of this.#pending.values()) p.reject(error)
    this.#pending.clear()
  }
}
