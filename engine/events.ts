import type { Address } from 'viem'
import type { Side } from './ops.ts'
import type { RejectCode } from './rejections.ts'

export const OrderStatus = {
  Open: 'open',
  /** A stop or take-profit order waiting for its trigger. */
  Untriggered: 'untriggered',
  /** A stop or take-profit order whose trigger fired; it executes at once. */
  Triggered: 'triggered',
  Filled: 'filled',
  Cancelled: 'cancelled',
  Expired: 'expired',
} as const
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus]

export const CancelReason = {
  User: 'user',
  ImmediateOrCancel: 'ioc',
  SelfTrade: 'selfTrade',
  Expired: 'expired',
  Liquidation: 'liquidation',
  ReduceOnly: 'reduceOnly',
  MarginOnTrigger: 'marginOnTrigger',
  Modified: 'modified',
} as const
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason]

export type EngineEvent =
  | {
      type: 'order'
      orderId: number
      accountId: number
      marketId: number
      clientOrderId: bigint
      status: OrderStatus
      remainingLots: number
      reason?: CancelReason
    }
  | {
      type: 'fill'
      marketId: number
      makerOrderId: number
      takerOrderId: number
      makerAccountId: number
      takerAccountId: number
      takerSide: Side
      priceTicks: number
      sizeLots: number
      makerFeeQuantums: bigint
      takerFeeQuantums: bigint
      /** True when the taker is a liquidation of `takerAccountId`. */
      liquidation: boolean
    }
  | { type: 'position'; accountId: number; marketId: number; sizeLots: number; costBasisQuantums: bigint }
  | { type: 'collateral'; accountId: number; collateralQuantums: bigint }
  | { type: 'deposit'; accountId: number; account: Address; amountQuantums: bigint; inboxIndex: number }
  | {
      type: 'withdrawal'
      accountId: number
      account: Address
      amountQuantums: bigint
      /** Index of this withdrawal within the batch's withdrawals tree. */
      withdrawalIndex: number
      forced: boolean
    }
  | { type: 'forcedWithdrawalRejected'; account: Address; inboxIndex: number; code: RejectCode }
  | { type: 'agent'; accountId: number; agent: Address; expiresAtMs: number }
  | { type: 'price'; marketId: number; priceTicks: number; publishTimeMs: number }
  | { type: 'fundingRate'; marketId: number; ratePpm: number; fundingIndexNanoQuantumsPerLot: bigint }
  | { type: 'funding'; accountId: number; marketId: number; paidQuantums: bigint }
  | {
      type: 'liquidation'
      accountId: number
      marketId: number
      sizeLots: number
      priceTicks: number
      via: 'book' | 'insurance'
    }
  | {
      type: 'deleverage'
      marketId: number
      liquidatedAccountId: number
      counterpartyAccountId: number
      sizeLots: number
      priceTicks: number
    }
  | { type: 'marketMode'; marketId: number; reduceOnly: boolean }
