import { keccak_256 } from '@noble/hashes/sha3.js'

/** The engine's one keccak256. Every hash in the protocol goes through here, so the implementation can change in one place. */
export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data)
}
