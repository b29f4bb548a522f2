import fc from 'fast-check'
import secp256k1 from 'secp256k1'
import { describe, expect, it } from 'vitest'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { JOB_BYTES, recoverPublicKey } from '../../engine/signing/recoverAddress.ts'
import { TestSigner } from '../testing/batchBuilder.ts'
import { type BatchVerifier, batchVerifier } from './sigbatch.ts'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const signers = Array.from({ length: 5 }, (_, i) => new TestSigner(0x5167 + i))
const keys = new Uint8Array(signers.length * 64)
for (const [k, s] of signers.entries())
  keys.set(secp256k1.publicKeyCreate(s.privateKey, false).subarray(1), k * 64)

function loaded(): BatchVerifier {
  const status = batchVerifier()
  if (!status.available) throw new Error(status.reason)
  return status.verifier
}

/** `count` jobs, job i signed by signer i mod 5 (keyOf says so). */
function signedJobs(count: number, salt = 0): { jobs: Uint8Array; keyOf: Uint32Array } {
  const jobs = new Uint8Array(count * JOB_BYTES)
  const keyOf = new Uint32Array(count)
  for (let i = 0; i < count; i++) {
    const digest = keccak256(new Uint8Array([salt, i & 255, i >> 8, 7]))
    const k = i % signers.length
    jobs.set(digest, i * JOB_BYTES)
    jobs.set(signers[k]!.sign(digest), i * JOB_BYTES + 32)
    keyOf[i] = k
  }
  return { jobs, keyOf }
}

const seed = () => keccak256(new Uint8Array([Math.floor(Math.random() * 256), 1, 2]))

function bigAt(bytes: Uint8Array, at: number): bigint {
  let v = 0n
  for (let i = 0; i < 32; i++) v = (v << 8n) | BigInt(bytes[at + i]!)
  return v
}

function setBig(bytes: Uint8Array, at: number, v: bigint): void {
  for (let i = 31; i >= 0; i--) {
    bytes[at + i] = Number(v & 255n)
    v >>= 8n
  }
}

/** What recovery says: does job i recover to keys[keyOf[i]]? */
function recoversToKey(jobs: Uint8Array, keyOf: Uint32Array, i: number): boolean {
  const out = new Uint8Array(65)
  if (!recoverPublicKey(jobs, i, out)) return false
  const k = keyOf[i]!
  return Buffer.from(out.subarray(1)).equals(Buffer.from(keys.subarray(k * 64, k * 64 + 64)))
}

describe('the batch signature verifier (native)', () => {
  it('is built: npm install builds it (npm run build:native)', () => {
    expect(batchVerifier()).toMatchObject({ available: true })
  })

  it('accepts batches where every signature recovers to its key, of every size', () => {
    const verifier = loaded()
    for (const count of [1, 2, 7, 64, 200, 1_000]) {
      const { jobs, keyOf } = signedJobs(count, count & 255)
      expect(verifier.verifyBatch(jobs, keyOf, keys, seed()), `${count} jobs`).toBe(true)
    }
    expect(verifier.verifyBatch(new Uint8Array(0), new Uint32Array(0), new Uint8Array(0), seed())).toBe(true)
  })

  it('accepts a high-s signature, as recovery does', () => {
    const { jobs, keyOf } = signedJobs(10, 3)
    const at = 4 * JOB_BYTES
    setBig(jobs, at + 64, N - bigAt(jobs, at + 64))
    jobs[at + 96] = jobs[at + 96] === 27 ? 28 : 27
    expect(recoversToKey(jobs, keyOf, 4)).toBe(true)
    expect(loaded().verifyBatch(jobs, keyOf, keys, seed())).toBe(true)
  })

  const breakages: [string, (jobs: Uint8Array, keyOf: Uint32Array, at: number, i: number) => void][] = [
    ['another digest', (jobs, _k, at) => (jobs[at + 5]! ^= 1)],
    ['another r', (jobs, _k, at) => (jobs[at + 40]! ^= 1)],
    ['another s', (jobs, _k, at) => (jobs[at + 90]! ^= 1)],
    ['the other parity', (jobs, _k, at) => (jobs[at + 96] = jobs[at + 96] === 27 ? 28 : 27)],
    ['v = 29', (jobs, _k, at) => (jobs[at + 96] = 29)],
    ['v = 0', (jobs, _k, at) => (jobs[at + 96] = 0)],
    ['r = 0', (jobs, _k, at) => jobs.fill(0, at + 32, at + 64)],
    ['s = 0', (jobs, _k, at) => jobs.fill(0, at + 64, at + 96)],
    ['s = n', (jobs, _k, at) => setBig(jobs, at + 64, N)],
    ['r = n + 1', (jobs, _k, at) => setBig(jobs, at + 32, N + 1n)],
    ['another key', (_j, keyOf, _at, i) => (keyOf[i] = (keyOf[i]! + 1) % signers.length)],
  ]

  for (const [name, breakIt] of breakages) {
    it(`refuses a batch with one signature broken: ${name}`, () => {
      const { jobs, keyOf } = signedJobs(150, 9)
      breakIt(jobs, keyOf, 77 * JOB_BYTES, 77)
      expect(recoversToKey(jobs, keyOf, 77)).toBe(false)
      expect(loaded().verifyBatch(jobs, keyOf, keys, seed())).toBe(false)
    })
  }

  it('refuses a key that is not on the curve', () => {
    const { jobs, keyOf } = signedJobs(20, 4)
    const bad = keys.slice()
    bad[64 + 63]! ^= 1
    expect(loaded().verifyBatch(jobs, keyOf, bad, seed())).toBe(false)
  })

  it('answers as recovery does for any set of broken signatures', () => {
    const verifier = loaded()
    const base = signedJobs(40, 11)
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.nat({ max: 39 }), how: fc.nat({ max: breakages.length - 1 }) }), {
          maxLength: 3,
        }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (breaks, seedBytes) => {
          const jobs = base.jobs.slice()
          const keyOf = base.keyOf.slice()
          for (const { i, how } of breaks) breakages[how]![1](jobs, keyOf, i * JOB_BYTES, i)
          let all = true
          for (let i = 0; i < 40; i++) all &&= recoversToKey(jobs, keyOf, i)
          expect(verifier.verifyBatch(jobs, keyOf, keys, seedBytes)).toBe(all)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses malformed arguments with SIGBATCH_ARGUMENT', () => {
    const verifier = loaded()
    const { jobs, keyOf } = signedJobs(3)
    const calls: (() => unknown)[] = [
      () => verifier.verifyBatch(jobs.subarray(1), keyOf, keys, seed()),
      () => verifier.verifyBatch(jobs, keyOf.subarray(1), keys, seed()),
      () => verifier.verifyBatch(jobs, keyOf, keys.subarray(1), seed()),
      () => verifier.verifyBatch(jobs, keyOf, keys, seed().subarray(1)),
      () => verifier.verifyBatch(jobs, new Uint32Array([0, 1, 5]), keys, seed()),
      () => verifier.verifyBatch(jobs, new Int32Array(3) as unknown as Uint32Array, keys, seed()),
      () => verifier.verifyBatch(jobs, keyOf, keys, 'seed' as unknown as Uint8Array),
      () => (verifier.verifyBatch as (...a: unknown[]) => boolean)(jobs, keyOf, keys),
    ]
    for (const call of calls) expect(call).toThrow(expect.objectContaining({ code: 'SIGBATCH_ARGUMENT' }))
  })
})
