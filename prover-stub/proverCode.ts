import type { Hex } from 'viem'
import type { BatchFault } from '../engine/batch/replayBatch.ts'

/**
 * Stable codes of every answer that is not a proof or a signature, shared by the attester, the
 * coordinator and their HTTP API (prover-stub/README.md, "HTTP API").
 *
 * WRONG_TRANSITION and WRONG_PARENT are verdicts on the batch: it must not be proven. The others say
 * nothing about the batch: ask again later, or fix the request or the deployment.
 */
export const ProverCode = {
  /** The batch replays to other roots than its header's, or is not a valid batch at all. */
  WRONG_TRANSITION: 'WRONG_TRANSITION',
  /** An ancestor of the batch is wrong: it builds on a state that replay never reaches. */
  WRONG_PARENT: 'WRONG_PARENT',
  /** No live batch has this index (never proposed, or reverted). */
  UNKNOWN_BATCH: 'UNKNOWN_BATCH',
  BAD_REQUEST: 'BAD_REQUEST',
  /** Fewer than `threshold` attesters signed, and no quorum of them refused. */
  NOT_ENOUGH_ATTESTERS: 'NOT_ENOUGH_ATTESTERS',
  /** The L1 RPC failed or answered inconsistently. */
  L1_UNAVAILABLE: 'L1_UNAVAILABLE',
  /** The posted batch data cannot be read back from L1, or does not hash to the header's dataHash. */
  DATA_UNAVAILABLE: 'DATA_UNAVAILABLE',
  /** Our public values differ from the contract's: this prover runs with another engine configuration. */
  PUBLIC_VALUES_MISMATCH: 'PUBLIC_VALUES_MISMATCH',
  /** An attester could not be reached or gave an answer that is not one of the API's. */
  ATTESTER_UNAVAILABLE: 'ATTESTER_UNAVAILABLE',
  /** The coordinator could not be reached (client side only). */
  PROVER_UNAVAILABLE: 'PROVER_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const
export type ProverCode = (typeof ProverCode)[keyof typeof ProverCode]

/** Any answer that is not a proof or a signature. */
export interface ProverRefusal {
  ok: false
  code: ProverCode
  /** One sentence for the operator. */
  detail: string
  /** For WRONG_TRANSITION: which rule of engine/batch/replayBatch.ts the batch breaks. */
  fault?: BatchFault
  /** For WRONG_TRANSITION when the replay reached the seal: the roots the header should have carried. */
  correctStateRoot?: Hex
  correctWithdrawalsRoot?: Hex
}

/** Whether `code` is a verdict on the batch (as opposed to a failure to reach one). */
export function isVerdict(code: string): boolean {
  return code === ProverCode.WRONG_TRANSITION || code === ProverCode.WRONG_PARENT
}

const STATUS: Record<ProverCode, number> = {
  WRONG_TRANSITION: 409,
  WRONG_PARENT: 409,
  UNKNOWN_BATCH: 404,
  BAD_REQUEST: 400,
  NOT_ENOUGH_ATTESTERS: 503,
  L1_UNAVAILABLE: 503,
  DATA_UNAVAILABLE: 503,
  PUBLIC_VALUES_MISMATCH: 500,
  ATTESTER_UNAVAILABLE: 503,
  PROVER_UNAVAILABLE: 503,
  INTERNAL: 500,
}

/** The HTTP status of a refusal; a code this version does not know is a server error. */
export function httpStatusOf(code: string): number {
  return (STATUS as Record<string, number>)[code] ?? 500
}

export function refusal(code: ProverCode, detail: string, extra: Partial<ProverRefusal> = {}): ProverRefusal {
  return { ...extra, ok: false, code, detail }
}
