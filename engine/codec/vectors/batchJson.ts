import type { BatchData } from '../batchData.ts'

/**
 * JSON form of a batch for the vector files: bigints as decimal strings, byte arrays as 0x-hex.
 * Field names decide the conversion back, so the files stay readable by hand and by Solidity tests.
 */
export function batchToJson(batch: BatchData): unknown {
  return JSON.parse(
    JSON.stringify(batch, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString()
      if (value instanceof Uint8Array) return bytesToHex(value)
      return value
    }),
  )
}

const BIGINT_FIELDS = new Set(['clientOrderId', 'amountQuantums'])

export function batchFromJson(json: unknown): BatchData {
  return JSON.parse(JSON.stringify(json), (key, value: unknown) => {
    if (BIGINT_FIELDS.has(key) && typeof value === 'string') return BigInt(value)
    if (key === 'signature' && typeof value === 'string') return hexToBytes(value)
    if (key === 'observationSignatures' && Array.isArray(value))
      return value.map((v) => hexToBytes(String(v)))
    return value
  }) as BatchData
}

export function bytesToHex(bytes: Uint8Array): string {
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^0x([0-9a-f]{2})*$/.test(hex)) throw new Error(`not 0x-prefixed lowercase hex bytes: ${hex}`)
  const out = new Uint8Array((hex.length - 2) / 2) // exact: the pattern above admits only whole bytes
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16)
  return out
}
