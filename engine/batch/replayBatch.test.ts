import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { privateKeyToAccount, sign } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { packBatchData } from '../codec/batchEnvelope.ts'
import { encodeBatch } from '../codec/encodeBatch.ts'
import { Engine } from '../engine.ts'
import type { Op, SignedEntry, UserOp } from '../ops.ts'
import { domainSeparator, observationDigest, userOpDigest } from '../signing/digest.ts'
import { recoverAddress } from '../signing/recoverAddress.ts'
import { testConfig } from '../testing/testConfig.ts'
import {
  attachSigners,
  BatchFault,
  type ClaimedBatch,
  decodePostedBatch,
  type InboxRecord,
  type ReplayResult,
  replayDecodedBatch,
} from './replayBatch.ts'

/** The batch validity rule on batches built here, honest and lying; the watcher and prover tests run it on L1. */

const key = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`
const ALICE = privateKeyToAccount(key(0xa11ce))
const BOB = privateKeyToAccount(key(0xb0b))
const ORACLES = [1, 2, 3].map((n) => privateKeyToAccount(key(0x0ac1e0 + n)))
const config = testConfig({
  oracle: {
    signers: ORACLES.map((o) => o.address.toLowerCase() as Address),
    threshold: 2,
    maxPublishDelayMs: 10_000,
  },
})
const DOMAIN = domainSeparator(config.chainId, config.settlementAddress)
const T0 = 1_700_000_000_000
const alice = ALICE.address.toLowerCase() as Address
const USDC = 1_000_000n

const signDigest = async (privateKey: Hex, digest: Uint8Array) =>
  hexToBytes(await sign({ hash: bytesToHex(digest), privateKey, to: 'hex' }))

/** Builds a batch the way a sequencer does; `forge` signs a user op with another key. */
async function build(ops: Op[], options: { forgeWith?: Hex } = {}) {
  const producer = Engine.create(config)
  const entries: SignedEntry[] = []
  let seq = 0
  for (const op of ops) {
    const timestampMs = T0 + seq * 10
    let signature: Uint8Array | null = null
    let observationSignatures: Uint8Array[] = []
    if (op.type === 'oracleUpdate') {
      observationSignatures = await Promise.all(
        op.observations.map((o, i) =>
          signDigest(key(0x0ac1e0 + i + 1), observationDigest(op.oracleId, o, DOMAIN)),
        ),
      )
    } else if ('signer' in op) {
      signature = await signDigest(options.forgeWith ?? key(0xa11ce), userOpDigest(op as UserOp, DOMAIN))
    }
    seq++
    producer.apply(op, { seq, timestampMs })
    entries.push({ seq, timestampMs, op, signature, observationSignatures })
  }
  const sealed = producer.sealBatch(1n)
  const claimed: ClaimedBatch = {
    batchIndex: 1n,
    stateRoot: bytesToHex(sealed.stateRoot),
    withdrawalsRoot: bytesToHex(sealed.withdrawalsRoot),
    inboxConsumed: BigInt(sealed.inboxConsumed),
  }
  return { posted: packBatchData(encodeBatch({ version: 1, entries })), claimed }
}

function replay(
  posted: Uint8Array,
  claimed: ClaimedBatch,
  inbox: InboxRecord[],
): ReplayResult | { fault: string } {
  const engine = Engine.create(config)
  const decoded = decodePostedBatch(engine, posted)
  if (!('entries' in decoded)) return decoded
  const bad = attachSigners(
    decoded,
    decoded.jobs.map((j) => recoverAddress(j.digest, j.signature)),
  )
  if (bad !== null) return bad
  return replayDecodedBatch(engine, decoded.entries, claimed, inbox)
}

const deposit = (inboxIndex: number, amountQuantums = 1_000n * USDC): Op => ({
  type: 'deposit',
  account: alice,
  amountQuantums,
  inboxIndex,
})
const price: Op = {
  type: 'oracleUpdate',
  oracleId: config.markets[0]!.oracleId,
  observations: ORACLES.slice(0, 2).map((o) => ({
    signer: o.address.toLowerCase() as Address,
    priceTicks: 600_000,
    publishTimeMs: T0,
  })),
}
const withdraw: Op = {
  type: 'withdraw',
  account: alice,
  signer: alice,
  nonce: T0,
  amountQuantums: 100n * USDC,
}
const INBOX: InboxRecord[] = [
  { index: 0, kind: 'deposit', account: alice, amountQuantums: 1_000n * USDC },
  { index: 1, kind: 'deposit', account: alice, amountQuantums: 5n * USDC },
]

describe('replayBatch', () => {
  it('accepts an honest batch: roots, withdrawals and the inbox agree', async () => {
    const { posted, claimed } = await build([deposit(0), price, withdraw])
    const result = replay(posted, claimed, INBOX)
    expect(result).toMatchObject({ ok: true, ops: 3 })
    if ('sealed' in result) expect(result.sealed.withdrawals).toHaveLength(1)
  })

  it('finds a lying state root', async () => {
    const { posted, claimed } = await build([deposit(0), withdraw])
    const lie = { ...claimed, stateRoot: `0x${'11'.repeat(32)}` as Hex }
    expect(replay(posted, lie, INBOX)).toMatchObject({ ok: false, fault: BatchFault.STATE_ROOT_MISMATCH })
  })

  it('finds a forged withdrawal and names the op and the key that signed it', async () => {
    const { posted, claimed } = await build([deposit(0), withdraw], { forgeWith: key(0xb0b) })
    // The producer applied the forged op as if Alice signed it; replay recovers Bob.
    const result = replay(posted, claimed, INBOX)
    expect(result).toMatchObject({ ok: false, fault: BatchFault.STATE_ROOT_MISMATCH })
    expect('detail' in result && result.detail).toContain(BOB.address.toLowerCase())
  })

  it('finds a skipped or altered deposit', async () => {
    const skipped = await build([deposit(0)])
    const claimsBoth = { ...skipped.claimed, inboxConsumed: 2n }
    expect(replay(skipped.posted, claimsBoth, INBOX)).toMatchObject({
      fault: BatchFault.INBOX_COUNT_MISMATCH,
    })
    const altered = await build([deposit(0, 2_000n * USDC)])
    expect(replay(altered.posted, altered.claimed, INBOX)).toMatchObject({ fault: BatchFault.INBOX_MISMATCH })
    const outOfOrder = await build([deposit(0), deposit(1, 5n * USDC)])
    expect(replay(outOfOrder.posted, { ...outOfOrder.claimed, inboxConsumed: 1n }, INBOX)).toMatchObject({
      fault: BatchFault.INBOX_MISMATCH,
    })
  })

  it('finds undecodable data and a signature that recovers to nobody', async () => {
    const { claimed } = await build([deposit(0)])
    expect(replay(new Uint8Array([0x5c, 0x01, 0x05]), claimed, INBOX)).toMatchObject({
      fault: BatchFault.UNDECODABLE,
    })
    const { posted } = await build([deposit(0), withdraw])
    // r = 0 cannot recover; the signature is the last 65 bytes of this uncompressed encoding.
    const broken = posted.slice()
    if (broken[0] !== 0x5c) throw new Error('expected raw codec bytes for a small batch')
    broken.fill(0, broken.length - 65, broken.length - 33)
    expect(replay(broken, claimed, INBOX)).toMatchObject({ fault: BatchFault.BAD_SIGNATURE })
  })
})
