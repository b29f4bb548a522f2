import type { Worker } from 'node:worker_threads'
import { JOB_BYTES, RESULT_BYTES, recoverJobs } from '../../engine/signing/recoverAddress.ts'
import { spawnWorker } from './spawnWorker.ts'

interface Slot {
  worker: Worker
  /** Jobs sent and not yet answered, to balance load. */
  outstanding: number
}

interface InFlight {
  slot: Slot
  count: number
  resolve: (results: Uint8Array) => void
  reject: (error: Error) => void
}

export class RecoveryPoolError extends Error {
  override readonly name = 'RecoveryPoolError'
}

/**
 * Signature recovery on worker threads, so that matching keeps the main thread. Each call sends one
 * buffer of jobs to the least loaded worker and resolves with that buffer's results in job order.
 * Calls may resolve out of order across workers; the intake queue releases chunks in submission
 * order. With `size = 0` recovery runs inline on the calling thread.
 */
export class RecoveryPool {
  readonly #slots: Slot[] = []
  readonly #inFlight = new Map<number, InFlight>()
  #nextId = 1
  #closed = false

  private constructor(readonly size: number) {}

  static async start(size: number): Promise<RecoveryPool> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`worker count must be >= 0, got ${size}`)
    const pool = new RecoveryPool(size)
    await Promise.all(Array.from({ length: size }, () => pool.#spawn()))
    return pool
  }

  /** `jobs` holds `count` jobs of JOB_BYTES; ownership passes to the pool (the buffer is transferred). */
  recover(jobs: Uint8Array, count: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new RecoveryPoolError('the recovery pool is closed'))
    if (jobs.byteLength < count * JOB_BYTES) throw new RangeError('jobs buffer shorter than count jobs')
    if (this.#slots.length === 0) {
      const results = new Uint8Array(count * RESULT_BYTES)
      recoverJobs(jobs, results, count)
      return Promise.resolve(results)
    }
    let slot = this.#slots[0]!
    for (const s of this.#slots) if (s.outstanding < slot.outstanding) slot = s
    const id = this.#nextId++
    slot.outstanding += count
    const buffer =
      jobs.byteOffset === 0 && jobs.byteLength === jobs.buffer.byteLength
        ? (jobs.buffer as ArrayBuffer)
        : jobs.slice(0, count * JOB_BYTES).buffer
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { slot, count, resolve, reject })
      slot.worker.postMessage({ id, count, jobs: buffer }, [buffer])
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
    this.#failAll(new RecoveryPoolError('the recovery pool closed with jobs in flight'))
  }

  #spawn(): Promise<void> {
    const worker = spawnWorker(new URL('./recoveryWorker.ts', import.meta.url))
    const slot: Slot = { worker, outstanding: 0 }
    return new Promise((resolveReady, rejectReady) => {
      let ready = false
      worker.on('message', (msg: { ready?: true; id?: number; results?: ArrayBuffer }) => {
        if (msg.ready === true) {
          ready = true
          this.#slots.push(slot)
          resolveReady()
          return
        }
        const job = this.#inFlight.get(msg.id!)
        if (job === undefined) return
        this.#inFlight.delete(msg.id!)
        slot.outstanding -= job.count
        job.resolve(new Uint8Array(msg.results!))
      })
      const fail = (error: Error): void => {
        if (!ready) {
          rejectReady(error)
          return
        }
        this.#retire(slot, error)
      }
      worker.on('error', fail)
      worker.on('exit', (code) => {
        if (!this.#closed) fail(new RecoveryPoolError(`recovery worker exited with code ${code}`))
      })
    })
  }

  /** A worker died: fail its jobs (the intake refuses those intents as retryable) and start a new one. */
  #retire(slot: Slot, error: Error): void {
    const at = this.#slots.indexOf(slot)
    if (at < 0) return
    this.#slots.splice(at, 1)
    for (const [id, job] of this.#inFlight) {
      if (job.slot !== slot) continue
      this.#inFlight.delete(id)
      job.reject(new RecoveryPoolError(`recovery worker failed: ${error.message}`))
    }
    void slot.worker.terminate()
    if (!this.#closed) this.#spawn().catch(() => {})
  }

  #failAll(error: Error): void {
    for (const job of this.#inFlight.values()) job.reject(error)
    this.#inFlight.clear()
  }
}
