import { afterAll, describe, expect, it } from 'vitest'
import { unpackPosted } from '../../engine/batch/replayBatch.ts'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { recoverAddress } from '../../engine/signing/recoverAddress.ts'
import { BatchBuilder, TestSigner } from '../testing/batchBuilder.ts'
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

  /** Each job hinted with the account it signs for; accounts below `swap` sign with another key (an agent's). */
  function hinted(count: number, salt: number, swap = 0): RecoveryJob[] {
    return Array.from({ length: count }, (_, i) => {
      const digest = keccak256(new Uint8Array([salt, i & 255, i >> 8, 0x5a]))
      const owner = i % signers.length
      const signer = owner < swap ? (owner + 1) % signers.length : owner
      return { digest, signature: signers[signer]!.sign(digest), signerHint: `account ${owner}` }
    })
  }
  const recovered = (set: RecoveryJob[]) => set.map((j) => recoverAddress(j.digest, j.signature))

  for (const workers of [0, 2]) {
    it(`checks known signers in batches and answers as recovery does, with ${workers} workers`, async () => {
      const pool = await RecoveryPool.start({ workers })
      pools.push(pool)
      expect(pool.signatureCheck).toEqual({ mode: 'batch' })
      const first = hinted(300, 1)
      expect(await pool.recover(first)).toEqual(recovered(first))
      expect(pool.counts).toEqual({ batched: 0, recovered: 300, failedBatches: 0 })

      const second = hinted(300, 2)
      expect(await pool.recover(second)).toEqual(recovered(second))
      expect(pool.counts.batched).toBe(300)

      // Two accounts sign with another key this time, and one signature is broken: the chunks holding
      // them fail their batch check and are recovered one by one; the answers do not change.
      const third = hinted(300, 3, 2)
      third[150]!.signature[40]! ^= 1
      // (Its garbage key is learned for its hint like any other; give it a hint of its own so the
      // fourth call below measures the learning of the swapped keys alone.)
      third[150]!.signerHint = 'account forged'
      const expected = recovered(third)
      const swapped = third.filter((_, i) => i % signers.length < 2).length
      expect(expected.filter((a, i) => a !== signers[i % signers.length]!.address).length).toBe(swapped + 1)
      expect(await pool.recover(third)).toEqual(expected)
      expect(pool.counts.failedBatches).toBeGreaterThanOrEqual(1)
      // The swapped accounts' new key is learned: the next call is all batched again.
      const before = pool.counts.batched
      const fourth = hinted(300, 4, 2)
      expect(await pool.recover(fourth)).toEqual(recovered(fourth))
      expect(pool.counts.batched - before).toBe(300)
    })
  }

  it('recovers every signature when batch verification is off', async () => {
    const pool = await RecoveryPool.start({ workers: 0, batchVerify: false })
    pools.push(pool)
    expect(pool.signatureCheck.mode).toBe('recovery')
    for (const salt of [5, 6]) {
      const set = hinted(100, salt)
      expect(await pool.recover(set)).toEqual(recovered(set))
    }
    expect(pool.counts).toEqual({ batched: 0, recovered: 200, failedBatches: 0 })
  })

  it('sends a batch held for a partner when it is released, when a partner comes, or after a while', async () => {
    const pool = await RecoveryPool.start({ workers: 1 })
    pools.push(pool)
    const b = new BatchBuilder()
    b.deposit(signers[0]!.address, 1_000_000_000n)
    b.user(signers[0]!, { type: 'withdraw', amountQuantums: 1n })
    const batch = b.seal()
    const unpacked = unpackPosted(batch.posted) as Uint8Array
    const position = {
      chainId: b.config.chainId,
      settlementAddress: b.config.settlementAddress,
      firstSeq: 1,
      minTimestampMs: 0,
    }
    const expected = [signers[0]!.address]
    // Released: answered at once.
    const alone = pool.recoverBatch(unpacked, position)
    pool.release(alone)
    expect(await alone).toEqual(expected)
    // A partner: both answered.
    const [first, second] = [pool.recoverBatch(unpacked, position), pool.recoverBatch(unpacked, position)]
    expect(await Promise.all([first, second])).toEqual([expected, expected])
    // Neither: answered after the hold, without hanging.
    const started = performance.now()
    expect(await pool.recoverBatch(unpacked, position)).toEqual(expected)
    expect(performance.now() - started).toBeLessThan(5_000)
    // Held when the pool closes: refused, not left hanging.
    const orphan = expect(pool.recoverBatch(unpacked, position)).rejects.toThrow(/closed/)
    await pool.close()
    await orphan
  })

  it('refuses work once closed', async () => {
    const pool = await RecoveryPool.start({ workers: 1 })
    await pool.close()
    await expect(pool.recover(jobs(3, 99))).rejects.toThrow(/closed/)
  })
})
