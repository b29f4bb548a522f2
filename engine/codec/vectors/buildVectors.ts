import type { Address } from 'viem'
import {
  ALL_MARKETS,
  OrderKind,
  SelfTradePrevention,
  Side,
  type SignedEntry,
  TimeInForce,
  ZERO_ADDRESS,
} from '../../ops.ts'
import { MAX_LOTS, MAX_PRICE_TICKS } from '../../units.ts'
import type { BatchData } from '../batchData.ts'
import type { CodecErrorCode } from '../codecError.ts'
import { encodeBatch } from '../encodeBatch.ts'
import { batchToJson, bytesToHex, hexToBytes } from './batchJson.ts'

/**
 * The codec's test vectors. `generate.ts` writes them to valid.json and invalid.json; the vector test
 * checks the stored files against this builder and against the codec.
 *
 * Hand-assembled cases spell out the bytes of docs/protocol.md ("Batch codec") field by field, so they pin the
 * layout independently of the encoder.
 */

export interface RoundTripCase {
  name: string
  kind: 'roundTrip'
  batch: unknown
  encodedHex: string
}
export interface DecodeErrorCase {
  name: string
  kind: 'decodeError'
  encodedHex: string
  code: CodecErrorCode
  offset: number
}
export interface EncodeErrorCase {
  name: string
  kind: 'encodeError'
  batch: unknown
  code: CodecErrorCode
}
export type CodecVectorCase = RoundTripCase | DecodeErrorCase | EncodeErrorCase

export interface CodecVectorFile {
  description: string
  cases: CodecVectorCase[]
}

const A = '5ce0000000000000000000000000000000000001'
const B = '5ce0000000000000000000000000000000000002'
const ADDRESS_A = `0x${A}` as Address
const ADDRESS_B = `0x${B}` as Address
const SIG27 = `${'11'.repeat(32)}${'22'.repeat(32)}1b`
const SIG28 = `${'33'.repeat(32)}${'44'.repeat(32)}1c`

/** Bytes as hex: numbers are single bytes, strings are hex digits without 0x. */
function hex(...parts: (number | string)[]): string {
  return `0x${parts.map((p) => (typeof p === 'number' ? p.toString(16).padStart(2, '0') : p)).join('')}`
}

/** Header of a one-entry batch: magic, version, 1 entry, seq 5, timestamp 1000 (e8 07). */
const ONE_ENTRY = '5c01' + '01' + '05' + 'e807'

function signature(fill: number, v: number): Uint8Array {
  const s = new Uint8Array(65).fill(fill)
  s[64] = v
  return s
}

function entry(
  seq: number,
  timestampMs: number,
  rest: Omit<SignedEntry, 'seq' | 'timestampMs'>,
): SignedEntry {
  return { seq, timestampMs, ...rest }
}

function everyOpBatch(): BatchData {
  const t0 = 1_717_171_717_171
  const mm: Address = '0x00000000000000000000000000000000000000aa'
  const trader: Address = '0xffffffffffffffffffffffffffffffffffffffff'
  const agent: Address = '0x1234567890abcdef1234567890abcdef12345678'
  const user = (fill: number) => ({ signature: signature(fill, 27 + (fill % 2)), observationSignatures: [] })
  const noSig = { signature: null, observationSignatures: [] }
  const entries: SignedEntry[] = [
    entry(1_000, t0, {
      op: {
        type: 'placeOrder',
        account: mm,
        signer: ZERO_ADDRESS,
        nonce: t0 - 3,
        order: {
          marketId: 0,
          side: Side.Buy,
          kind: OrderKind.Limit,
          tif: TimeInForce.GTC,
          priceTicks: 1,
          sizeLots: 1,
          triggerPriceTicks: 0,
          reduceOnly: false,
          postOnly: false,
          stp: SelfTradePrevention.ExpireMaker,
          clientOrderId: 0n,
          expiresAtMs: 0,
        },
      },
      ...user(1),
    }),
    entry(1_001, t0, {
      op: {
        type: 'placeOrder',
        account: mm,
        signer: ZERO_ADDRESS,
        nonce: t0 + 5,
        order: {
          marketId: 0xffff_fffe,
          side: Side.Sell,
          kind: OrderKind.TakeProfitLimit,
          tif: TimeInForce.GTT,
          priceTicks: MAX_PRICE_TICKS,
          sizeLots: MAX_LOTS,
          triggerPriceTicks: MAX_PRICE_TICKS - 1,
          reduceOnly: true,
          postOnly: true,
          stp: SelfTradePrevention.ExpireBoth,
          clientOrderId: (1n << 64n) - 1n,
          expiresAtMs: t0 + 60_000,
        },
      },
      ...user(2),
    }),
    entry(1_002, t0 + 1, {
      op: {
        type: 'placeOrder',
        account: trader,
        signer: ZERO_ADDRESS,
        nonce: 0,
        order: {
          marketId: 7,
          side: Side.Buy,
          kind: OrderKind.StopMarket,
          tif: TimeInForce.IOC,
          priceTicks: 65_000_00,
          sizeLots: 250,
          triggerPriceTicks: 64_000_00,
          reduceOnly: true,
          postOnly: false,
          stp: SelfTradePrevention.ExpireTaker,
          clientOrderId: 1n,
          expiresAtMs: 0,
        },
      },
      ...user(3),
    }),
    entry(1_003, t0 + 1, {
      op: {
        type: 'cancelOrder',
        account: mm,
        signer: ZERO_ADDRESS,
        nonce: t0,
        marketId: 0,
        orderId: 123_456,
        clientOrderId: 0n,
      },
      ...user(4),
    }),
    entry(1_004, t0 + 128, {
      op: {
        type: 'cancelOrder',
        account: trader,
        signer: ZERO_ADDRESS,
        nonce: Number.MAX_SAFE_INTEGER,
        marketId: 7,
        orderId: 0,
        clientOrderId: 1n << 63n,
      },
      ...user(5),
    }),
    entry(1_005, t0 + 128, {
      op: { type: 'cancelAll', account: mm, signer: ZERO_ADDRESS, nonce: t0 + 128, marketId: null },
      ...user(6),
    }),
    entry(1_006, t0 + 200, {
      op: { type: 'cancelAll', account: trader, signer: ZERO_ADDRESS, nonce: t0 + 100, marketId: 0 },
      ...user(7),
    }),
    entry(1_007, t0 + 200, {
      op: {
        type: 'modifyOrder',
        account: mm,
        signer: ZERO_ADDRESS,
        nonce: t0 + 199,
        marketId: 3,
        orderId: Number.MAX_SAFE_INTEGER,
        newPriceTicks: 4_200,
        newSizeLots: 17,
      },
      ...user(8),
    }),
    entry(1_008, t0 + 5_000, {
      op: { type: 'withdraw', account: trader, signer: ZERO_ADDRESS, nonce: t0 + 4_000, amountQuantums: 0n },
      ...user(9),
    }),
    entry(1_009, t0 + 5_000, {
      op: {
        type: 'withdraw',
        account: mm,
        signer: ZERO_ADDRESS,
        nonce: t0 + 5_000,
        amountQuantums: (1n << 64n) - 1n,
      },
      ...user(10),
    }),
    entry(1_010, t0 + 5_000, {
      op: {
        type: 'approveAgent',
        account: trader,
        signer: ZERO_ADDRESS,
        nonce: t0 + 4_999,
        agent,
        expiresAtMs: t0 + 30 * 24 * 3600 * 1000,
      },
      ...user(11),
    }),
    entry(1_011, t0 + 5_001, {
      op: { type: 'revokeAgent', account: trader, signer: ZERO_ADDRESS, nonce: t0 + 5_001, agent },
      ...user(12),
    }),
    entry(1_012, t0 + 5_001, {
      op: { type: 'deposit', account: ZERO_ADDRESS, amountQuantums: 5_000_000_000n, inboxIndex: 0 },
      ...noSig,
    }),
    entry(1_013, t0 + 5_001, {
      op: {
        type: 'forcedWithdrawal',
        account: trader,
        amountQuantums: 1n,
        inboxIndex: Number.MAX_SAFE_INTEGER,
      },
      ...noSig,
    }),
    entry(1_014, t0 + 6_000, {
      op: {
        type: 'oracleUpdate',
        oracleId: 2,
        observations: [
          { signer: ZERO_ADDRESS, priceTicks: 65_012_34, publishTimeMs: t0 + 5_400 },
          { signer: ZERO_ADDRESS, priceTicks: 65_011_00, publishTimeMs: t0 + 6_100 },
          { signer: ZERO_ADDRESS, priceTicks: MAX_PRICE_TICKS, publishTimeMs: 0 },
        ],
      },
      signature: null,
      observationSignatures: [signature(0xa1, 27), signature(0xa2, 28), signature(0xa3, 27)],
    }),
    entry(1_015, t0 + 6_000, {
      op: { type: 'oracleUpdate', oracleId: 0, observations: [] },
      ...noSig,
    }),
    entry(1_016, t0 + 2 ** 40, { op: { type: 'timeAdvance' }, ...noSig }),
  ]
  return { version: 1, entries }
}

function roundTrip(name: string, batch: BatchData): RoundTripCase {
  return { name, kind: 'roundTrip', batch: batchToJson(batch), encodedHex: bytesToHex(encodeBatch(batch)) }
}

/** A hand-assembled encoding and the batch it must decode to; the test also checks the encoder agrees. */
function handRoundTrip(name: string, encodedHex: string, batch: BatchData): RoundTripCase {
  return { name, kind: 'roundTrip', batch: batchToJson(batch), encodedHex }
}

function decodeError(
  name: string,
  encodedHex: string,
  code: CodecErrorCode,
  offset: number,
): DecodeErrorCase {
  return { name, kind: 'decodeError', encodedHex, code, offset }
}

function encodeError(name: string, batch: BatchData, code: CodecErrorCode): EncodeErrorCase {
  return { name, kind: 'encodeError', batch: batchToJson(batch), code }
}

const timeAdvanceAt = (seq: number, timestampMs: number): SignedEntry =>
  entry(seq, timestampMs, { op: { type: 'timeAdvance' }, signature: null, observationSignatures: [] })

const withdrawOf = (seq: number, account: Address, sig: string): SignedEntry =>
  entry(seq, 1000, {
    op: { type: 'withdraw', account, signer: ZERO_ADDRESS, nonce: 1000, amountQuantums: 42n },
    signature: hexToBytes(`0x${sig}`),
    observationSignatures: [],
  })

export function buildValidVectors(): CodecVectorFile {
  const minimalOrder: BatchData = {
    version: 1,
    entries: [
      entry(5, 1000, {
        op: {
          type: 'placeOrder',
          account: ADDRESS_A,
          signer: ZERO_ADDRESS,
          nonce: 998,
          order: {
            marketId: 1,
            side: Side.Buy,
            kind: OrderKind.Limit,
            tif: TimeInForce.GTC,
            priceTicks: 100,
            sizeLots: 10,
            triggerPriceTicks: 0,
            reduceOnly: false,
            postOnly: false,
            stp: SelfTradePrevention.ExpireMaker,
            clientOrderId: 0n,
            expiresAtMs: 0,
          },
        },
        signature: hexToBytes(`0x${SIG28}`),
        observationSignatures: [],
      }),
    ],
  }
  const cancelAllMarkets: BatchData = {
    version: 1,
    entries: [
      entry(5, 1000, {
        op: { type: 'cancelAll', account: ADDRESS_A, signer: ZERO_ADDRESS, nonce: 1001, marketId: null },
        signature: hexToBytes(`0x${SIG27}`),
        observationSignatures: [],
      }),
    ],
  }
  const seqAtLimit: BatchData = {
    version: 1,
    entries: [
      timeAdvanceAt(Number.MAX_SAFE_INTEGER - 1, 0),
      timeAdvanceAt(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    ],
  }
  // B is referenced twice and A once, so B comes first in the table although A appears first.
  const tableOrder: BatchData = {
    version: 1,
    entries: [
      withdrawOf(5, ADDRESS_A, SIG27),
      withdrawOf(6, ADDRESS_B, SIG28),
      withdrawOf(7, ADDRESS_B, SIG27),
    ],
  }
  return {
    description:
      'SCE batch codec v1: batches and their exact encodings. decode(encodedHex) must equal batch and encode(batch) must equal encodedHex. Bigints are decimal strings; signers are ZERO_ADDRESS because the codec does not carry them.',
    cases: [
      roundTrip('every-op-type-and-edge-values', everyOpBatch()),
      handRoundTrip('empty-batch', hex('5c01', 0, 0), { version: 1, entries: [] }),
      handRoundTrip('time-advance', hex(ONE_ENTRY, 0, 0x0a), {
        version: 1,
        entries: [timeAdvanceAt(5, 1000)],
      }),
      handRoundTrip(
        'minimal-limit-order',
        // tag 00, account 0, nonce delta -2 (zigzag 3), flags 00 00, market 1, price 100, size 10, signature
        hex(ONE_ENTRY, 1, A, 0x00, 0, 3, 0, 0, 1, 0x64, 0x0a, SIG28),
        minimalOrder,
      ),
      handRoundTrip(
        'cancel-all-markets',
        // marketId null is ALL_MARKETS = 0xffffffff: ff ff ff ff 0f
        hex(ONE_ENTRY, 1, A, 0x02, 0, 2, 'ffffffff0f', SIG27),
        cancelAllMarkets,
      ),
      handRoundTrip(
        'address-table-by-reference-count',
        hex(
          '5c01',
          3,
          5,
          'e807',
          2,
          B,
          A,
          0x04,
          1,
          0,
          42,
          SIG27,
          0,
          0x04,
          0,
          0,
          42,
          SIG28,
          0,
          0x04,
          0,
          0,
          42,
          SIG27,
        ),
        tableOrder,
      ),
      roundTrip('seq-and-time-at-the-safe-limit', seqAtLimit),
    ],
  }
}

export function buildInvalidVectors(): CodecVectorFile {
  const orderHex = (flags: string, rest: string, sig = SIG28): string =>
    hex(ONE_ENTRY, 1, A, 0x00, 0, 3, flags, 1, 0x64, 0x0a, rest, sig)
  const withdrawAmount = (amountHex: string): string => hex(ONE_ENTRY, 1, A, 0x04, 0, 0, amountHex, SIG27)
  const withdrawEntry = (index: number, sig: string): string => hex(0x04, index, 0, 42, sig).slice(2)
  const everyOp = buildValidVectors().cases[0] as RoundTripCase
  // Small batches for the encode errors, so each case reads on one screen.
  const order = everyOpBatch().entries[0]!
  const oracle = everyOpBatch().entries[14]!
  const batchOf = (...entries: SignedEntry[]): BatchData => ({ version: 1, entries })
  const withOp = (e: SignedEntry, patch: Record<string, unknown>): SignedEntry => ({
    ...e,
    op: { ...e.op, ...patch } as SignedEntry['op'],
  })
  const signedBy = (e: SignedEntry, sig: Uint8Array | null): SignedEntry => ({ ...e, signature: sig })
  return {
    description:
      'SCE batch codec v1: inputs the codec must refuse. decodeError: decoding encodedHex throws CodecError with this code at this byte offset. encodeError: encoding batch throws CodecError with this code.',
    cases: [
      decodeError('empty-input', '0x', 'TRUNCATED', 0),
      decodeError('bad-magic', hex('5d01', 1, 5, 'e807', 0, 0x0a), 'BAD_MAGIC', 0),
      decodeError('unknown-version', hex('5c02', 1, 5, 'e807', 0, 0x0a), 'BAD_VERSION', 1),
      decodeError('header-cut-short', hex('5c01', 1, 5), 'TRUNCATED', 4),
      decodeError('trailing-byte', hex(ONE_ENTRY, 0, 0x0a, 0), 'TRAILING_BYTES', 8),
      decodeError('trailing-byte-after-empty-batch', hex('5c01', 0, 0, 0x0a), 'TRAILING_BYTES', 4),
      decodeError('unknown-tag', hex(ONE_ENTRY, 0, 0x0b), 'BAD_TAG', 7),
      decodeError('non-minimal-varint', hex('5c01', 1, '8500', 'e807', 0, 0x0a), 'NON_CANONICAL', 3),
      decodeError(
        'seq-above-max-safe-integer',
        hex('5c01', 1, '80808080808080', 0x10, 'e807', 0, 0x0a),
        'VARINT_OVERFLOW',
        3,
      ),
      decodeError('uint64-overflow-10th-byte', withdrawAmount('ffffffffffffffffff02'), 'VARINT_OVERFLOW', 30),
      decodeError(
        'uint64-overflow-11-bytes',
        withdrawAmount('8080808080808080808001'),
        'VARINT_OVERFLOW',
        30,
      ),
      decodeError('entry-count-exceeds-input', hex('5c01', 0x7f, 5, 'e807', 0, 0x0a), 'TRUNCATED', 2),
      decodeError('address-count-exceeds-input', hex(ONE_ENTRY, 5, A, 0x0a), 'TRUNCATED', 6),
      decodeError(
        'last-seq-above-max-safe-integer',
        hex('5c01', 2, 'ffffffffffffff0f', 'e807', 0, 0x0a, 0, 0x0a),
        'VALUE_OUT_OF_RANGE',
        3,
      ),
      decodeError(
        'timestamp-above-max-safe-integer',
        hex('5c01', 2, 5, 'ffffffffffffff0f', 0, 0x0a, 1, 0x0a),
        'VALUE_OUT_OF_RANGE',
        14,
      ),
      decodeError(
        'negative-nonce',
        hex(ONE_ENTRY, 1, A, 0x00, 0, 'd10f', 0, 0, 1, 0x64, 0x0a, SIG28),
        'VALUE_OUT_OF_RANGE',
        29,
      ),
      decodeError('order-kind-6', orderHex('0c00', ''), 'BAD_ENUM', 30),
      decodeError('self-trade-prevention-3', orderHex('0003', ''), 'BAD_ENUM', 31),
      decodeError('reserved-order-flag', orderHex('0020', ''), 'RESERVED_BITS', 31),
      decodeError('trigger-flagged-but-zero', orderHex('0004', '00'), 'NON_CANONICAL', 35),
      decodeError('client-order-id-flagged-but-zero', orderHex('0008', '00'), 'NON_CANONICAL', 35),
      decodeError('expiry-flagged-but-zero', orderHex('0010', 'cf0f'), 'NON_CANONICAL', 35),
      decodeError('signature-cut-short', orderHex('0000', '', SIG28.slice(0, -2)), 'TRUNCATED', 35),
      decodeError('signature-v-29', orderHex('0000', '', `${SIG28.slice(0, -2)}1d`), 'BAD_SIGNATURE_V', 99),
      decodeError('signature-v-0', orderHex('0000', '', `${SIG28.slice(0, -2)}00`), 'BAD_SIGNATURE_V', 99),
      decodeError(
        'address-index-past-table',
        hex(ONE_ENTRY, 1, A, 0x00, 1, 3, 0, 0, 1, 0x64, 0x0a, SIG28),
        'BAD_ADDRESS_INDEX',
        28,
      ),
      decodeError(
        'duplicate-address',
        hex('5c01', 2, 5, 'e807', 2, A, A, withdrawEntry(0, SIG27), 0, withdrawEntry(1, SIG27)),
        'DUPLICATE_ADDRESS',
        27,
      ),
      decodeError('unused-address', hex(ONE_ENTRY, 2, A, B, withdrawEntry(0, SIG27)), 'UNUSED_ADDRESS', 27),
      decodeError('unused-address-in-empty-batch', hex('5c01', 0, 1, A), 'UNUSED_ADDRESS', 4),
      decodeError(
        'address-table-out-of-order',
        hex('5c01', 2, 5, 'e807', 2, A, B, withdrawEntry(1, SIG27), 0, withdrawEntry(0, SIG27)),
        'BAD_ADDRESS_ORDER',
        27,
      ),
      decodeError('observation-count-exceeds-input', hex(ONE_ENTRY, 0, 0x09, 7, 5), 'TRUNCATED', 9),
      decodeError(
        'every-op-batch-cut-short',
        everyOp.encodedHex.slice(0, -2),
        'TRUNCATED',
        (everyOp.encodedHex.length - 2) / 2 - 1, // exact: whole bytes; the missing byte is the final tag
      ),
      encodeError('seq-gap', batchOf(order, { ...order, seq: order.seq + 2 }), 'SEQ_GAP'),
      encodeError(
        'time-backwards',
        batchOf(order, { ...order, seq: order.seq + 1, timestampMs: order.timestampMs - 1 }),
        'TIME_BACKWARDS',
      ),
      encodeError('signature-v-1', batchOf(signedBy(order, signature(0x11, 1))), 'BAD_SIGNATURE_V'),
      encodeError('missing-signature', batchOf(signedBy(order, null)), 'BAD_SIGNATURE'),
      encodeError('short-signature', batchOf(signedBy(order, signature(0x11, 27).slice(1))), 'BAD_SIGNATURE'),
      encodeError(
        'signature-on-time-advance',
        batchOf(signedBy(timeAdvanceAt(1, 1), signature(0x11, 27))),
        'BAD_SIGNATURE',
      ),
      encodeError(
        'observation-signature-missing',
        batchOf({ ...oracle, observationSignatures: oracle.observationSignatures.slice(1) }),
        'BAD_SIGNATURE',
      ),
      encodeError(
        'checksummed-address',
        batchOf(withOp(order, { account: '0x5CE0000000000000000000000000000000000aBc' })),
        'BAD_ADDRESS',
      ),
      encodeError(
        'amount-above-uint64',
        batchOf(withOp(withdrawOf(5, ADDRESS_A, SIG27), { amountQuantums: 1n << 64n })),
        'VALUE_OUT_OF_RANGE',
      ),
      encodeError('negative-nonce', batchOf(withOp(order, { nonce: -1 })), 'VALUE_OUT_OF_RANGE'),
      encodeError(
        'fractional-size',
        batchOf(withOp(order, { order: { ...(order.op as { order: object }).order, sizeLots: 1.5 } })),
        'VALUE_OUT_OF_RANGE',
      ),
      encodeError(
        'cancel-all-market-id-all-markets',
        batchOf(withOp(everyOpBatch().entries[5]!, { marketId: ALL_MARKETS })),
        'VALUE_OUT_OF_RANGE',
      ),
      encodeError(
        'order-kind-6',
        batchOf(withOp(order, { order: { ...(order.op as { order: object }).order, kind: 6 } })),
        'BAD_ENUM',
      ),
      encodeError('unknown-version', { version: 2, entries: [] } as unknown as BatchData, 'BAD_VERSION'),
    ],
  }
}
