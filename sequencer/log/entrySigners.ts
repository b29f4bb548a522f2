import type { Address } from 'viem'
import type { SignedEntry } from '../../engine/ops.ts'
import { addressAt } from '../../engine/signing/recoverAddress.ts'

/**
 * The recovered signers of a log group, beside its codec bytes (the codec does not carry them).
 * Layout: for each entry in order, 20 bytes for a user op's signer, 20 bytes per observation of an
 * oracle update, nothing for deposits, forced withdrawals and time advances. Replaying with these
 * skips signature recovery; they are the node's own record and never leave it.
 */
export const ADDRESS_BYTES = 20

export function signerCount(entry: SignedEntry): number {
  const op = entry.op
  switch (op.type) {
    case 'deposit':
    case 'forcedWithdrawal':
    case 'timeAdvance':
      return 0
    case 'oracleUpdate':
      return op.observations.length
    default:
      return 1
  }
}

export function packSigners(entries: readonly SignedEntry[]): Uint8Array {
  let n = 0
  for (const e of entries) n += signerCount(e)
  const out = new Uint8Array(n * ADDRESS_BYTES)
  let at = 0
  for (const e of entries) {
    const op = e.op
    if (op.type === 'oracleUpdate') {
      for (const o of op.observations) at = putAddress(out, at, o.signer)
    } else if (op.type !== 'deposit' && op.type !== 'forcedWithdrawal' && op.type !== 'timeAdvance') {
      at = putAddress(out, at, op.signer)
    }
  }
  return out
}

/** Writes the signers back into decoded entries; false when the blob does not fit them exactly. */
export function applySigners(entries: readonly SignedEntry[], signers: Uint8Array): boolean {
  let at = 0
  for (const e of entries) {
    const need = signerCount(e) * ADDRESS_BYTES
    if (at + need > signers.length) return false
    const op = e.op
    if (op.type === 'oracleUpdate') {
      for (const o of op.observations) {
        o.signer = addressAt(signers, at)
        at += ADDRESS_BYTES
      }
    } else if (need > 0) {
      const signer = addressAt(signers, at)
      // Most ops are signed by the account itself: share its string, whose hash the engine's maps have cached.
      const account = (op as { account: Address }).account
      ;(op as { signer: Address }).signer = signer === account ? account : signer
      at += ADDRESS_BYTES
    }
  }
  return at === signers.length
}

/** `address` is lowercase hex (intake and the codec guarantee it). */
function putAddress(out: Uint8Array, at: number, address: Address): number {
  for (let i = 0; i < ADDRESS_BYTES; i++) {
    out[at + i] = (nibble(address.charCodeAt(2 + 2 * i)) << 4) | nibble(address.charCodeAt(3 + 2 * i))
  }
  return at + ADDRESS_BYTES
}

function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87 // '0'-'9', then 'a'-'f'
}
