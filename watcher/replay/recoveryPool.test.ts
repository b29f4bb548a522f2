import { afterAll, describe, expect, it } from 'vitest'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { recoverAddress } from '../../engine/signing/recoverAddress.ts'
import { TestSigner } from '../testing/batchBuilder.ts'
import { type RecoveryJob, RecoveryPool } from './recoveryPool.ts'

const signers = Array.from({ length: 8 }, (_, i) => new TestSigner(0x9001 + i))

/** Signed digests, with every 7th signature broken in one of the ways a posted batch can break it. */
function jobs(count: number, salt: number): RecoveryJob[] {
  return Array.from({ length: count }, (_, i) => {
    const digest = keccak256(new Uint8Array([salt, i & 255, i >> 8]))
    const signature = signers[i % signers.length]!.sign(digest)
    if (i % 7 === 3) signature.fill(0, 0, 64) // r = s = 0
    if (i % 7 === 5) signature[64] = 29 // v out of range
    if (i % 7 === 6) signature[3]! ^= 0x40 // another point, or none
    return { digest, signature: i % 49 === 48 ? signature.subarray(0, 64) : signature }
  })
}

const pools: RecoveryPool[] = []
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
})

describe('RecoveryPool', () => {
  for (const workers of [0, 1, 2]) {
    it(`agrees with recoverAddress, in job order, with ${workers} workers`, async () => {
      const pool = await RecoveryPool.start({ workers })
      pools.push(pool)
      expect(pool.workers).toBe(workers)
      // Several calls in flight at once, of sizes around the chunking threshold.
      const sets = [0, 1, 63, 64, 130, 700].map((n, k) => jobs(n, k + workers * 10))
      const results = await Promise.all(sets.map((s) => pool.recover(s)))
      for (const [k, set] of sets.entries()) {
        const expected = set.map((j) =>
          j.signature.length === 65 ? recoverAddress(j.digest, j.signature) : null,
        )
        expect(results[k]).toEqual(expected)
      }
      const all = results.flat()
      expect(all.filter((a) => a === null).length).toBeGreaterThan(0)
      expect(all.filter((a) => a === signers[0]!.address).length).toBeGreaterThan(0)
    })
  }

  it('refuses work once closed', async () => {
    const pool = await RecoveryPool.start({ workers: 1 })
    await pool.close()
    await expect(pool.recover(jobs(3, 99))).rejects.toThrow(/closed/)
  })
})
