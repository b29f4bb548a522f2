import fc from 'fast-check'
import type { Address } from 'viem'
import { describe, expect, it } from 'vitest'
import type { Op, SignedEntry } from '../ops.ts'
import { ZERO_ADDRESS } from '../ops.ts'
import {
  approveAgentOpArb,
  batchDataArb,
  cancelAllOpArb,
  cancelOrderOpArb,
  depositOpArb,
  forcedWithdrawalOpArb,
  modifyOrderOpArb,
  orderParamsArb,
  placeOrderOpArb,
  revokeAgentOpArb,
  type SignedOp,
  safeIntArb,
  signatureArb,
  signedOpArb,
  signedOracleUpdateArb,
  timeAdvanceOpArb,
  withdrawOpArb,
} from '../testing/codecArbitraries.ts'
import type { BatchData } from './batchData.ts'
import { CodecError } from './codecError.ts'
import { decodeBatch } from './decodeBatch.ts'
import { encodeBatch } from './encodeBatch.ts'
import { ADDRESS_BYTES, OpTag, SIGNATURE_BYTES } from './format.ts'

/** What a decoder can know: everything but the signers. */
function withoutSigners(batch: BatchData): BatchData {
  return {
    version: batch.version,
    entries: batch.entries.map((e) => ({ ...e, op: stripSigner(e.op) })),
  }
}
function stripSigner(op: Op): Op {
  if (op.type === 'oracleUpdate') {
    return { ...op, observations: op.observations.map((o) => ({ ...o, signer: ZERO_ADDRESS })) }
  }
  return 'signer' in op ? { ...op, signer: ZERO_ADDRESS } : op
}

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (e instanceof CodecError) return e.code
    throw e
  }
  return 'OK'
}

function batchOf(signedOps: SignedOp[], firstSeq = 1, timestampMs = 1_700_000_000_000): BatchData {
  return {
    version: 1,
    entries: signedOps.map((s, i) => ({ seq: firstSeq + i, timestampMs, ...s })),
  }
}

const userSigned = <T extends Op>(arb: fc.Arbitrary<T>): fc.Arbitrary<SignedOp> =>
  fc.tuple(arb, signatureArb).map(([op, signature]) => ({ op, signature, observationSignatures: [] }))
const unsigned = <T extends Op>(arb: fc.Arbitrary<T>): fc.Arbitrary<SignedOp> =>
  arb.map((op) => ({ op, signature: null, observationSignatures: [] }))

const perOpType: Record<Op['type'], fc.Arbitrary<SignedOp>> = {
  placeOrder: userSigned(placeOrderOpArb),
  cancelOrder: userSigned(cancelOrderOpArb),
  cancelAll: userSigned(cancelAllOpArb),
  modifyOrder: userSigned(modifyOrderOpArb),
  withdraw: userSigned(withdrawOpArb),
  approveAgent: userSigned(approveAgentOpArb),
  revokeAgent: userSigned(revokeAgentOpArb),
  deposit: unsigned(depositOpArb),
  forcedWithdrawal: unsigned(forcedWithdrawalOpArb),
  oracleUpdate: signedOracleUpdateArb.map((u) => ({ ...u, signature: null })),
  timeAdvance: unsigned(timeAdvanceOpArb),
}

/** Orders whose optional fields disagree with their kind: the codec must carry them for the engine to reject. */
const looseOrderArb = fc
  .tuple(
    placeOrderOpArb,
    safeIntArb(0, 2 ** 40),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    safeIntArb(0, 2 ** 53 - 1),
  )
  .map(([op, triggerPriceTicks, clientOrderId, expiresAtMs]) => ({
    ...op,
    order: { ...op.order, triggerPriceTicks, clientOrderId, expiresAtMs },
  }))

describe('encodeBatch / decodeBatch', () => {
  it('round-trip random batches, and re-encode to the same bytes', () => {
    fc.assert(
      fc.property(batchDataArb(), (batch) => {
        const bytes = encodeBatch(batch)
        const decoded = decodeBatch(bytes)
        expect(decoded).toEqual(withoutSigners(batch))
        expect(encodeBatch(decoded)).toEqual(bytes)
      }),
      { numRuns: 300 },
    )
  })

  for (const [type, arb] of Object.entries(perOpType)) {
    it(`round-trip ${type}`, () => {
      fc.assert(
        fc.property(fc.array(arb, { minLength: 1, maxLength: 4 }), (signedOps) => {
          const batch = batchOf(signedOps)
          expect(batch.entries.every((e) => e.op.type === type)).toBe(true)
          const bytes = encodeBatch(batch)
          expect(decodeBatch(bytes)).toEqual(withoutSigners(batch))
          expect(encodeBatch(decodeBatch(bytes))).toEqual(bytes)
        }),
        { numRuns: 100 },
      )
    })
  }

  it('round-trip orders whose optional fields disagree with their kind', () => {
    fc.assert(
      fc.property(userSigned(looseOrderArb), (signed) => {
        const batch = batchOf([signed])
        expect(decodeBatch(encodeBatch(batch))).toEqual(withoutSigners(batch))
      }),
      { numRuns: 300 },
    )
  })

  it('decodes signers as ZERO_ADDRESS and signatures that do not alias the input', () => {
    fc.assert(
      fc.property(fc.array(signedOpArb, { minLength: 1, maxLength: 10 }), (signedOps) => {
        const bytes = encodeBatch(batchOf(signedOps))
        const decoded = decodeBatch(bytes)
        for (const e of decoded.entries) {
          if ('signer' in e.op) expect(e.op.signer).toBe(ZERO_ADDRESS)
          if (e.op.type === 'oracleUpdate')
            for (const o of e.op.observations) expect(o.signer).toBe(ZERO_ADDRESS)
          if (e.signature !== null) expect(e.signature.buffer).not.toBe(bytes.buffer)
          for (const s of e.observationSignatures) expect(s.buffer).not.toBe(bytes.buffer)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('lays out a one-entry batch as documented', () => {
    const batch = batchOf(
      [{ op: { type: 'timeAdvance' }, signature: null, observationSignatures: [] }],
      300,
      0,
    )
    // magic, version, 1 entry, seq 300 (ac 02), timestamp 0, no addresses, tag
    expect(Array.from(encodeBatch(batch))).toEqual([
      0x5c,
      0x01,
      0x01,
      0xac,
      0x02,
      0x00,
      0x00,
      OpTag.timeAdvance,
    ])
  })

  it('writes each address once, most referenced first', () => {
    const maker: Address = '0x00000000000000000000000000000000000000aa'
    const taker: Address = '0x00000000000000000000000000000000000000bb'
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), userSigned(placeOrderOpArb)), { minLength: 1, maxLength: 60 }),
        (rows) => {
          const signedOps = rows.map(([byMaker, s]) => ({
            ...s,
            op: { ...s.op, account: byMaker ? maker : taker } as Op,
          }))
          const bytes = encodeBatch(batchOf(signedOps))
          const makers = rows.filter(([byMaker]) => byMaker).length
          const takers = rows.length - makers
          const makerFirst = makers > takers || (makers === takers && rows[0]![0])
          const expected = [makerFirst ? maker : taker, makerFirst ? taker : maker].filter((a) =>
            a === maker ? makers > 0 : takers > 0,
          )
          // Header: magic, version, count (1 byte), seq 1, timestamp (6 bytes); then the address count.
          const tableAt = 10
          expect(bytes[tableAt]).toBe(expected.length)
          const table = expected.map((_, k) =>
            Buffer.from(
              bytes.subarray(tableAt + 1 + ADDRESS_BYTES * k, tableAt + 1 + ADDRESS_BYTES * (k + 1)),
            ).toString('hex'),
          )
          expect(table.map((h) => `0x${h}`)).toEqual(expected)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('costs a market maker 20 address bytes per batch, not per order', () => {
    fc.assert(
      fc.property(fc.array(userSigned(placeOrderOpArb), { minLength: 1, maxLength: 30 }), (signedOps) => {
        const account: Address = '0x5ce00000000000000000000000000000000000aa'
        const same = signedOps.map((s) => ({ ...s, op: { ...s.op, account } as Op }))
        const alone = same.map((s) => encodeBatch(batchOf([s])).length)
        // Alone, each order pays the 10-byte header, the 1-byte address count and the address.
        // Together, they pay that once, and each later order a 1-byte zero timestamp delta.
        const shared = 10 + 1 + ADDRESS_BYTES
        const together = alone.reduce((a, b) => a + b, 0) - (same.length - 1) * (shared - 1)
        expect(encodeBatch(batchOf(same)).length).toBe(together)
      }),
      { numRuns: 50 },
    )
  })

  it('refuses to encode what it could not decode identically', () => {
    const entry: SignedEntry = {
      seq: 7,
      timestampMs: 100,
      op: { type: 'timeAdvance' },
      signature: null,
      observationSignatures: [],
    }
    const order = fc.sample(userSigned(placeOrderOpArb), { numRuns: 1, seed: 1 })[0]!
    expect(codeOf(() => encodeBatch({ version: 1, entries: [entry, { ...entry, seq: 9 }] }))).toBe('SEQ_GAP')
    expect(
      codeOf(() => encodeBatch({ version: 1, entries: [entry, { ...entry, seq: 8, timestampMs: 99 }] })),
    ).toBe('TIME_BACKWARDS')
    expect(codeOf(() => encodeBatch({ version: 1, entries: [{ ...entry, seq: -1 }] }))).toBe(
      'VALUE_OUT_OF_RANGE',
    )
    expect(codeOf(() => encodeBatch({ version: 1, entries: [{ ...entry, timestampMs: 0.5 }] }))).toBe(
      'VALUE_OUT_OF_RANGE',
    )
    const badV = new Uint8Array(SIGNATURE_BYTES)
    badV[SIGNATURE_BYTES - 1] = 0
    expect(codeOf(() => encodeBatch(batchOf([{ ...order, signature: badV }])))).toBe('BAD_SIGNATURE_V')
    expect(codeOf(() => encodeBatch(batchOf([{ ...order, observationSignatures: [badV] }])))).toBe(
      'BAD_SIGNATURE',
    )
    const upper = {
      ...order,
      op: { ...order.op, account: '0xABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD' } as Op,
    }
    expect(codeOf(() => encodeBatch(batchOf([upper])))).toBe('BAD_ADDRESS')
    const unknown = { ...entry, op: { type: 'mint' } as unknown as Op }
    expect(codeOf(() => encodeBatch({ version: 1, entries: [unknown] }))).toBe('BAD_TAG')
  })

  it('checks continuity with the previous batch on both sides', () => {
    fc.assert(
      fc.property(
        batchDataArb({ minEntries: 1, maxEntries: 5 }),
        fc.integer({ min: -3, max: 3 }),
        (batch, shift) => {
          const first = batch.entries[0]!
          const continuity = {
            expectedFirstSeq: first.seq + shift,
            minFirstTimestampMs: first.timestampMs + shift,
          }
          const expected = shift !== 0 ? 'SEQ_GAP' : 'OK'
          expect(codeOf(() => encodeBatch(batch, continuity))).toBe(expected)
          const bytes = encodeBatch(batch)
          expect(codeOf(() => decodeBatch(bytes, continuity))).toBe(expected)
          const timeOnly = { minFirstTimestampMs: first.timestampMs + shift }
          expect(codeOf(() => decodeBatch(bytes, timeOnly))).toBe(shift > 0 ? 'TIME_BACKWARDS' : 'OK')
          expect(codeOf(() => encodeBatch(batch, timeOnly))).toBe(shift > 0 ? 'TIME_BACKWARDS' : 'OK')
        },
      ),
      { numRuns: 100 },
    )
  })

  it('keeps orders compact: zero-valued optional fields take no bytes', () => {
    fc.assert(
      fc.property(orderParamsArb, signatureArb, (order, signature) => {
        const base = { account: ZERO_ADDRESS, signer: ZERO_ADDRESS, nonce: 1_700_000_000_000 } as const
        const plain = { ...order, triggerPriceTicks: 0, clientOrderId: 0n, expiresAtMs: 0 }
        const size = (o: typeof order) =>
          encodeBatch(
            batchOf([
              { op: { type: 'placeOrder', ...base, order: o }, signature, observationSignatures: [] },
            ]),
          ).length
        expect(size(order)).toBeGreaterThanOrEqual(size(plain))
        expect(size({ ...plain, clientOrderId: 1n })).toBe(size(plain) + 1)
      }),
      { numRuns: 100 },
    )
  })
})
