import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import type { BatchPosition } from '../../engine/batch/replayBatch.ts'
import { addressAt } from '../../engine/signing/recoverAddress.ts'
import { batchVerifier } from '../native/sigbatch.ts'
import {
  type CheckedSigners,
  packJobs,
  type RecoveryJob,
  SIGNER_RESULT_BYTES,
  SignerChecker,
  SignerOutcome,
  type SignerTally,
} from './verifySigners.ts'

export type { RecoveryJob } from './verifySigners.ts'

/**
 * Worker threads by default: one per core but the one the caller's thread needs to replay (the replay
 * there is as much work as the signature checks on the workers), and at least one.
 */
export function defaultSignatureWorkers(): number {
  return Math.max(1, availableParallelism() - 1)
}

export interface RecoveryPoolOptions {
  /** Worker threads; 0 recovers on the calling thread. Default: `defaultSignatureWorkers()`. */
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
  /** Batch checks that failed: a chunk's (then checked again in groups), or a group's (then recovered). */
  failedBatches: number
}

interface Slot {
  worker: Worker
  /** Jobs sent and not answered yet (a whole batch weighed by its size), to pick the least loaded worker. */
  outstanding: number
}

interface Pending {
  slot: Slot
  weight: number
  done: (answer: CheckedSigners | null) => void
  fail: (error: Error) => void
}

/** Below this many jobs per worker, a chunk's round trip costs more than it saves. */
const MIN_CHUNK_JOBS = 64
/** Longest a batch waits for a partner before it goes to a worker alone. */
const HOLD_MS = 100

/**
 * Signature checking for the watcher on worker threads. Every thread that checks (each worker, or the
 * caller's thread without workers) has a `SignerChecker`: it remembers the key each signer hint last
 * recovered to and checks the jobs whose key it knows in one batch, when the batch verifier is built
 * (watcher/native/sigbatch); the rest, and the groups of a failed check that fail again, are recovered
 * with the one recovery implementation every replayer shares (engine/signing/recoverAddress.ts). The
 * answers are the same either way.
 *
 * `recover` takes jobs and splits them over the least loaded workers. `recoverBatch` hands whole
 * batches' codec bytes to one worker, two at a time when the caller prepares ahead, which decodes them and
 * computes the digests itself, so the caller's thread only decodes. Both resolve with one address (or null: no signer) per job, in job order, and
 * several calls may be in flight at once: the replayer checks the next batches while it replays this one.
 */
export class RecoveryPool {
  readonly workers: number
  /** How signatures are checked: in batches, or each recovered (with the reason the verifier is missing). */
  readonly signatureCheck: { mode: 'batch' } | { mode: 'recovery'; reason: string }
  readonly counts: SignatureCounts = { batched: 0, recovered: 0, failedBatches: 0 }
  readonly #batchVerify: boolean
  /** The caller's thread's checker, used when there are no workers. */
  readonly #here: SignerChecker
  readonly #slots: Slot[] = []
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #closed = false
  /** The batch `recoverBatch` holds back for a partner, and the answer it promised for it. */
  #held: {
    request: SignerRequest
    weight: number
    settle: (answer: Promise<CheckedSigners | null>) => void
    timer: ReturnType<typeof setTimeout>
  } | null = null
  #heldSigners: Promise<(Address | null)[]> | null = null

  private constructor(workers: number, batchVerify: boolean) {
    this.workers = workers
    const status = batchVerifier()
    if (!batchVerify) {
      this.signatureCheck = { mode: 'recovery', reason: 'batch verification is turned off' }
    } else if (status.available) {
      this.signatureCheck = { mode: 'batch' }
    } else {
      this.signatureCheck = { mode: 'recovery', reason: status.reason }
    }
    this.#batchVerify = this.signatureCheck.mode === 'batch'
    this.#here = new SignerChecker(this.#batchVerify && status.available ? status.verifier : null)
  }

  static async start(options: RecoveryPoolOptions = {}): Promise<RecoveryPool> {
    const workers = options.workers ?? defaultSignatureWorkers()
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
    if (this.#slots.length === 0) return this.#signers(this.#here.checkJobs(jobs), count)
    const chunks = Math.max(1, Math.min(this.#slots.length, Math.floor(count / MIN_CHUNK_JOBS))) // floor: no chunk under the minimum
    const per = Math.ceil(count / chunks) // ceil: the last chunk takes the remainder
    const parts: Promise<CheckedSigners | null>[] = []
    for (let from = 0; from < count; from += per) {
      const chunk = jobs.slice(from, from + per)
      const packed = packJobs(chunk)
      parts.push(
        this.#send(
          {
            kind: 'jobs',
            id: 0,
            jobs: packed.buffer as ArrayBuffer,
            hints: chunk.map((j) => j.signerHint),
            batchVerify: this.#batchVerify,
          },
          chunk.length,
        ),
      )
    }
    const answers = await Promise.all(parts)
    const signers: (Address | null)[] = []
    for (const answer of answers)
      signers.push(...this.#signers(answer!, answer!.results.length / SIGNER_RESULT_BYTES))
    return signers
  }

  /**
   * The signer of every signature of a batch, in `signatureJobs` order, from its codec bytes (out of
   * their envelope: `unpackPosted`) decoded at `position` by one worker. Empty when the bytes do not
   * decode (the caller's own decode says why).
   */
  recoverBatch(unpacked: Uint8Array, position: BatchPosition): Promise<(Address | null)[]> {
    if (this.#closed) return Promise.reject(new RecoveryPoolError('the recovery pool is closed'))
    if (this.#slots.length === 0) {
      const here = this.#here.checkUnpacked(unpacked, position)
      return Promise.resolve(
        here === null ? [] : this.#signers(here, here.results.length / SIGNER_RESULT_BYTES),
      )
    }
    // A copy: the caller keeps its bytes, the copy moves to the worker.
    const copy = unpacked.slice()
    const request: SignerRequest = {
      kind: 'batch',
      id: 0,
      unpacked: copy.buffer as ArrayBuffer,
      position,
      batchVerify: this.#batchVerify,
    }
    // Weighed by size, against chunks of jobs: about 100 codec bytes per signature.
    const weight = Math.ceil(unpacked.length / 100) // ceil: never weightless
    const held = this.#held
    let answer: Promise<CheckedSigners | null>
    if (held === null) {
      // Held back until a second batch comes to go with it, someone waits for it (`release`), or
      // HOLD_MS pass: two batches checked together cost about a sixth less per signature.
      answer = new Promise((settle) => {
        const timer = setTimeout(() => this.#sendHeld(), HOLD_MS)
        timer.unref()
        this.#held = { request, weight, settle, timer }
      })
    } else {
      // The pair goes to one worker back to back, which checks them together.
      this.#held = null
      this.#heldSigners = null
      clearTimeout(held.timer)
      const slot = this.#leastLoaded()
      held.settle(this.#send(held.request, held.weight, slot))
      answer = this.#send(request, weight, slot)
    }
    const signers = answer.then((a) =>
      a === null ? [] : this.#signers(a, a.results.length / SIGNER_RESULT_BYTES),
    )
    if (this.#held?.request === request) this.#heldSigners = signers
    return signers
  }

  /**
   * Sends at once the batch `recoverBatch` is holding back, when `signers` is its answer. Call it before
   * waiting on an answer from `recoverBatch`, or the wait lasts until the next batch comes or HOLD_MS.
   */
  release(signers: Promise<(Address | null)[]>): void {
    if (this.#held !== null && this.#heldSigners === signers) this.#sendHeld()
  }

  #sendHeld(): void {
    const held = this.#held
    if (held === null) return
    this.#held = null
    this.#heldSigners = null
    clearTimeout(held.timer)
    if (this.#closed) held.settle(Promise.reject(new RecoveryPoolError('the recovery pool closed')))
    else held.settle(this.#send(held.request, held.weight, this.#leastLoaded()))
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#sendHeld()
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
    for (const pending of this.#pending.values())
      pending.fail(new RecoveryPoolError('the recovery pool closed'))
    this.#pending.clear()
  }

  #signers({ results, tally }: CheckedSigners, count: number): (Address | null)[] {
    this.counts.batched += tally.batched
    this.counts.recovered += tally.recovered
    this.counts.failedBatches += tally.failedBatches
    const signers = new Array<Address | null>(count)
    for (let i = 0; i < count; i++) {
      const r = i * SIGNER_RESULT_BYTES
      signers[i] = results[r] === SignerOutcome.NONE ? null : addressAt(results, r + 1)
    }
    return signers
  }

  /** The worker with the least work outstanding; undefined while none runs (one died and is replaced). */
  #leastLoaded(): Slot | undefined {
    let slot = this.#slots[0]
    for (const s of this.#slots) if (slot !== undefined && s.outstanding < slot.outstanding) slot = s
    return slot
  }

  #send(request: SignerRequest, weight: number, slot = this.#leastLoaded()): Promise<CheckedSigners | null> {
    // No worker running (one died and is being replaced; its own calls failed): check on this thread.
    if (slot === undefined || !this.#slots.includes(slot)) {
      return Promise.resolve(
        request.kind === 'jobs'
          ? this.#here.check(new Uint8Array(request.jobs), request.hints)
          : this.#here.checkUnpacked(new Uint8Array(request.unpacked), request.position),
      )
    }
    const id = this.#nextId++
    slot.outstanding += weight
    const target = slot
    return new Promise((done, fail) => {
      this.#pending.set(id, { slot: target, weight, done, fail })
      const transfer = request.kind === 'jobs' ? request.jobs : request.unpacked
      target.worker.postMessage({ ...request, id }, [transfer])
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
        slot.outstanding -= pending.weight
        pending.done(
          message.results === null
            ? null
            : { results: new Uint8Array(message.results), tally: message.tally },
        )
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

/** What the pool sends a worker; the bytes are transferred. */
export type SignerRequest =
  | {
      kind: 'jobs'
      id: number
      /** Packed jobs (packJobs). */
      jobs: ArrayBuffer
      hints: (string | undefined)[]
      batchVerify: boolean
    }
  | { kind: 'batch'; id: number; unpacked: ArrayBuffer; position: BatchPosition; batchVerify: boolean }

/** A worker's answer: SIGNER_RESULT_BYTES per job, or null results for a batch that does not decode. */
export interface SignerReply {
  id: number
  results: ArrayBuffer | null
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
