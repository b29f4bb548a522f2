import secp256k1 from 'secp256k1'
import type { Address } from 'viem'
import { keccak256 } from '../commitment/keccak256.ts'

/**
 * Signer recovery with native libsecp256k1 (npm `secp256k1`), the hot path of intake. The address
 * is the last 20 bytes of keccak256 of the uncompressed public key without its 0x04 prefix.
 *
 * A job is 97 bytes: digest (32) ‖ r (32) ‖ s (32) ‖ v (1, 27 or 28). A result is 21 bytes:
 * ok (1: 1 recovered, 0 not) ‖ address (20).
 */
export const JOB_BYTES = 97
export const RESULT_BYTES = 21

const pubkey = new Uint8Array(65)
const HEX_CHAR = Array.from('0123456789abcdef', (c) => c.charCodeAt(0))
/** '0x' then 40 hex digits, rebuilt in place: one flat string per address, no concatenation rope. */
const addressChars: number[] = new Array(42).fill(48)
addressChars[1] = 120 // 'x'

/**
 * Recovers job `index` of `jobs` into `pubkey65` (0x04 ‖ x ‖ y); false when the signature recovers to no
 * public key (v not 27 or 28, r or s out of range, or no curve point).
 */
export function recoverPublicKey(jobs: Uint8Array, index: number, pubkey65: Uint8Array): boolean {
  const j = index * JOB_BYTES
  const v = jobs[j + 96]!
  if (v !== 27 && v !== 28) return false
  try {
    secp256k1.ecdsaRecover(jobs.subarray(j + 32, j + 96), v - 27, jobs.subarray(j, j + 32), false, pubkey65)
  } catch {
    // Not a point on the curve, or r/s out of range: no signer.
    return false
  }
  return true
}

/** Recovers `count` jobs from `jobs` into `results`; sync, single-threaded use of the shared buffers. */
export function recoverJobs(jobs: Uint8Array, results: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const r = i * RESULT_BYTES
    if (!recoverPublicKey(jobs, i, pubkey)) {
      results[r] = 0
      continue
    }
    const hash = keccak256(pubkey.subarray(1))
    results[r] = 1
    results.set(hash.subarray(12), r + 1)
  }
}

/** One signature, on the calling thread: for tests, tools and the pool-less mode. */
export function recoverAddress(digest: Uint8Array, signature: Uint8Array): Address | null {
  const job = new Uint8Array(JOB_BYTES)
  job.set(digest, 0)
  job.set(signature, 32)
  const result = new Uint8Array(RESULT_BYTES)
  recoverJobs(job, result, 1)
  return result[0] === 1 ? addressAt(result, 1) : null
}

/** The lowercase `0x` address of the 20 bytes at `offset`. */
export function addressAt(bytes: Uint8Array, offset: number): Address {
  for (let i = 0; i < 20; i++) {
    const b = bytes[offset + i]!
    addressChars[2 + 2 * i] = HEX_CHAR[b >> 4]!
    addressChars[3 + 2 * i] = HEX_CHAR[b & 15]!
  }
  return String.fromCharCode.apply(null, addressChars) as Address
}
