import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import { addressAt, JOB_BYTES } from '../../engine/signing/recoverAddress.ts'
import { type BatchVerifier, batchVerifier } from '../native/sigbatch.ts'
import {
  SIGNER_RESULT_BYTES,
  SignerOutcome,
  type SignerTally,
  type SignerWork,
  verifySigners,
} from './verifySigners.ts'

/**
 * One signature to recover: a 32-byte digest and a 65-byte r ‖ s ‖ v signature. `signerHint` names who
 * is expected to have signed (an account, an oracle slot): the key that last signed for the same hint
 * is checked in a batch instead of recovered, when the batch verifier is built.
 */
export interface RecoveryJob {
  digest: Uint8Array
  signature: Uint8Array
  signerHint?: string
}

export interface RecoveryPoolOptions {
  /** Worker threads; 0 recovers on the calling thread. Default: the machine's available parallelism. */
  workers?: number
  /** Check signatures with an expected key in batches (watcher/native/sigbatch). Default: true when built. */
  batchVerify?: boolean
}

export class RecoveryPoolError extends Error {
  override readonly name = 'RecoveryPoolError'
}

/** Signatures checked so far, by how. */
export interface SignatureCounts {
  /** Confirmed against their expected key by a batch check. */
  batched: number
  /** Recovered one by one. */
  recovered: number
  /** Batch checks that failed, each followed by recovering its chunk. */
  failedBatches: number
}

interface Slot {
  worker: Worker
  /** Jobs sent and not answered yet, to send the next chunk to the least loaded worker. */
  outstanding: number
}

interface Pending {
  slot: Slot
  count: number
  done: (answer: ChunkAnswer) => void
  fail: (error: Error) => void
}

interface ChunkAnswer {
  results: Uint8Array
  tally: SignerTally
}

/** Below this many jobs per worker, a chunk's round trip costs more than it saves. */
const MIN_CHUNK_JOBS = 64
/** Expected keys kept (about 150 bytes each); past this, the oldest tenth is forgotten. */
const MAX_KNOWN_KEYS = 200_000

/**
 * Signer recovery for the watcher on worker threads. A call packs its jobs, splits them over the least
 * loaded workers, and resolves with one address (or null: no signer) per job, in job order. Several
 * calls may be in flight at once: the replayer recovers the next batch while it replays this one.
 *
 * With the batch verifier built, the pool remembers the key each signer hint last recovered to, and a
 * worker checks the jobs whose hint it knows in one batch (watcher/replay/verifySigners.ts); the rest,
 * and any chunk whose batch check fails, are recovered with the one recovery implementation every
 * replayer shares (engine/signing/recoverAddress.ts). The answers are the same either way.
 */
export class RecoveryPool {
  readonly workers: number
  /** How signatures are checked: in batches, or each recovered (with the reason the verifier is missing). */
  readonly signatureCheck: { mode: 'batch' } | { mode: 'recovery'; reason: string }
  readonly counts: SignatureCounts = { batched: 0, recovered: 0, failedBatches: 0 }
  readonly #verifier: BatchVerifier | null
  readonly #slots: Slot[] = []
  readonly #pending = new Map<number, Pending>()
  /** Signer hint → the 64-byte key it last recovered to. */
  readonly #knownKeys = new Map<string, Uint8Array>()
  #nextId = 1
  #closed = false

  private constructor(workers: number, batchVerify: boolean) {
    this.workers = workers
    const status = batchVerifier()
    if (!batchVerify) {
      this.#verifier = null
      this.signatureCheck = { mode: 'recovery', reason: 'batch verification is turned off' }
    } else if (status.available) {
      this.#verifier = status.verifier
      this.signatureCheck = { mode: 'batch' }
    } else {
      this.#verifier = null
      this.signatureCheck = { mode: 'recovery', reason: status.reason }
    }
  }

  static async start(options: RecoveryPoolOptions = {}): Promise<RecoveryPool> {
    const workers = options.workers ?? availableParallelism()
    if (!Number.isSafeInteger(workers) || workers < 0) {
      throw new RangeError(`workers must be a whole number >= 0, got ${workers}`)
    }
    const pool = new RecoveryPool(workers, options.batchVerify ?? true)
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
    const chunks =
      this.#slots.length === 0
        ? 1
        : Math.max(1, Math.min(this.#slots.length, Math.floor(count / MIN_CHUNK_JOBS))) // floor: no chunk under the minimum
    const per = Math.ceil(count / chunks) // ceil: the last chunk takes the remainder
    const parts: Promise<ChunkAnswer>[] = []
    for (let from = 0; from < count; from += per) {
      const work = this.#pack(jobs, from, Math.min(per, count - from))
      parts.push(this.#slots.length === 0 ? Promise.resolve(this.#verifyHere(work)) : this.#send(work))
    }
    const answers = await Promise.all(parts)
    const signers = new Array<Address | null>(count)
    let i = 0
    for (const { results, tally } of answers) {
      this.counts.batched += tally.batched
      this.counts.recovered += tally.recovered
      this.counts.failedBatches += tally.failedBatches
      for (let r = 0; r < results.length; r += SIGNER_RESULT_BYTES, i++) {
        const outcome = results[r]
        if (outcome === SignerOutcome.NONE) {
          signers[i] = null
          continue
        }
        signers[i] = addressAt(results, r + 1)
        const hint = jobs[i]!.signerHint
        if (outcome === SignerOutcome.RECOVERED && hint !== undefined && this.#verifier !== null) {
          this.#learn(hint, results.slice(r + 21, r + 85))
        }
      }
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

  /** Jobs `from` to `from + count`, packed, each with its expected key where the pool knows one. */
  #pack(jobs: readonly RecoveryJob[], from: number, count: number): SignerWork {
    const packed = new Uint8Array(count * JOB_BYTES)
    const keyOf = new Int32Array(count).fill(-1)
    const keyIndex = new Map<Uint8Array, number>()
    const keyList: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const job = jobs[from + i]!
      const at = i * JOB_BYTES
      packed.set(job.digest.subarray(0, 32), at)
      // A signature of the wrong length keeps v = 0 below, which recovers to nobody.
      if (job.signature.length === 65) packed.set(job.signature, at + 32)
      if (this.#verifier === null || job.signerHint === undefined) continue
      const key = this.#knownKeys.get(job.signerHint)
      if (key === undefined) continue
      let k = keyIndex.get(key)
      if (k === undefined) {
        k = keyList.length
        keyIndex.set(key, k)
        keyList.push(key)
      }
      keyOf[i] = k
    }
    const keys = new Uint8Array(keyList.length * 64)
    for (const [k, key] of keyList.entries()) keys.set(key, k * 64)
    return { jobs: packed, count, keyOf, keys }
  }

  #learn(hint: string, key: Uint8Array): void {
    if (this.#knownKeys.size >= MAX_KNOWN_KEYS && !this.#knownKeys.has(hint)) {
      let drop = Math.ceil(MAX_KNOWN_KEYS / 10) // ceil: always at least one
      for (const oldest of this.#knownKeys.keys()) {
        this.#knownKeys.delete(oldest)
        if (--drop === 0) break
      }
    }
    this.#knownKeys.set(hint, key)
  }

  #verifyHere(work: SignerWork): ChunkAnswer {
    const results = new Uint8Array(work.count * SIGNER_RESULT_BYTES)
    const tally = verifySigners(work, results, this.#verifier)
    return { results, tally }
  }

  #send(work: SignerWork): Promise<ChunkAnswer> {
    let slot = this.#slots[0]
    if (slot === undefined) return Promise.resolve(this.#verifyHere(work))
    for (const s of this.#slots) if (s.outstanding < slot.outstanding) slot = s
    const id = this.#nextId++
    slot.outstanding += work.count
    const target = slot
    return new Promise((done, fail) => {
      this.#pending.set(id, { slot: target, count: work.count, done, fail })
      const request: SignerRequest = {
        id,
        count: work.count,
        jobs: work.jobs.buffer as ArrayBuffer,
        keyOf: work.keyOf.buffer as ArrayBuffer,
        keys: work.keys.buffer as ArrayBuffer,
        batchVerify: this.#verifier !== null,
      }
      target.worker.postMessage(request, [request.jobs, request.keyOf, request.keys])
    })
  }

  #spawn(): Promise<void> {
    const worker = startTsWorker(new URL('./recoveryWorker.ts', import.meta.url))
    const slot: Slot = { worker, outstanding: 0 }
    return new Promise((ready, failed) => {
      let started = false
      worker.on('message', (message: { ready: true } | SignerReply) => {
        if ('ready' in message) {
          started = true
          this.#slots.push(slot)
          ready()
          return
        }
        const pending = this.#pending.get(message.id)
        if (pending === undefined) return
        this.#pending.delete(message.id)
        slot.outstanding -= pending.count
        pending.done({ results: new Uint8Array(message.results), tally: message.tally })
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

/** What the pool sends a worker: one chunk, every buffer transferred. */
export interface SignerRequest {
  id: number
  count: number
  jobs: ArrayBuffer
  keyOf: ArrayBuffer
  keys: ArrayBuffer
  batchVerify: boolean
}

/** A worker's answer: SIGNER_RESULT_BYTES per job. */
export interface SignerReply {
  id: number
  results: ArrayBuffer
  tally: SignerTally
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
