import { randomBytes } from 'node:crypto'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { JOB_BYTES, recoverPublicKey } from '../../engine/signing/recoverAddress.ts'
import type { BatchVerifier } from '../native/sigbatch.ts'

/**
 * One chunk of the watcher's signature work, on whichever thread runs it: the jobs that come with an
 * expected key (the key that last signed for the same account or oracle slot) are checked together by
 * the batch verifier; the rest, and every job of a chunk whose batch check fails, are recovered one by
 * one. Either way each job ends with exactly the signer recovery gives: the batch check passes only
 * when every signature in it recovers to its expected key (watcher/native/sigbatch/sigbatch.c).
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

/** Below this many jobs with an expected key, recovering them costs less than one batch check. */
const MIN_BATCH_JOBS = 8

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
  /** Batch checks that failed (each sends its jobs to recovery). */
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
  let expected = 0
  for (let i = 0; i < count; i++) if (keyOf[i]! >= 0) expected++
  let batchedOk = false
  if (verifier !== null && expected >= MIN_BATCH_JOBS) {
    batchedOk = checkExpected(work, expected, verifier)
    if (batchedOk) {
      const addresses = new Array<Uint8Array | undefined>(keys.length / 64)
      for (let i = 0; i < count; i++) {
        const k = keyOf[i]!
        if (k < 0) continue
        const key = keys.subarray(k * 64, k * 64 + 64)
        let address = addresses[k]
        if (address === undefined) {
          address = keccak256(key).subarray(12)
          addresses[k] = address
        }
        const r = i * SIGNER_RESULT_BYTES
        results[r] = SignerOutcome.EXPECTED
        results.set(address, r + 1)
        results.set(key, r + 21)
      }
      tally.batched = expected
    } else {
      tally.failedBatches = 1
    }
  }
  for (let i = 0; i < count; i++) {
    if (batchedOk && keyOf[i]! >= 0) continue
    tally.recovered++
    const r = i * SIGNER_RESULT_BYTES
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

/** The batch check over the jobs that have an expected key, compacted when some have none. */
function checkExpected(work: SignerWork, expected: number, verifier: BatchVerifier): boolean {
  const { jobs, count, keyOf, keys } = work
  const seed = randomBytes(32)
  if (expected === count) {
    return verifier.verifyBatch(
      jobs.subarray(0, count * JOB_BYTES),
      new Uint32Array(keyOf.buffer, keyOf.byteOffset, count),
      keys,
      seed,
    )
  }
  const subset = new Uint8Array(expected * JOB_BYTES)
  const subsetKeyOf = new Uint32Array(expected)
  let n = 0
  for (let i = 0; i < count; i++) {
    const k = keyOf[i]!
    if (k < 0) continue
    subset.set(jobs.subarray(i * JOB_BYTES, (i + 1) * JOB_BYTES), n * JOB_BYTES)
    subsetKeyOf[n++] = k
  }
  return verifier.verifyBatch(subset, subsetKeyOf, keys, seed)
}
