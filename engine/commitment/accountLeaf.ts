import type { Address } from 'viem'
import { writeAddressWord, writeBytes32Word, writeUint256Word } from './abiWords.ts'
import { keccak256Twice } from './keccak256.ts'

/** The leaf of an account index that holds no account: 32 zero bytes, not a hash of anything. */
export const EMPTY_ACCOUNT_LEAF: Uint8Array = new Uint8Array(32)

// abi.encode(address, uint256, bytes32) is 3 words; reused because the engine rebuilds leaves in bulk.
const encoded = new Uint8Array(96)
const encodedView = new DataView(encoded.buffer)

/**
 * keccak256(bytes.concat(keccak256(abi.encode(address, escapeEquityQuantums, accountDataHash)))).
 *
 * INVARIANT: the contract can check an account's L1 address and escape equity from this leaf and a
 * Merkle proof alone; `accountDataHash` (32 bytes) commits to everything else about the account.
 * Hashing twice makes the leaf preimage 32 bytes, never the 64 of an inner node.
 */
export function accountLeafHash(
  address: Address,
  escapeEquityQuantums: bigint,
  accountDataHash: Uint8Array,
): Uint8Array {
  if (escapeEquityQuantums < 0n) {
    throw new Error(`commitment: negative escape equity ${escapeEquityQuantums} for ${address}`)
  }
  writeAddressWord(encoded, 0, address)
  writeUint256Word(encodedView, 32, escapeEquityQuantums)
  writeBytes32Word(encoded, 64, accountDataHash)
  return keccak256Twice(encoded)
}
