import { readFileSync } from 'node:fs'
import { type Address, bytesToHex, type Hex, hashTypedData, recoverAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { UserOp } from '../ops.ts'
import { domainSeparator, observationDigest, userOpDigest } from './digest.ts'
import { eip712DomainType, eip712Types } from './eip712Types.ts'
import { encodeType } from './encodeType.ts'
import { signingDomain } from './signingDomain.ts'
import { observationTypedData, toTypedData } from './toTypedData.ts'

interface Vectors {
  signer: Address
  domain: { name: string; version: string; chainId: string; verifyingContract: Address }
  domainSeparator: Hex
  typeStrings: Record<string, string>
  domainCases: { chainId: string; verifyingContract: Address; domainSeparator: Hex }[]
  cases: ({ name: string; digest: Hex; signature: Hex } & (
    | { kind: 'userOp'; op: Record<string, unknown> }
    | { kind: 'observation'; oracleId: number; observation: { priceTicks: number; publishTimeMs: number } }
  ))[]
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/eip712.json', import.meta.url), 'utf8')) as Vectors
const USER_OP_TYPES: readonly UserOp['type'][] = [
  'placeOrder',
  'cancelOrder',
  'cancelAll',
  'modifyOrder',
  'withdraw',
  'approveAgent',
  'revokeAgent',
]
/** The JSON carries uint64/uint256 bigints as decimal strings. */
const BIGINT_FIELDS = new Set(['clientOrderId', 'amountQuantums'])

function reviveOp(json: Record<string, unknown>): UserOp {
  const revive = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => {
        if (BIGINT_FIELDS.has(k)) return [k, BigInt(v as string)]
        if (k === 'order') return [k, revive(v as Record<string, unknown>)]
        return [k, v]
      }),
    )
  const op = revive(json)
  if (!USER_OP_TYPES.includes(op.type as UserOp['type']))
    throw new Error(`unknown op type ${String(op.type)}`)
  return op as unknown as UserOp
}

const domain = signingDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract)
const separator = domainSeparator(domain.chainId, domain.verifyingContract)

describe('EIP-712 vectors', () => {
  it('pin the domain', () => {
    expect(vectors.domain.name).toBe(domain.name)
    expect(vectors.domain.version).toBe(domain.version)
    expect(bytesToHex(separator)).toBe(vectors.domainSeparator)
    for (const c of vectors.domainCases) {
      expect(bytesToHex(domainSeparator(BigInt(c.chainId), c.verifyingContract))).toBe(c.domainSeparator)
    }
  })

  it('pin every type string, and nothing else is signed', () => {
    const actual: Record<string, string> = { EIP712Domain: encodeType('EIP712Domain', eip712DomainType) }
    for (const def of Object.values(eip712Types)) {
      const fields = (def.types as Record<string, readonly { name: string; type: string }[]>)[
        def.primaryType
      ]!
      actual[def.primaryType] = encodeType(def.primaryType, fields)
    }
    expect(actual).toEqual(vectors.typeStrings)
  })

  for (const c of vectors.cases) {
    it(c.name, async () => {
      let fast: Uint8Array
      let viaViem: Hex
      switch (c.kind) {
        case 'userOp': {
          const op = reviveOp(c.op)
          fast = userOpDigest(op, separator)
          viaViem = hashTypedData(toTypedData(op, domain))
          break
        }
        case 'observation':
          fast = observationDigest(c.oracleId, c.observation, separator)
          viaViem = hashTypedData(observationTypedData(c.oracleId, c.observation, domain))
          break
        default:
          throw new Error(`unknown vector kind in ${(c as { name: string }).name}`)
      }
      expect(bytesToHex(fast)).toBe(c.digest)
      expect(viaViem).toBe(c.digest)
      expect(await recoverAddress({ hash: c.digest, signature: c.signature })).toBe(vectors.signer)
    })
  }

  it('cover every signed type', () => {
    const seen = new Set(vectors.cases.map((c) => (c.kind === 'userOp' ? c.op.type : 'priceObservation')))
    expect([...seen].sort()).toEqual(Object.keys(eip712Types).sort())
  })
})
