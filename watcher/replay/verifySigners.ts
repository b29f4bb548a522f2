import { randomBytes } from 'node:crypto'
import { type BatchPosition, decodeUnpackedEntries, signatureJobs } from '../../engine/batch/replayBatch.ts'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { JOB_BYTES, recoverPublicKey } from '../../engine/signing/recoverAddress.ts'
import type { BatchVerifier } from '../native/sigbatch.ts'

/**
 * One chunk of the watcher's signature work, on whichever thread runs it: the jobs that come with an
 * expected key (the key that last signed for the same account or oracle slot) are checked together by
 * the batch verifier; the rest are recovered one by one. When the batch check fails, the expected jobs
 * are checked again in up to FALLBACK_GROUPS groups, and only the groups that fail are recovered. Either
 * way each job ends with exactly the signer recovery gives: a batch check passes only when every
 * signature in it recovers to its expected key (watcher/native/sigbatch/sigbatch.c).
 *
 * A result is SIGNER_RESULT_BYTES per job: outcome (1) ‖ address (20) ‖ public key x ‖ y (64).
 */
export const SIGNER_RESULT_BYTES = 85

export const SignerOutcome = {
  /** The signature recovers to no public key. */
  NONE: 0,
  /** Recovered one by one: the key is new to the caller, or differs from the one it expected. */
  RECOVERED: 1,
  /** Recovers to the expected key, checked in the batch. */
  EXPECTED: 2,
} as const

/**
 * One signature to recover: a 32-byte digest and a 65-byte r ‖ s ‖ v signature. `signerHint` names who
 * is expected to have signed (an account, an oracle slot): the key that last signed for the same hint
 * is checked in a batch instead of recovered, when the batch verifier is built.
 */
export interface RecoveryJob {
  digest: Uint8Array
  signature: Uint8Array
  signerHint?: string | undefined
}

/** A checked chunk: SIGNER_RESULT_BYTES per job, in job order, and how they were checked. */
export interface CheckedSigners {
  results: Uint8Array
  tally: SignerTally
}

/** Expected keys kept per checker (about 150 bytes each); past this, the oldest tenth is forgotten. */
const MAX_KNOWN_KEYS = 200_000

/**
 * The signature side of one replaying thread (a pool worker, or the caller's thread without workers):
 * it remembers the key each signer hint last recovered to, so that the next signatures for the same hint
 * are checked in a batch (`verifySigners`). A hint whose signature recovers to another key (an account
 * that changed agents, or a forgery) costs one recovery and is learned anew; the answers never depend on
 * what was remembered.
 */
export class SignerChecker {
  readonly #verifier: BatchVerifier | null
  /** Signer hint → the 64-byte key it last recovered to. */
  readonly #knownKeys = new Map<string, Uint8Array>()

  constructor(verifier: BatchVerifier | null) {
    this.#verifier = verifier
  }

  /** Checks packed jobs (`hints.length` of them, JOB_BYTES each), learning the keys it recovers. */
  check(packed: Uint8Array, hints: readonly (string | undefined)[]): CheckedSigners {
    const count = hints.length
    const keyOf = new Int32Array(count).fill(-1)
    const keyIndex = new Map<Uint8Array, number>()
    const keyList: Uint8Array[] = []
    if (this.#verifier !== null) {
      for (let i = 0; i < count; i++) {
        const hint = hints[i]
        const key = hint === undefined ? undefined : this.#knownKeys.get(hint)
        if (key === undefined) continue
        let k = keyIndex.get(key)
        if (k === undefined) {
          k = keyList.length
          keyIndex.set(key, k)
          keyList.push(key)
        }
        keyOf[i] = k
      }
    }
    const keys = new Uint8Array(keyList.length * 64)
    for (const [k, key] of keyList.entries()) keys.set(key, k * 64)
    const results = new Uint8Array(count * SIGNER_RESULT_BYTES)
    const tally = verifySigners({ jobs: packed, count, keyOf, keys }, results, this.#verifier)
    if (this.#verifier !== null && tally.recovered > 0) {
      for (let i = 0; i < count; i++) {
        const hint = hints[i]
        const r = i * SIGNER_RESULT_BYTES
        if (hint !== undefined && results[r] === SignerOutcome.RECOVERED)
          this.#learn(hint, results.slice(r + 21, r + 85))
      }
    }
    return { results, tally }
  }

  /** Packs and checks `jobs`. */
  checkJobs(jobs: readonly RecoveryJob[]): CheckedSigners {
    return this.check(
      packJobs(jobs),
      jobs.map((j) => j.signerHint),
    )
  }

  /**
   * Decodes a batch's codec bytes (out of their envelope: `unpackPosted`) at `position`, computes every
   * digest and checks every signature, in the order `signatureJobs` lists them. Null when the batch does
   * not decode: the caller's own decode says why.
   */
  checkUnpacked(unpacked: Uint8Array, position: BatchPosition): CheckedSigners | null {
    return this.checkUnpackedMany([{ unpacked, position }])[0]!
  }

  /**
   * `checkUnpacked` for several batches at once, in one batch check: signers common to them share a
   * term, and one larger multiplication costs less per signature. The tally of the whole check is on the
   * first answer that has one; the others count nothing.
   */
  checkUnpackedMany(
    batches: readonly { unpacked: Uint8Array; position: BatchPosition }[],
  ): (CheckedSigners | null)[] {
    const jobs: RecoveryJob[] = []
    const counts: (number | null)[] = []
    for (const { unpacked, position } of batches) {
      const decoded = decodeUnpackedEntries(position, unpacked)
      if (!('entries' in decoded)) {
        counts.push(null)
        continue
      }
      const own = signatureJobs(position, decoded.entries)
      counts.push(own.length)
      for (const job of own) jobs.push(job)
    }
    const all = this.checkJobs(jobs)
    let at = 0
    let tally: SignerTally | null = all.tally
    return counts.map((count) => {
      if (count === null) return null
      const results = all.results.slice(at * SIGNER_RESULT_BYTES, (at + count) * SIGNER_RESULT_BYTES)
      at += count
      const answer = { results, tally: tally ?? { batched: 0, recovered: 0, failedBatches: 0 } }
      tally = null
      return answer
    })
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
}

/** JOB_BYTES per job: digest ‖ signature; a signature of the wrong length keeps v = 0, which recovers to nobody. */
export function packJobs(jobs: readonly RecoveryJob[]): Uint8Array {
  const packed = new Uint8Array(jobs.length * JOB_BYTES)
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!
    const at = i * JOB_BYTES
    packed.set(job.digest.subarray(0, 32), at)
    if (job.signature.length === 65) packed.set(job.signature, at + 32)
  }
  return packed
}

/** Below this many jobs with an expected key, recovering them costs less than one batch check. */
const MIN_BATCH_JOBS = 8
/**
 * After a failed batch check, the groups checked one by one. With one bad signature among n, the work is
 * about two batch checks and n / 8 recoveries, where recovering everything costs about four batch checks.
 */
const FALLBACK_GROUPS = 8

export interface SignerWork {
  /** `count` 97-byte jobs: digest ‖ r ‖ s ‖ v. */
  jobs: Uint8Array
  count: number
  /** Per job, the index of its expected key in `keys`, or -1 for none. */
  keyOf: Int32Array
  /** 64-byte keys, x ‖ y. */
  keys: Uint8Array
}

export interface SignerTally {
  /** Jobs confirmed by a passing batch check. */
  batched: number
  /** Jobs recovered one by one. */
  recovered: number
  /** Batch checks that failed: the whole chunk's, and each fallback group's whose jobs were recovered. */
  failedBatches: number
}

const pubkey65 = new Uint8Array(65)

/** Fills `results` (count × SIGNER_RESULT_BYTES) for `work`; `verifier` null recovers everything. */
export function verifySigners(
  work: SignerWork,
  results: Uint8Array,
  verifier: BatchVerifier | null,
): SignerTally {
  const { jobs, count, keyOf, keys } = work
  const tally: SignerTally = { batched: 0, recovered: 0, failedBatches: 0 }
  const expected: number[] = []
  for (let i = 0; i < count; i++) if (keyOf[i]! >= 0) expected.push(i)
  /** 1 where a passing batch check confirmed the expected key. */
  const confirmed = new Uint8Array(count)
  if (verifier !== null && expected.length >= MIN_BATCH_JOBS) {
    if (checkSubset(work, expected, verifier)) {
      for (const i of expected) confirmed[i] = 1
    } else {
      tally.failedBatches++
      // Most likely one signer changed keys: check in groups, and recover only the groups that fail.
      const groups = Math.min(FALLBACK_GROUPS, Math.floor(expected.length / MIN_BATCH_JOBS)) // floor: no group under the minimum
      const per = Math.ceil(expected.length / groups) // ceil: the last group takes the remainder
      for (let from = 0; groups >= 2 && from < expected.length; from += per) {
        const group = expected.slice(from, from + per)
        if (checkSubset(work, group, verifier)) for (const i of group) confirmed[i] = 1
        else tally.failedBatches++
      }
    }
  }
  const addresses = new Array<Uint8Array | undefined>(keys.length / 64)
  for (let i = 0; i < count; i++) {
    const r = i * SIGNER_RESULT_BYTES
    if (confirmed[i] === 1) {
      const k = keyOf[i]!
      const key = keys.subarray(k * 64, k * 64 + 64)
      let address = addresses[k]
      if (address === undefined) {
        address = keccak256(key).subarray(12)
        addresses[k] = address
      }
      results[r] = SignerOutcome.EXPECTED
      results.set(address, r + 1)
      results.set(key, r + 21)
      tally.batched++
      continue
    }
    tally.recovered++
    if (!recoverPublicKey(jobs, i, pubkey65)) {
      results[r] = SignerOutcome.NONE
      continue
    }
    const key = pubkey65.subarray(1)
    results[r] = SignerOutcome.RECOVERED
    results.set(keccak256(key).subarray(12), r + 1)
    results.set(key, r + 21)
  }
  return tally
}

/**
 * The batch check over jobs `indices` (each with an expected key); false also when the check runs out
 * of memory (SIGBATCH_MEMORY), since recovery one by one needs none.
 */
function checkSubset(work: SignerWork, indices: readonly number[], verifier: BatchVerifier): boolean {
  const { jobs, count, keyOf, keys } = work
  const seed = randomBytes(32)
  try {
    if (indices.length === count) {
      return verifier.verifyBatch(
        jobs.subarray(0, count * JOB_BYTES),
        new Uint32Array(keyOf.buffer, keyOf.byteOffset, count),
        keys,
        seed,
      )
    }
    const subset = new Uint8Array(indices.length * JOB_BYTES)
    const subsetKeyOf = new Uint32Array(indices.length)
    for (const [n, i] of indices.entries()) {
      subset.set(jobs.subarray(i * JOB_BYTES, (i + 1) * JOB_BYTES), n * JOB_BYTES)
      subsetKeyOf[n] = keyOf[i]!
    }
    return verifier.verifyBatch(subset, subsetKeyOf, keys, seed)
  } catch {
    return false
  }
}
