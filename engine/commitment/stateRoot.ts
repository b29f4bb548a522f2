import { writeBytes32Word } from './abiWords.ts'
import { keccak256 } from './keccak256.ts'

const encoded = new Uint8Array(96)

/**
 * keccak256(abi.encode(bytes32 accountsRoot, bytes32 marketsHash, bytes32 globalsHash)).
 *
 * INVARIANT: the three parts together commit to the whole state, so a prover starting from this root
 * can replay the next batch. The contract only ever opens `accountsRoot` (for escapes).
 */
export function stateRoot(
  accountsRoot: Uint8Array,
  marketsHash: Uint8Array,
  globalsHash: Uint8Array,
): Uint8Array {
  writeBytes32Word(encoded, 0, accountsRoot)
  writeBytes32Word(encoded, 32, marketsHash)
  writeBytes32Word(encoded, 64, globalsHash)
  return keccak256(encoded)
}
