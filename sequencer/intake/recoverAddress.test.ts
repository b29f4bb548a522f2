import fc from 'fast-check'
import { type Address, bytesToHex, type Hex, hashTypedData, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import type { UserOp } from '../../engine/ops.ts'
import { domainSeparator, userOpDigest } from '../../engine/signing/digest.ts'
import { JOB_BYTES, RESULT_BYTES, recoverAddress, recoverJobs } from '../../engine/signing/recoverAddress.ts'
import { signingDomain } from '../../engine/signing/signingDomain.ts'
import { toTypedData } from '../../engine/signing/toTypedData.ts'
import { userOpArb } from '../../engine/testing/codecArbitraries.ts'
import { TestKey } from '../testing/testKeys.ts'
import { parseIntent } from './parseIntent.ts'
import { RecoveryPool } from './recoveryPool.ts'

const CHAIN_ID = 31337n
const SETTLEMENT: Address = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const DOMAIN = signingDomain(CHAIN_ID, SETTLEMENT)
const SEPARATOR = domainSeparator(CHAIN_ID, SETTLEMENT)
const KEYS = Array.from({ length: 16 }, (_, i) => TestKey.fromSeed(0x5eed_0000 + i))
const SEED = 0x5ce_4

/** Random ops of every type, each re-addressed to and signed by one of KEYS, as intake parses them. */
function signedOps(count: number) {
  const ops = fc.sample(userOpArb, { numRuns: count, seed: SEED })
  return ops.map((raw, i) => {
    const key = KEYS[i % KEYS.length]!
    const op = { ...raw, account: key.address, signer: key.address } as UserOp
    const intent = key.signIntent(op, SEPARATOR)
    const parsed = parseIntent(intent)
    if (!('op' in parsed)) throw new Error(`intake refused a valid op: ${parsed.message}`)
    return { key, op, intent, parsed }
  })
}

describe('signer recovery against viem', () => {
  const cases = signedOps(2_000)

  it('computes the same digests as viem for 2,000 random intents of every type', () => {
    const types = new Set<string>()
    for (const { parsed } of cases) {
      types.add(parsed.op.type)
      const ours = bytesToHex(userOpDigest(parsed.op, SEPARATOR))
      const viems = hashTypedData(toTypedData(parsed.op, DOMAIN) as Parameters<typeof hashTypedData>[0])
      expect(ours).toBe(viems)
    }
    expect(types.size).toBe(7)
  })

  it('recovers the signing key of 2,000 random intents natively, and viem agrees on 400 of them', async () => {
    for (const [i, { key, parsed, intent }] of cases.entries()) {
      expect(recoverAddress(userOpDigest(parsed.op, SEPARATOR), parsed.signature)).toBe(key.address)
      if (i % 5 !== 0) continue
      const viems = await recoverTypedDataAddress({
        ...(toTypedData(parsed.op, DOMAIN) as Parameters<typeof hashTypedData>[0]),
        signature: intent.signature as Hex,
      } as Parameters<typeof recoverTypedDataAddress>[0])
      expect(viems.toLowerCase()).toBe(key.address)
    }
  })

  it('recovers signatures made by viem signTypedData', async () => {
    for (const { key, op } of cases.slice(0, 100)) {
      const account = privateKeyToAccount(key.privateKeyHex)
      const signature = await account.signTypedData(
        toTypedData(op, DOMAIN) as Parameters<typeof account.signTypedData>[0],
      )
      const parsed = parseIntent({ ...key.signIntent(op, SEPARATOR), signature })
      if (!('op' in parsed)) throw new Error(parsed.message)
      expect(recoverAddress(userOpDigest(parsed.op, SEPARATOR), parsed.signature)).toBe(
        account.address.toLowerCase(),
      )
    }
  })

  it('a signature for another chain or contract recovers someone else', () => {
    const { key, op } = cases[0]!
    const other = domainSeparator(1n, SETTLEMENT)
    const elsewhere = parseIntent(key.signIntent(op, other))
    if (!('op' in elsewhere)) throw new Error(elsewhere.message)
    expect(recoverAddress(userOpDigest(elsewhere.op, SEPARATOR), elsewhere.signature)).not.toBe(key.address)
  })

  it('never throws on garbage: off-curve r gives no signer, v outside 27/28 gives no signer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 97, maxLength: 97 }), (job) => {
        const results = new Uint8Array(RESULT_BYTES)
        recoverJobs(job, results, 1)
        const v = job[96]!
        if (v !== 27 && v !== 28) expect(results[0]).toBe(0)
        else expect([0, 1]).toContain(results[0])
      }),
      { seed: SEED, numRuns: 500 },
    )
  })
})

describe('RecoveryPool', () => {
  it('returns each call’s results in job order, across workers, equal to inline recovery', async () => {
    const cases = signedOps(600)
    const pool = await RecoveryPool.start(2)
    const inline = await RecoveryPool.start(0)
    try {
      const chunks: Uint8Array[] = []
      for (let at = 0; at < cases.length; at += 37) {
        const slice = cases.slice(at, at + 37)
        const jobs = new Uint8Array(slice.length * JOB_BYTES)
        slice.forEach(({ parsed }, i) => {
          jobs.set(userOpDigest(parsed.op, SEPARATOR), i * JOB_BYTES)
          jobs.set(parsed.signature, i * JOB_BYTES + 32)
          // Every fifth signature is corrupted: it must fail or recover someone else, in its own slot.
          if (i % 5 === 4) jobs[i * JOB_BYTES + 40]! ^= 0xff
        })
        chunks.push(jobs)
      }
      const expected = await Promise.all(chunks.map((c) => inline.recover(c.slice(), c.length / JOB_BYTES)))
      const got = await Promise.all(chunks.map((c) => pool.recover(c, c.length / JOB_BYTES)))
      expect(got).toEqual(expected)
      let n = 0
      for (const [ci, results] of got.entries()) {
        for (let i = 0; i < results.length / RESULT_BYTES; i++, n++) {
          const recovered =
            results[i * RESULT_BYTES] === 1
              ? bytesToHex(results.subarray(i * RESULT_BYTES + 1, (i + 1) * RESULT_BYTES))
              : null
          if (i % 5 === 4) expect(recovered).not.toBe(cases[n]!.key.address)
          else expect(recovered, `chunk ${ci} job ${i}`).toBe(cases[n]!.key.address)
        }
      }
    } finally {
      await pool.close()
      await inline.close()
    }
  })

  it('rejects calls after close', async () => {
    const pool = await RecoveryPool.start(1)
    await pool.close()
    await expect(pool.recover(new Uint8Array(JOB_BYTES), 1)).rejects.toThrow(/closed/)
  })
})
