import { z } from 'zod'
import { type OracleUpdateOp, ZERO_ADDRESS } from '../../engine/ops.ts'
import { IntakeCode, intakeReject, type SequencerRejection } from '../api.ts'
import { badRequest } from './parseIntent.ts'
import { parseSignature } from './parseSignature.ts'

/** A price update as the oracle publisher submits it: one signed observation per oracle signer. */
export interface SignedOracleUpdate {
  oracleId: number
  observations: { priceTicks: number; publishTimeMs: number; signature: string }[]
}

/** More than any oracle set needs; bounds the work one update can ask of recovery. */
export const MAX_OBSERVATIONS = 32

const u53 = z.number().int('must be a whole number').min(0, 'must not be negative')
const schema = z.strictObject({
  oracleId: u53.max(0xffff_ffff),
  observations: z
    .array(z.strictObject({ priceTicks: u53, publishTimeMs: u53, signature: z.string() }))
    .min(1, 'needs at least one observation')
    .max(MAX_OBSERVATIONS, `at most ${MAX_OBSERVATIONS} observations`),
})

export interface ParsedOracleUpdate {
  /** Observation signers are ZERO_ADDRESS until recovery. */
  op: OracleUpdateOp
  signatures: Uint8Array[]
}

export function parseOracleUpdate(raw: unknown): ParsedOracleUpdate | SequencerRejection {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) return badRequest(parsed.error.issues)
  const signatures: Uint8Array[] = []
  for (const [i, o] of parsed.data.observations.entries()) {
    const sig = parseSignature(o.signature)
    const field = `observations.${i}.signature`
    if (!sig.ok) {
      return sig.malformed
        ? intakeReject(IntakeCode.BAD_REQUEST, `${field} ${sig.reason}`, field)
        : intakeReject(IntakeCode.BAD_SIGNATURE, sig.reason, field)
    }
    signatures.push(sig.bytes)
  }
  return {
    op: {
      type: 'oracleUpdate',
      oracleId: parsed.data.oracleId,
      observations: parsed.data.observations.map((o) => ({
        signer: ZERO_ADDRESS,
        priceTicks: o.priceTicks,
        publishTimeMs: o.publishTimeMs,
      })),
    },
    signatures,
  }
}
