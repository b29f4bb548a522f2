import type { Address } from 'viem'

/**
 * Sequenced operations. `apply(state, op, ctx)` is the only way state changes.
 *
 * User operations carry `signer`: the address recovered from the EIP-712 signature by whoever
 * decoded the operation (sequencer intake, watcher replay). The engine checks that this signer may
 * act for `account`; it never sees signature bytes.
 */

export const Side = { Buy: 0, Sell: 1 } as const
export type Side = (typeof Side)[keyof typeof Side]

export const OrderKind = {
  Limit: 0,
  /** Crosses at any price up to `priceTicks`, the worst-price protection; never rests. */
  Market: 1,
  StopMarket: 2,
  StopLimit: 3,
  TakeProfitMarket: 4,
  TakeProfitLimit: 5,
} as const
export type OrderKind = (typeof OrderKind)[keyof typeof OrderKind]

export const TimeInForce = {
  /** Good til cancelled. */
  GTC: 0,
  /** Immediate or cancel: what does not fill at once is cancelled. */
  IOC: 1,
  /** Fill or kill: fills completely at once, or nothing happens. */
  FOK: 2,
  /** Good til `expiresAtMs` in sequenced time. */
  GTT: 3,
} as const
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce]

export const SelfTradePrevention = {
  /** Cancel the resting (maker) order and keep matching. */
  ExpireMaker: 0,
  /** Cancel the rest of the incoming (taker) order. */
  ExpireTaker: 1,
  /** Cancel both. */
  ExpireBoth: 2,
} as const
export type SelfTradePrevention = (typeof SelfTradePrevention)[keyof typeof SelfTradePrevention]

export interface OrderParams {
  marketId: number
  side: Side
  kind: OrderKind
  tif: TimeInForce
  /** Limit price; for market orders the worst acceptable price. */
  priceTicks: number
  sizeLots: number
  /** Mark price that triggers stop and take-profit orders; 0 for other kinds. */
  triggerPriceTicks: number
  reduceOnly: boolean
  postOnly: boolean
  stp: SelfTradePrevention
  /** Chosen by the client, unique among the account's open orders; 0n means none. uint64. */
  clientOrderId: bigint
  /** For GTT only, sequenced time after which the order is expired; 0 otherwise. */
  expiresAtMs: number
}

interface SignedBase {
  account: Address
  signer: Address
  /** Millisecond timestamp chosen by the signer; see the nonce window. */
  nonce: number
}

export interface PlaceOrderOp extends SignedBase {
  type: 'placeOrder'
  order: OrderParams
}

export interface CancelOrderOp extends SignedBase {
  type: 'cancelOrder'
  marketId: number
  /** Exactly one of `orderId` (non-zero) and `clientOrderId` (non-zero) identifies the order. */
  orderId: number
  clientOrderId: bigint
}

export interface CancelAllOp extends SignedBase {
  type: 'cancelAll'
  /** null cancels in every market. */
  marketId: number | null
}

export interface ModifyOrderOp extends SignedBase {
  type: 'modifyOrder'
  marketId: number
  orderId: number
  newPriceTicks: number
  newSizeLots: number
}

export interface WithdrawOp extends SignedBase {
  type: 'withdraw'
  amountQuantums: bigint
}

export interface ApproveAgentOp extends SignedBase {
  type: 'approveAgent'
  agent: Address
  expiresAtMs: number
}

export interface RevokeAgentOp extends SignedBase {
  type: 'revokeAgent'
  agent: Address
}

/** From the settlement contract's inbox, in L1 order. */
export interface DepositOp {
  type: 'deposit'
  account: Address
  amountQuantums: bigint
  /** Position of this item in the L1 inbox; items are consumed strictly in order. */
  inboxIndex: number
}

/** From the settlement contract's inbox. Withdraws up to `amountQuantums`, as much as margin allows. */
export interface ForcedWithdrawalOp {
  type: 'forcedWithdrawal'
  account: Address
  amountQuantums: bigint
  inboxIndex: number
}

export interface PriceObservation {
  /** Recovered from the oracle signer's EIP-712 signature. */
  signer: Address
  priceTicks: number
  publishTimeMs: number
}

export interface OracleUpdateOp {
  type: 'oracleUpdate'
  oracleId: number
  observations: readonly PriceObservation[]
}

/** Issued by the sequencer itself: funding, order expiry and trigger evaluation up to `ctx.timestampMs`. */
export interface TimeAdvanceOp {
  type: 'timeAdvance'
}

export type UserOp =
  | PlaceOrderOp
  | CancelOrderOp
  | CancelAllOp
  | ModifyOrderOp
  | WithdrawOp
  | ApproveAgentOp
  | RevokeAgentOp
export type L1Op = DepositOp | ForcedWithdrawalOp
export type Op = UserOp | L1Op | OracleUpdateOp | TimeAdvanceOp
export type OpType = Op['type']

/** What the sequencer assigned to an operation. */
export interface OpContext {
  seq: number
  timestampMs: number
}

/** `CancelAllOp.marketId = null` is encoded as this value in signed messages and in the codec. */
export const ALL_MARKETS = 0xffff_ffff

/**
 * A sequenced operation as it travels in a batch: with signatures, without recovered signers.
 * After decoding, user ops and oracle observations carry `signer = ZERO_ADDRESS` until the
 * caller recovers the signers from `signature` and `observationSignatures`.
 */
export interface SignedEntry {
  seq: number
  timestampMs: number
  op: Op
  /** 65 bytes (r ‖ s ‖ v) for user ops; null for L1, oracle and time ops. */
  signature: Uint8Array | null
  /** One 65-byte signature per observation, in the same order, for oracle updates; empty otherwise. */
  observationSignatures: readonly Uint8Array[]
}

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as const
