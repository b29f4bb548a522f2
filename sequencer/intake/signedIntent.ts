import type { Hex } from 'viem'
import { ALL_MARKETS, type UserOp } from '../../engine/ops.ts'

/**
 * A signed intent as a client submits it: the fields of the EIP-712 message (docs/protocol.md,
 * "Signing"), the op type, and the 65-byte signature as hex. JSON-friendly: uint64 fields may be
 * decimal strings. Addresses may be in any letter case; intake lowercases them before sequencing.
 */
export type Uint64Input = bigint | string

interface SignedIntentBase {
  account: string
  /** Milliseconds, normally the signer's clock; see the nonce window. */
  nonce: number
  /** `0x` ‖ r (32 bytes) ‖ s (32 bytes) ‖ v (1 byte: 27 or 28; 0 or 1 are read as 27 or 28). */
  signature: string
}

export interface OrderParamsInput {
  marketId: number
  side: number
  kind: number
  tif: number
  priceTicks: number
  sizeLots: number
  triggerPriceTicks: number
  reduceOnly: boolean
  postOnly: boolean
  stp: number
  clientOrderId: Uint64Input
  expiresAtMs: number
}

export type SignedIntent =
  | (SignedIntentBase & { type: 'placeOrder'; order: OrderParamsInput })
  | (SignedIntentBase & {
      type: 'cancelOrder'
      marketId: number
      orderId: number
      clientOrderId: Uint64Input
    })
  | (SignedIntentBase & { type: 'cancelAll'; marketId: number | null })
  | (SignedIntentBase & {
      type: 'modifyOrder'
      marketId: number
      orderId: number
      newPriceTicks: number
      newSizeLots: number
    })
  | (SignedIntentBase & { type: 'withdraw'; amountQuantums: Uint64Input })
  | (SignedIntentBase & { type: 'approveAgent'; agent: string; expiresAtMs: number })
  | (SignedIntentBase & { type: 'revokeAgent'; agent: string })

/** The intent for a user op and its signature (the op's `signer` is not sent: intake recovers it). */
export function toSignedIntent(op: UserOp, signature: Hex): SignedIntent {
  const base = { account: op.account, nonce: op.nonce, signature }
  switch (op.type) {
    case 'placeOrder':
      return { ...base, type: op.type, order: { ...op.order } }
    case 'cancelOrder':
      return {
        ...base,
        type: op.type,
        marketId: op.marketId,
        orderId: op.orderId,
        clientOrderId: op.clientOrderId,
      }
    case 'cancelAll':
      return { ...base, type: op.type, marketId: op.marketId === ALL_MARKETS ? null : op.marketId }
    case 'modifyOrder':
      return {
        ...base,
        type: op.type,
        marketId: op.marketId,
        orderId: op.orderId,
        newPriceTicks: op.newPriceTicks,
        newSizeLots: op.newSizeLots,
      }
    case 'withdraw':
      return { ...base, type: op.type, amountQuantums: op.amountQuantums }
    case 'approveAgent':
      return { ...base, type: op.type, agent: op.agent, expiresAtMs: op.expiresAtMs }
    case 'revokeAgent':
      return { ...base, type: op.type, agent: op.agent }
  }
}
