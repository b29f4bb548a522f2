import { readFileSync } from 'node:fs'
import { bytesToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { parseIntent } from './parseIntent.ts'
import { parseOracleUpdate } from './parseOracleUpdate.ts'

interface Vectors {
  signatures: Record<string, string>
  cases: (
    | { name: string; kind: 'accept'; intent: unknown; op: Record<string, unknown>; signatureBytes?: string }
    | { name: string; kind: 'reject'; intent: unknown; code: string; field: string }
  )[]
}

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/intents.json', import.meta.url), 'utf8'),
) as Vectors

/** `$name` signatures come from the table, so that each case stays readable. */
function resolve(intent: unknown): unknown {
  if (typeof intent !== 'object' || intent === null) return intent
  const sig = (intent as { signature?: unknown }).signature
  if (typeof sig !== 'string' || !sig.startsWith('$')) return intent
  const value = vectors.signatures[sig.slice(1)]
  if (value === undefined) throw new Error(`unknown signature ${sig}`)
  return { ...intent, signature: value }
}

/** bigints as decimal strings, for comparison with JSON. */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
}

describe('intake vectors (vectors/intents.json)', () => {
  it('has cases of both kinds', () => {
    expect(vectors.cases.some((c) => c.kind === 'accept')).toBe(true)
    expect(vectors.cases.some((c) => c.kind === 'reject')).toBe(true)
  })
  for (const c of vectors.cases) {
    it(c.name, () => {
      const result = parseIntent(resolve(c.intent))
      switch (c.kind) {
        case 'accept': {
          if (!('op' in result)) throw new Error(`refused: ${result.code} ${result.message}`)
          expect(plain(result.op)).toEqual(c.op)
          const sig = (resolve(c.intent) as { signature: string }).signature
          expect(bytesToHex(result.signature)).toBe((c.signatureBytes ?? sig).toLowerCase())
          break
        }
        case 'reject':
          if ('op' in result) throw new Error('accepted')
          expect(result.code).toBe(c.code)
          expect(result.field).toBe(c.field)
          expect(result.message.length).toBeGreaterThan(20)
          break
        default:
          throw new Error(`unknown case kind ${(c as { kind: string }).kind}`)
      }
    })
  }
})

describe('parseIntent', () => {
  it('accepts bigints where JSON would carry decimal strings', () => {
    const base = vectors.cases.find((c) => c.name === 'withdraw')!
    const intent = { ...(resolve(base.intent) as object), amountQuantums: 1_000_000n }
    const result = parseIntent(intent)
    expect('op' in result && result.op.type === 'withdraw' && result.op.amountQuantums).toBe(1_000_000n)
  })

  it('names the field and says what is wrong', () => {
    const base = vectors.cases.find((c) => c.kind === 'accept')!
    const intent = resolve(base.intent) as { order: object }
    const result = parseIntent({ ...intent, order: { ...intent.order, priceTicks: -3 } })
    expect(result).toMatchObject({ ok: false, code: 'BAD_REQUEST', field: 'order.priceTicks' })
    expect((result as { message: string }).message).toMatch(/order\.priceTicks: must not be negative/)
  })
})

describe('parseOracleUpdate', () => {
  const sig = vectors.signatures.valid!
  it('accepts signed observations and leaves signers to recovery', () => {
    const result = parseOracleUpdate({
      oracleId: 1,
      observations: [{ priceTicks: 5, publishTimeMs: 6, signature: sig }],
    })
    expect('op' in result && result.op.observations[0]).toEqual({
      signer: '0x0000000000000000000000000000000000000000',
      priceTicks: 5,
      publishTimeMs: 6,
    })
  })
  it('refuses an empty update, a bad signature and unknown fields', () => {
    expect(parseOracleUpdate({ oracleId: 1, observations: [] })).toMatchObject({
      code: 'BAD_REQUEST',
      field: 'observations',
    })
    expect(
      parseOracleUpdate({
        oracleId: 1,
        observations: [{ priceTicks: 5, publishTimeMs: 6, signature: vectors.signatures.highS }],
      }),
    ).toMatchObject({ code: 'BAD_SIGNATURE', field: 'observations.0.signature' })
    expect(parseOracleUpdate({ oracleId: 1, observations: [], extra: 1 })).toMatchObject({
      code: 'BAD_REQUEST',
    })
  })
})
