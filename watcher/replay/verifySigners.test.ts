import { describe, expect, it } from 'vitest'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { recoverAddress } from '../../engine/signing/recoverAddress.ts'
import { batchVerifier } from '../native/sigbatch.ts'
import { TestSigner } from '../testing/batchBuilder.ts'
import { packJobs, type RecoveryJob, SignerChecker } from './verifySigners.ts'

const signers = Array.from({ length: 6 }, (_, i) => new TestSigner(0x7e57 + i))

function jobs(count: number, salt: number, signerOf: (i: number) => number): RecoveryJob[] {
  return Array.from({ length: count }, (_, i) => {
    const digest = keccak256(new Uint8Array([salt, i & 255, i >> 8, 0x33]))
    return { digest, signature: signers[signerOf(i)]!.sign(digest), signerHint: `account ${i % 6}` }
  })
}

function verifier() {
  const status = batchVerifier()
  if (!status.available) throw new Error(status.reason)
  return status.verifier
}

describe('SignerChecker', () => {
  it('after a failed batch check, recovers only the group holding the signer that changed keys', () => {
    const checker = new SignerChecker(verifier())
    const learn = jobs(240, 1, (i) => i % 6)
    checker.checkJobs(learn)
    // Job 100 (account 4) is now signed by another key: one group of eight fails.
    const next = jobs(240, 2, (i) => (i === 100 ? 5 : i % 6))
    const { results, tally } = checker.check(
      packJobs(next),
      next.map((j) => j.signerHint),
    )
    expect(tally).toEqual({ batched: 210, recovered: 30, failedBatches: 2 })
    for (const [i, job] of next.entries()) {
      const address = `0x${Buffer.from(results.subarray(i * 85 + 1, i * 85 + 21)).toString('hex')}`
      expect(address).toBe(recoverAddress(job.digest, job.signature))
    }
  })

  it('recovers everything when no key is known, or without a verifier', () => {
    const set = jobs(50, 3, (i) => i % 6)
    expect(new SignerChecker(verifier()).checkJobs(set).tally).toEqual({
      batched: 0,
      recovered: 50,
      failedBatches: 0,
    })
    const blind = new SignerChecker(null)
    blind.checkJobs(set)
    expect(blind.checkJobs(jobs(50, 4, (i) => i % 6)).tally).toEqual({
      batched: 0,
      recovered: 50,
      failedBatches: 0,
    })
  })
})
