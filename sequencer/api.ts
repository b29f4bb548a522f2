import type { Address, Hex } from 'viem'
import type { DepthLevel } from '../engine/book/orderBook.ts'
import type { EngineEvent } from '../engine/events.ts'
import type { OpType } from '../engine/ops.ts'
import type { RejectCode } from '../engine/rejections.ts'
import type { OpResult } from '../engine/transitions/result.ts'
import type { SignedIntent } from './intake/signedIntent.ts'

export type { SignedIntent }

/**
 * The sequencer as the API sees it. Every method is asynchronous and every value is plain data
 * (structured-clone safe: numbers, bigints, strings, arrays, objects), so the same shape can sit
 * behind a process boundary (see node/ipcClient.ts).
 */
export interface SequencerApi {
  /**
   * Validates, authenticates and sequences one signed intent. Resolves once the intent is durable in
   * the log and applied (`Ack`, whose `outcome` may still be an engine rejection), or with the reason
   * it was refused before sequencing (`SequencerRejection`). Never rejects the promise.
   */
  submit(intent: SignedIntent): Promise<SubmitResult>
  status(): Promise<SequencerStatus>
  /** null when the address has never deposited. */
  account(address: string): Promise<AccountView | null>
  /** null for an unknown market. `levels` per side, best first. */
  orderBook(marketId: number, levels: number): Promise<BookView | null>
  /** Every sequenced operation, in sequence order, from the next one on. Returns the unsubscribe function. */
  subscribe(listener: (op: SequencedOp) => void): () => void
}

/** Refusals before sequencing that are not engine rules. Codes keep their meaning forever; add at the end. */
export const IntakeCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  OVERLOADED: 'OVERLOADED',
  HALTED: 'HALTED',
  CLOSED: 'CLOSED',
  INBOX_ORDER: 'INBOX_ORDER',
} as const
export type IntakeCode = (typeof IntakeCode)[keyof typeof IntakeCode]

export const intakeHint: Record<IntakeCode, string> = {
  BAD_REQUEST: 'The intent is malformed; fix the field named and sign again.',
  BAD_SIGNATURE:
    'The signature is not a valid low-s secp256k1 signature of this intent; sign the EIP-712 typed data again.',
  OVERLOADED: 'The sequencer is at capacity; retry shortly with the same signed intent.',
  HALTED: 'The sequencer has halted and accepts nothing until an operator restarts it; retry later.',
  CLOSED: 'The sequencer is shutting down; retry once it is back.',
  INBOX_ORDER: 'L1 inbox items must be sequenced exactly once and in inbox order.',
}

export type SequencerRejectCode = IntakeCode | RejectCode

export interface SequencerRejection {
  ok: false
  code: SequencerRejectCode
  message: string
  /** For BAD_REQUEST: the path of the offending field, e.g. `order.priceTicks`. */
  field?: string
}

export function intakeReject(code: IntakeCode, detail?: string, field?: string): SequencerRejection {
  const message = detail === undefined ? intakeHint[code] : `${intakeHint[code]} (${detail})`
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field }
}

/** The intent is durable at `seq` and has been applied; `outcome` is the engine's verdict. */
export interface Ack {
  ok: true
  seq: number
  timestampMs: number
  outcome: OpResult
}

export type SubmitResult = Ack | SequencerRejection

/** One sequenced operation and what it did, as subscribers receive it. */
export interface SequencedOp {
  seq: number
  timestampMs: number
  type: OpType
  /** The account acted on (user and L1 ops); null for oracle updates and time advances. */
  account: Address | null
  outcome: OpResult
  events: readonly EngineEvent[]
}

export interface HaltInfo {
  code: HaltCode
  message: string
  /** The seq being applied when the engine broke, if that is what happened. */
  seq: number | null
}

export const HaltCode = {
  /** The engine threw while applying a durable entry: the entry is in the log, the state is not trusted. */
  ENGINE_INVARIANT: 'ENGINE_INVARIANT',
  /** A log write failed; the group was not acknowledged and may or may not be durable. */
  LOG_WRITE_FAILED: 'LOG_WRITE_FAILED',
  /** A batch of ours that was on L1 was reverted: the node will not build on state L1 dropped. */
  BATCH_REVERTED: 'BATCH_REVERTED',
  /** The prover refused to prove a batch of ours: our engine and the prover disagree on a transition. */
  PROVER_REFUSED: 'PROVER_REFUSED',
  /** The settlement contract is frozen (censorship or liveness): nothing can be posted again; users escape on L1. */
  SETTLEMENT_FROZEN: 'SETTLEMENT_FROZEN',
  /** A batch finalized on L1 at one of our indices is not ours: L1 settled a state this node does not have. */
  BATCH_CONFLICT: 'BATCH_CONFLICT',
  /** The L1 inbox reader found consumed items changed on L1 (a reorg deeper than the confirmations, or a reclaim). */
  INBOX_FAULT: 'INBOX_FAULT',
  /** A sealed batch is larger than one proposal can carry in the configured data mode (batch.dataMode). */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
} as const
export type HaltCode = (typeof HaltCode)[keyof typeof HaltCode]

export interface SequencerStatus {
  /** Last sequenced (durable and applied) seq; 0 before the first. */
  seq: number
  timestampMs: number
  stateRoot: Hex
  /** The seq covered by the latest snapshot; 0 when there is none. */
  snapshotSeq: number
  /** Index of the next L1 inbox item to consume. */
  inboxConsumed: number
  /** Intents received but not yet acknowledged or refused. */
  pendingIntents: number
  halted: HaltInfo | null
}

export interface PositionView {
  marketId: number
  sizeLots: number
  costBasisQuantums: bigint
}

export interface OrderView {
  orderId: number
  marketId: number
  side: number
  kind: number
  tif: number
  priceTicks: number
  remainingLots: number
  triggerPriceTicks: number
  triggered: boolean
  reduceOnly: boolean
  postOnly: boolean
  clientOrderId: bigint
  expiresAtMs: number
}

export interface AccountView {
  accountId: number
  address: Address
  collateralQuantums: bigint
  equityQuantums: bigint
  initialMarginQuantums: bigint
  maintenanceMarginQuantums: bigint
  positions: PositionView[]
  openOrders: OrderView[]
  /** Approved agents and when each approval ends (sequenced ms). */
  agents: { agent: Address; expiresAtMs: number }[]
}

export interface BookView {
  marketId: number
  markPriceTicks: number
  reduceOnly: boolean
  bids: DepthLevel[]
  asks: DepthLevel[]
}
