import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import { addressAt, JOB_BYTES, RESULT_BYTES, recoverJobs } from '../../engine/signing/recoverAddress.ts'

/** One signature to recover: a 32-byte digest and a 65-byte r ‖ s ‖ v signature. */
export interface RecoveryJob {
  digest: Uint8Array
  signature: Uint8Array
}

export interface RecoveryPoolOptions {
  /** Worker threads; 0 recovers on the calling thread. Default: the machine's available parallelism. */
  workers?: number
}

export class RecoveryPoolError extends Error {
  override readonly name = 'RecoveryPoolError'
}

interface Slot {
  worker: Worker
  /** Jobs sent and not answered yet, to send the next chunk to the least loaded worker. */
  outstanding: number
}

interface Pending {
  slot: Slot
  count: number
  done: (results: Uint8Array) => void
  fail: (error: Error) => void
}

/** Below this many jobs per worker, a chunk's round trip costs more than it saves. */
const MIN_CHUNK_JOBS = 64

/**
 * Signer recovery for the watcher on worker threads, with the one recovery implementation every replayer
 * shares (engine/signing/recoverAddress.ts). A call packs its jobs, splits them over the least loaded
 * workers, and resolves with one address (or null: no signer) per job, in job order. Several calls may
 * be in flight at once: the replayer recovers the next batch while it replays this one.
 */
export class RecoveryPool {
  readonly workers: number
  readonly #slots: Slot[] = []
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #closed = false

  private constructor(workers: number) {
    this.workers = workers
  }

  static async start(options: RecoveryPoolOptions = {}): Promise<RecoveryPool> {
    const workers = options.workers ?? availableParallelism()
    if (!Number.isSafeInteger(workers) || workers < 0) {
      throw new RangeError(`workers must be a whole number >= 0, got ${workers}`)
    }
    const pool = new RecoveryPool(workers)
    try {
      await Promise.all(Array.from({ length: workers }, () => pool.#spawn()))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  /** The signer of each job, in order; null where the signature recovers to no public key. */
  async recover(jobs: readonly RecoveryJob[]): Promise<(Address | null)[]> {
    if (this.#closed) throw new RecoveryPoolError('the recovery pool is closed')
    const count = jobs.length
    if (count === 0) return []
    const packed = new Uint8Array(count * JOB_BYTES)
    for (let i = 0; i < count; i++) {
      const job = jobs[i]!
      const at = i * JOB_BYTES
      packed.set(job.digest.subarray(0, 32), at)
      // A signature of the wrong length keeps v = 0 below, which recovers to nobody.
      if (job.signature.length === 65) packed.set(job.signature, at + 32)
    }
    const results =
      this.#slots.length === 0
        ? this.#recoverHere(packed, count)
        : await this.#recoverOnWorkers(packed, count)
    const signers = new Array<Address | null>(count)
    for (let i = 0; i < count; i++) {
      const r = i * RESULT_BYTES
      signers[i] = results[r] === 1 ? addressAt(results, r + 1) : null
    }
    return signers
  }

  async close(): Promise<void> {
    this.#closed = true
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
    for (const pending of this.#pending.values())
      pending.fail(new RecoveryPoolError('the recovery pool closed'))
    this.#pending.clear()
  }

  #recoverHere(packed: Uint8Array, count: number): Uint8Array {
    const results = new Uint8Array(count * RESULT_BYTES)
    recoverJobs(packed, results, count)
    return results
  }

  async #recoverOnWorkers(packed: Uint8Array, count: number): Promise<Uint8Array> {
    const chunks = Math.max(1, Math.min(this.#slots.length, Math.floor(count / MIN_CHUNK_JOBS))) // floor: no chunk under the minimum
    const per = Math.ceil(count / chunks) // ceil: the last chunk takes the remainder
    const parts: Promise<Uint8Array>[] = []
    for (let from = 0; from < count; from += per) {
      const n = Math.min(per, count - from)
      // Each chunk gets its own buffer, transferred to the worker.
      parts.push(this.#send(packed.slice(from * JOB_BYTES, (from + n) * JOB_BYTES), n))
    }
    if (parts.length === 1) return parts[0]!
    const results = new Uint8Array(count * RESULT_BYTES)
    let at = 0
    for (const part of await Promise.all(parts)) {
      results.set(part, at)
      at += part.length
    }
    return results
  }

  #send(jobs: Uint8Array, count: number): Promise<Uint8Array> {
    let slot = this.#slots[0]
    if (slot === undefined) return Promise.resolve(this.#recoverHere(jobs, count))
    for (const s of this.#slots) if (s.outstanding < slot.outstanding) slot = s
    const id = this.#nextId++
    slot.outstanding += count
    const target = slot
    return new Promise((done, fail) => {
      this.#pending.set(id, { slot: target, count, done, fail })
      const buffer = jobs.buffer as ArrayBuffer
      target.worker.postMessage({ id, count, jobs: buffer }, [buffer])
    })
  }

  #spawn(): Promise<void> {
    const worker = startTsWorker(new URL('./recoveryWorker.ts', import.meta.url))
    const slot: Slot = { worker, outstanding: 0 }
    return new Promise((ready, failed) => {
      let started = false
      worker.on('message', (message: { ready?: true; id?: number; results?: ArrayBuffer }) => {
        if (message.ready === true) {
          started = true
          this.#slots.push(slot)
          ready()
          return
        }
        const pending = this.#pending.get(message.id!)
        if (pending === undefined) return
        this.#pending.delete(message.id!)
        slot.outstanding -= pending.count
        pending.done(new Uint8Array(message.results!))
      })
      const onFailure = (error: Error): void => {
        if (!started) failed(error)
        else this.#replace(slot, error)
      }
      worker.on('error', onFailure)
      worker.on('exit', (code) => {
        if (!this.#closed) onFailure(new RecoveryPoolError(`a recovery worker exited with code ${code}`))
      })
    })
  }

  /** A worker died: its calls fail (the watcher retries the batch on its next poll) and a new one starts. */
  #replace(slot: Slot, error: Error): void {
    const at = this.#slots.indexOf(slot)
    if (at < 0) return
    this.#slots.splice(at, 1)
    for (const [id, pending] of this.#pending) {
      if (pending.slot !== slot) continue
      this.#pending.delete(id)
      pending.fail(new RecoveryPoolError(`a recovery worker failed: ${error.message}`))
    }
    void slot.worker.terminate()
    if (!this.#closed) this.#spawn().catch(() => {})
  }
}

/**
 * A worker on a TypeScript module of this repository. Node 20 does not pass `--import tsx` on to a
 * worker's entry, so the worker loads the module through tsx's own `tsImport`.
 */
function startTsWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry)
  const code = `import(${JSON.stringify(tsxEsmApi())}).then((api) => api.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`
  return new Worker(code, { eval: true })
}

/** The ESM entry of `tsx/esm/api`, from tsx's package exports (its CommonJS entry cannot register hooks here). */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json')
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>
  }
  const api = exports['./esm/api']?.import.default
  if (api === undefined) throw new RecoveryPoolError('this tsx version has no tsx/esm/api export')
  return pathToFileURL(join(dirname(manifest), api)).href
}
