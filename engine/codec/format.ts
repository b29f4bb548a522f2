import type { OpType } from '../ops.ts'

/**
 * Wire constants of the batch codec, version 1. Layout in docs/protocol.md ("Batch codec").
 * INVARIANT: changing any value here changes the meaning of posted batches; add a version instead.
 */

/** First byte of every batch, so a watcher recognises SCE batches among other calldata. */
export const BATCH_MAGIC = 0x5c
export const CODEC_VERSION = 1

export const ADDRESS_BYTES = 20
/** r (32) ‖ s (32) ‖ v (1), v in {27, 28}. */
export const SIGNATURE_BYTES = 65

/** One byte per op. The commonest op gets 0x00: a zero calldata byte costs 4 gas instead of 16. */
export const OpTag = {
  placeOrder: 0x00,
  cancelOrder: 0x01,
  cancelAll: 0x02,
  modifyOrder: 0x03,
  withdraw: 0x04,
  approveAgent: 0x05,
  revokeAgent: 0x06,
  deposit: 0x07,
  forcedWithdrawal: 0x08,
  oracleUpdate: 0x09,
  timeAdvance: 0x0a,
} as const satisfies Record<OpType, number>

/** Place order, first flags byte: every bit is used. */
export const ORDER_FLAG_SELL = 0x01
export const ORDER_KIND_SHIFT = 1
export const ORDER_KIND_MASK = 0x07
export const ORDER_TIF_SHIFT = 4
export const ORDER_TIF_MASK = 0x03
export const ORDER_FLAG_REDUCE_ONLY = 0x40
export const ORDER_FLAG_POST_ONLY = 0x80

/** Place order, second flags byte: self-trade prevention and which optional fields follow. */
export const ORDER_STP_MASK = 0x03
export const ORDER_HAS_TRIGGER = 0x04
export const ORDER_HAS_CLIENT_ORDER_ID = 0x08
export const ORDER_HAS_EXPIRY = 0x10
export const ORDER_RESERVED_BITS = 0xe0

/** Highest value of each order enum in ops.ts. */
export const MAX_ORDER_KIND = 5
export const MAX_TIF = 3
export const MAX_STP = 2

export const MAX_U64 = (1n << 64n) - 1n
