import type { Hex } from 'viem'
import { z } from 'zod'
import { BatchFault } from '../engine/batch/replayBatch.ts'
import { ProverCode, type ProverRefusal } from './proverCode.ts'

/**
 * The JSON bodies of the HTTP API (prover-stub/README.md, "HTTP API"), checked on both sides. Bigints
 * travel as decimal strings.
 */

/** `{"batchIndex":"12"}`; a JSON number is accepted too while it is a safe integer. */
export const batchIndexBodySchema = z
  .object({
    batchIndex: z.union([
      z.string().regex(/^[0-9]{1,78}$/, 'must be a decimal integer string'),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ]),
  })
  .transform((body) => BigInt(body.batchIndex))

const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/)
  .transform((s) => s.toLowerCase() as Hex)

const refusalFields = {
  detail: z.string(),
  fault: z.enum(Object.values(BatchFault) as [BatchFault, ...BatchFault[]]).optional(),
  correctStateRoot: hex32.optional(),
  correctWithdrawalsRoot: hex32.optional(),
}

type Optional<T> = { [K in keyof T]?: Exclude<T[K], undefined> }

/** Drops absent optional fields: exactOptionalPropertyTypes keeps `undefined` out of them. */
function present<T extends Record<string, unknown>>(fields: T): Optional<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Optional<T>
}

/** A refusal from an attester: its code must be one this version knows. */
export const refusalBodySchema = z
  .object({ code: z.enum(Object.values(ProverCode) as [ProverCode, ...ProverCode[]]), ...refusalFields })
  .transform(({ code, detail, ...rest }): ProverRefusal => ({ ok: false, code, detail, ...present(rest) }))

/** A refusal from a coordinator, whose prover may be another kind with codes of its own. */
export const anyRefusalBodySchema = z
  .object({ code: z.string().min(1), ...refusalFields })
  .transform(({ code, detail, ...rest }) => ({ ok: false as const, code, detail, ...present(rest) }))

/** The JSON body of a refusal: the outcome without `ok`. */
export function refusalBody(outcome: {
  code: string
  detail: string
  fault?: string
  correctStateRoot?: Hex
  correctWithdrawalsRoot?: Hex
}): Record<string, string> {
  return present({
    code: outcome.code,
    detail: outcome.detail,
    fault: outcome.fault,
    correctStateRoot: outcome.correctStateRoot,
    correctWithdrawalsRoot: outcome.correctWithdrawalsRoot,
  }) as Record<string, string>
}
