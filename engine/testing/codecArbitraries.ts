import fc from 'fast-check'
import type { Address } from 'viem'
import type { BatchData } from '../codec/batchData.ts'
import {
  type ApproveAgentOp,
  type CancelAllOp,
  type CancelOrderOp,
  type DepositOp,
  type ForcedWithdrawalOp,
  type ModifyOrderOp,
  type Op,
  type OracleUpdateOp,
  OrderKind,
  type OrderParams,
  type PlaceOrderOp,
  type RevokeAgentOp,
  type SignedEntry,
  type TimeAdvanceOp,
  TimeInForce,
  type WithdrawOp,
  ZERO_ADDRESS,
} from '../ops.ts'
import { MAX_LOTS, MAX_PRICE_TICKS } from '../units.ts'

/**
 * fast-check arbitraries for sequenced operations, for any property test in the repository.
 * Every value is valid in shape: lots and ticks within engine/units.ts bounds, lowercase 20-byte
 * addresses, 65-byte signatures with v in {27, 28}, uint64 bigints, safe non-negative integers,
 * and orders whose optional fields match their kind and time in force.
 * Business validity (margin, nonces, known markets) is not attempted.
 */

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** Safe integers in [min, max]; fc.integer stops at 32 bits. */
export function safeIntArb(min: number, max: number): fc.Arbitrary<number> {
  return fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number)
}

export const uint64Arb: fc.Arbitrary<bigint> = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

/** A few fixed addresses, so that batches repeat addresses as real ones do. */
export const ADDRESS_POOL: readonly Address[] = [
  ZERO_ADDRESS,
  '0x1111111111111111111111111111111111111111',
  '0x00000000000000000000000000000000000000ff',
  '0xffffffffffffffffffffffffffffffffffffffff',
  '0x5ce0000000000000000000000000000000000001',
  '0x5ce0000000000000000000000000000000000002',
  '0xabcdefabcdefabcdefabcdefabcdefabcdefabcd',
  '0x8000000000000000000000000000000000000000',
]

export const addressArb: fc.Arbitrary<Address> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ADDRESS_POOL) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${hex(b)}` as Address),
  },
)

export const signatureArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.constantFrom(27, 28))
  .map(([rs, v]) => {
    const signature = new Uint8Array(65)
    signature.set(rs)
    signature[64] = v
    return signature
  })

/** Millisecond times: mostly around 2024-2030, sometimes at the edges of the safe range. */
export const timeMsArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: safeIntArb(1_700_000_000_000, 1_900_000_000_000) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: safeIntArb(0, Number.MAX_SAFE_INTEGER) },
)

export const marketIdArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: safeIntArb(0, 0xffff_fffe) },
)
export const lotsArb: fc.Arbitrary<number> = safeIntArb(1, MAX_LOTS)
export const priceTicksArb: fc.Arbitrary<number> = safeIntArb(1, MAX_PRICE_TICKS)
export const quantumsArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 15n }) },
  { weight: 1, arbitrary: uint64Arb },
)
const idArb = fc.oneof(safeIntArb(1, 1_000_000), safeIntArb(1, Number.MAX_SAFE_INTEGER))
const clientOrderIdArb = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }))

const STOP_KINDS: readonly OrderKind[] = [
  OrderKind.StopMarket,
  OrderKind.StopLimit,
  OrderKind.TakeProfitMarket,
  OrderKind.TakeProfitLimit,
]

export const orderParamsArb: fc.Arbitrary<OrderParams> = fc
  .record({
    marketId: marketIdArb,
    side: fc.constantFrom(0, 1),
    kind: fc.constantFrom(0, 1, 2, 3, 4, 5),
    tif: fc.constantFrom(0, 1, 2, 3),
    priceTicks: priceTicksArb,
    sizeLots: lotsArb,
    trigger: priceTicksArb,
    reduceOnly: fc.boolean(),
    postOnly: fc.boolean(),
    stp: fc.constantFrom(0, 1, 2),
    clientOrderId: clientOrderIdArb,
    expiry: safeIntArb(1, Number.MAX_SAFE_INTEGER),
  })
  .map((r) => ({
    marketId: r.marketId,
    side: r.side as OrderParams['side'],
    kind: r.kind as OrderParams['kind'],
    tif: r.tif as OrderParams['tif'],
    priceTicks: r.priceTicks,
    sizeLots: r.sizeLots,
    // ops.ts: the trigger is 0 except for stop and take-profit kinds, the expiry 0 except for GTT.
    triggerPriceTicks: STOP_KINDS.includes(r.kind as OrderKind) ? r.trigger : 0,
    reduceOnly: r.reduceOnly,
    postOnly: r.postOnly,
    stp: r.stp as OrderParams['stp'],
    clientOrderId: r.clientOrderId,
    expiresAtMs: r.tif === TimeInForce.GTT ? r.expiry : 0,
  }))

/** Signer is the account itself or an agent. */
const signedBaseArb = fc
  .tuple(addressArb, addressArb, fc.boolean(), timeMsArb)
  .map(([account, agent, byAgent, nonce]) => ({ account, signer: byAgent ? agent : account, nonce }))

export const placeOrderOpArb: fc.Arbitrary<PlaceOrderOp> = fc
  .tuple(signedBaseArb, orderParamsArb)
  .map(([base, order]) => ({ type: 'placeOrder', ...base, order }))

export const cancelOrderOpArb: fc.Arbitrary<CancelOrderOp> = fc
  .tuple(
    signedBaseArb,
    marketIdArb,
    fc.boolean(),
    idArb,
    clientOrderIdArb.filter((c) => c !== 0n),
  )
  .map(([base, marketId, byOrderId, orderId, clientOrderId]) => ({
    type: 'cancelOrder',
    ...base,
    marketId,
    // ops.ts: exactly one of the two is non-zero.
    orderId: byOrderId ? orderId : 0,
    clientOrderId: byOrderId ? 0n : clientOrderId,
  }))

export const cancelAllOpArb: fc.Arbitrary<CancelAllOp> = fc
  .tuple(signedBaseArb, fc.option(marketIdArb, { nil: null }))
  .map(([base, marketId]) => ({ type: 'cancelAll', ...base, marketId }))

export const modifyOrderOpArb: fc.Arbitrary<ModifyOrderOp> = fc
  .tuple(signedBaseArb, marketIdArb, idArb, priceTicksArb, lotsArb)
  .map(([base, marketId, orderId, newPriceTicks, newSizeLots]) => ({
    type: 'modifyOrder',
    ...base,
    marketId,
    orderId,
    newPriceTicks,
    newSizeLots,
  }))

export const withdrawOpArb: fc.Arbitrary<WithdrawOp> = fc
  .tuple(signedBaseArb, quantumsArb)
  .map(([base, amountQuantums]) => ({ type: 'withdraw', ...base, amountQuantums }))

/** Agent changes are signed by the account itself. */
export const approveAgentOpArb: fc.Arbitrary<ApproveAgentOp> = fc
  .tuple(signedBaseArb, addressArb, timeMsArb)
  .map(([base, agent, expiresAtMs]) => ({
    type: 'approveAgent',
    ...base,
    signer: base.account,
    agent,
    expiresAtMs,
  }))

export const revokeAgentOpArb: fc.Arbitrary<RevokeAgentOp> = fc
  .tuple(signedBaseArb, addressArb)
  .map(([base, agent]) => ({ type: 'revokeAgent', ...base, signer: base.account, agent }))

const inboxIndexArb = fc.oneof(safeIntArb(0, 1_000_000), safeIntArb(0, Number.MAX_SAFE_INTEGER))

export const depositOpArb: fc.Arbitrary<DepositOp> = fc
  .tuple(addressArb, quantumsArb, inboxIndexArb)
  .map(([account, amountQuantums, inboxIndex]) => ({ type: 'deposit', account, amountQuantums, inboxIndex }))

export const forcedWithdrawalOpArb: fc.Arbitrary<ForcedWithdrawalOp> = fc
  .tuple(addressArb, quantumsArb, inboxIndexArb)
  .map(([account, amountQuantums, inboxIndex]) => ({
    type: 'forcedWithdrawal',
    account,
    amountQuantums,
    inboxIndex,
  }))

export const timeAdvanceOpArb: fc.Arbitrary<TimeAdvanceOp> = fc.constant({ type: 'timeAdvance' })

/** An oracle update with its observation signatures, which must travel together. */
export const signedOracleUpdateArb: fc.Arbitrary<{
  op: OracleUpdateOp
  observationSignatures: Uint8Array[]
}> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 50 }), safeIntArb(0, Number.MAX_SAFE_INTEGER)),
    fc.array(fc.tuple(addressArb, priceTicksArb, timeMsArb, signatureArb), { maxLength: 5 }),
  )
  .map(([oracleId, rows]) => ({
    op: {
      type: 'oracleUpdate',
      oracleId,
      observations: rows.map(([signer, priceTicks, publishTimeMs]) => ({
        signer,
        priceTicks,
        publishTimeMs,
      })),
    },
    observationSignatures: rows.map((row) => row[3]),
  }))

export const userOpArb = fc.oneof(
  { weight: 6, arbitrary: placeOrderOpArb },
  { weight: 3, arbitrary: cancelOrderOpArb },
  { weight: 1, arbitrary: cancelAllOpArb },
  { weight: 2, arbitrary: modifyOrderOpArb },
  { weight: 1, arbitrary: withdrawOpArb },
  { weight: 1, arbitrary: approveAgentOpArb },
  { weight: 1, arbitrary: revokeAgentOpArb },
)

/** An op with the signatures it travels with, but no seq or timestamp yet. */
export interface SignedOp {
  op: Op
  signature: Uint8Array | null
  observationSignatures: Uint8Array[]
}

export const signedOpArb: fc.Arbitrary<SignedOp> = fc.oneof(
  {
    weight: 15,
    arbitrary: fc.tuple(userOpArb, signatureArb).map(([op, signature]) => ({
      op: op as Op,
      signature,
      observationSignatures: [],
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(depositOpArb, forcedWithdrawalOpArb, timeAdvanceOpArb)
      .map((op) => ({ op: op as Op, signature: null, observationSignatures: [] })),
  },
  { weight: 2, arbitrary: signedOracleUpdateArb.map((u) => ({ ...u, op: u.op as Op, signature: null })) },
)

export interface BatchDataArbOptions {
  minEntries?: number
  maxEntries?: number
}

/** A batch with consecutive seqs and non-decreasing timestamps. */
export function batchDataArb(options: BatchDataArbOptions = {}): fc.Arbitrary<BatchData> {
  const maxEntries = options.maxEntries ?? 40
  const timestampDeltaArb = fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
    { weight: 1, arbitrary: safeIntArb(0, 2 ** 40) },
  )
  return fc
    .record({
      firstSeq: fc.oneof(safeIntArb(0, 10_000_000), safeIntArb(0, Number.MAX_SAFE_INTEGER - maxEntries)),
      firstTimestampMs: fc.oneof(
        { weight: 8, arbitrary: safeIntArb(1_700_000_000_000, 1_900_000_000_000) },
        { weight: 1, arbitrary: safeIntArb(0, Number.MAX_SAFE_INTEGER - 2 ** 40 * maxEntries) },
      ),
      items: fc.array(fc.tuple(timestampDeltaArb, signedOpArb), {
        minLength: options.minEntries ?? 0,
        maxLength: maxEntries,
      }),
    })
    .map(({ firstSeq, firstTimestampMs, items }) => {
      let timestampMs = firstTimestampMs
      const entries: SignedEntry[] = items.map(([deltaMs, signed], i) => {
        if (i > 0) timestampMs += deltaMs
        return { seq: firstSeq + i, timestampMs, ...signed }
      })
      return { version: 1, entries }
    })
}
