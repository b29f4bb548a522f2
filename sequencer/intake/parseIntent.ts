import type { Address } from 'viem'
import { z } from 'zod'
import { ALL_MARKETS, type UserOp, ZERO_ADDRESS } from '../../engine/ops.ts'
import { IntakeCode, intakeReject, type SequencerRejection } from '../api.ts'
import { parseSignature } from './parseSignature.ts'

/**
 * Shape validation of a signed intent (intake/signedIntent.ts) with zod. Ranges are those the EIP-712
 * types and the batch codec can carry, so every accepted intent can be hashed, logged and posted;
 * business limits (market bounds, sizes, enum combinations) stay the engine's to judge.
 *
 * Hot path: one strict object schema per op type, picked by `type` (cheaper than a discriminated
 * union), and lowercasing and decimal-string conversion done after validation rather than as zod
 * transforms (each transform costs a pipe per field).
 */

const MAX_U32 = 0xffff_ffff
const MAX_U64 = (1n << 64n) - 1n

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits')
const u53 = z.number().int('must be a whole number').min(0, 'must not be negative')
const u32 = u53.max(MAX_U32, `must be at most ${MAX_U32}`)
const enumUpTo = (max: number) =>
  z.number().int('must be a whole number').min(0).max(max, `must be 0 to ${max}`)
/** A bigint, or a decimal string of at most 20 digits (range-checked after parsing). */
const u64 = z.union([
  z.bigint().min(0n, 'must not be negative').max(MAX_U64, 'must be at most 2^64 - 1'),
  z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'must be a decimal integer string'),
])
const signature = z.string()

const base = { account: address, nonce: u53, signature }

const orderParams = z.strictObject({
  marketId: u32,
  side: enumUpTo(1),
  kind: enumUpTo(5),
  tif: enumUpTo(3),
  priceTicks: u53,
  sizeLots: u53,
  triggerPriceTicks: u53,
  reduceOnly: z.boolean(),
  postOnly: z.boolean(),
  stp: enumUpTo(2),
  clientOrderId: u64,
  expiresAtMs: u53,
})

const schemas = {
  placeOrder: z.strictObject({ type: z.literal('placeOrder'), ...base, order: orderParams }),
  cancelOrder: z.strictObject({
    type: z.literal('cancelOrder'),
    ...base,
    marketId: u32,
    orderId: u53,
    clientOrderId: u64,
  }),
  // ALL_MARKETS is how null is encoded, so a numeric ALL_MARKETS would not round-trip.
  cancelAll: z.strictObject({
    type: z.literal('cancelAll'),
    ...base,
    marketId: u32.max(ALL_MARKETS - 1, 'use null for every market').nullable(),
  }),
  modifyOrder: z.strictObject({
    type: z.literal('modifyOrder'),
    ...base,
    marketId: u32,
    orderId: u53,
    newPriceTicks: u53,
    newSizeLots: u53,
  }),
  withdraw: z.strictObject({ type: z.literal('withdraw'), ...base, amountQuantums: u64 }),
  approveAgent: z.strictObject({
    type: z.literal('approveAgent'),
    ...base,
    agent: address,
    expiresAtMs: u53,
  }),
  revokeAgent: z.strictObject({ type: z.literal('revokeAgent'), ...base, agent: address }),
} as const

type IntentType = keyof typeof schemas
const TYPES = Object.keys(schemas).join(', ')

export interface ParsedIntent {
  /** `signer` is ZERO_ADDRESS until recovery. */
  op: UserOp
  /** 65 bytes, v ∈ {27, 28}, low s. */
  signature: Uint8Array
}

/** Validates and normalises an intent; never throws. */
export function parseIntent(raw: unknown): ParsedIntent | SequencerRejection {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return intakeReject(IntakeCode.BAD_REQUEST, `type: must be one of ${TYPES}`, 'type')
  }
  const parsed = schemas[type as IntentType].safeParse(raw)
  if (!parsed.success) return badRequest(parsed.error.issues)
  const sig = parseSignature(parsed.data.signature)
  if (!sig.ok) {
    return sig.malformed
      ? intakeReject(IntakeCode.BAD_REQUEST, `signature ${sig.reason}`, 'signature')
      : intakeReject(IntakeCode.BAD_SIGNATURE, sig.reason, 'signature')
  }
  const op = toOp(parsed.data)
  return typeof op === 'string'
    ? intakeReject(IntakeCode.BAD_REQUEST, op, op.split(':')[0])
    : { op, signature: sig.bytes }
}

type Parsed = z.infer<(typeof schemas)[IntentType]>

/** The engine op, lowercased and with uint64 strings as bigints; a `field: reason` string when a string is out of range. */
function toOp(d: Parsed): UserOp | string {
  const account = d.account.toLowerCase() as Address
  const common = { account, signer: ZERO_ADDRESS, nonce: d.nonce }
  switch (d.type) {
    case 'placeOrder': {
      const clientOrderId = toU64(d.order.clientOrderId)
      if (clientOrderId === null) return 'order.clientOrderId: must be at most 2^64 - 1'
      return { type: d.type, ...common, order: { ...d.order, clientOrderId } } as UserOp
    }
    case 'cancelOrder': {
      const clientOrderId = toU64(d.clientOrderId)
      if (clientOrderId === null) return 'clientOrderId: must be at most 2^64 - 1'
      return { type: d.type, ...common, marketId: d.marketId, orderId: d.orderId, clientOrderId }
    }
    case 'cancelAll':
      return { type: d.type, ...common, marketId: d.marketId }
    case 'modifyOrder':
      return {
        type: d.type,
        ...common,
        marketId: d.marketId,
        orderId: d.orderId,
        newPriceTicks: d.newPriceTicks,
        newSizeLots: d.newSizeLots,
      }
    case 'withdraw': {
      const amountQuantums = toU64(d.amountQuantums)
      if (amountQuantums === null) return 'amountQuantums: must be at most 2^64 - 1'
      return { type: d.type, ...common, amountQuantums }
    }
    case 'approveAgent':
      return { type: d.type, ...common, agent: d.agent.toLowerCase() as Address, expiresAtMs: d.expiresAtMs }
    case 'revokeAgent':
      return { type: d.type, ...common, agent: d.agent.toLowerCase() as Address }
  }
}

function toU64(v: bigint | string): bigint | null {
  const n = typeof v === 'bigint' ? v : BigInt(v)
  return n <= MAX_U64 ? n : null
}

/** The first issue, as `path: sentence`. */
export function badRequest(issues: readonly z.core.$ZodIssue[]): SequencerRejection {
  const issue = issues[0]
  if (issue === undefined) return intakeReject(IntakeCode.BAD_REQUEST)
  const field = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ')
    return intakeReject(
      IntakeCode.BAD_REQUEST,
      `unknown field(s) ${keys}`,
      field === '' ? keys : `${field}.${keys}`,
    )
  }
  return intakeReject(IntakeCode.BAD_REQUEST, `${field === '' ? 'intent' : field}: ${issue.message}`, field)
}
