/**
 * Signature checks done before recovery: 0 < r < n and 0 < s ≤ n/2 (EIP-2 "low s"), where n is the
 * secp256k1 group order, so each signed intent has exactly one accepted signature byte string and the
 * log never carries a malleated copy. Compared as big-endian bytes; no bigint on the hot path.
 */
const N = hexBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')
/** floor(n / 2). */
const HALF_N = hexBytes('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0')

export const SIGNATURE_BYTES = 65

export type ParsedSignature =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; malformed: boolean; reason: string }

const MALFORMED = 'must be 0x followed by 130 hex digits'

/** `0x` + 130 hex digits into r ‖ s ‖ v with v normalised to 27 or 28. */
export function parseSignature(hex: string): ParsedSignature {
  if (
    typeof hex !== 'string' ||
    hex.length !== 2 + 2 * SIGNATURE_BYTES ||
    hex.charCodeAt(0) !== 48 ||
    hex[1] !== 'x'
  ) {
    return { ok: false, malformed: true, reason: MALFORMED }
  }
  const bytes = new Uint8Array(SIGNATURE_BYTES)
  for (let i = 0; i < SIGNATURE_BYTES; i++) {
    const c1 = hex.charCodeAt(2 + 2 * i)
    const c2 = hex.charCodeAt(3 + 2 * i)
    const hi = c1 < 128 ? HEX_VALUE[c1]! : -1
    const lo = c2 < 128 ? HEX_VALUE[c2]! : -1
    if ((hi | lo) < 0) return { ok: false, malformed: true, reason: MALFORMED }
    bytes[i] = (hi << 4) | lo
  }
  const v = bytes[64]!
  if (v === 0 || v === 1) bytes[64] = v + 27
  else if (v !== 27 && v !== 28) return { ok: false, malformed: false, reason: `v is ${v}, not 27 or 28` }
  const checked = checkScalars(bytes)
  return checked === null ? { ok: true, bytes } : { ok: false, malformed: false, reason: checked }
}

/** null when 0 < r < n and 0 < s ≤ n/2. */
export function checkScalars(sig: Uint8Array): string | null {
  if (isZero(sig, 0) || compare(sig, 0, N) >= 0) return 'r is out of range'
  if (isZero(sig, 32) || compare(sig, 32, N) >= 0) return 's is out of range'
  if (compare(sig, 32, HALF_N) > 0) return 's is in the upper half of the curve order (use the low-s form)'
  return null
}

/** Sign of (the 32 bytes of `a` at `offset`) − `b`, both big-endian. */
function compare(a: Uint8Array, offset: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[offset + i]! - b[i]!
    if (d !== 0) return d
  }
  return 0
}

function isZero(a: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) if (a[offset + i] !== 0) return false
  return true
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) =>
    Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  )
}

/** Value of each ASCII hex digit; -1 for every other code unit below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c // 0-9
for (let c = 0; c < 6; c++) {
  HEX_VALUE[97 + c] = 10 + c // a-f
  HEX_VALUE[65 + c] = 10 + c // A-F
}
