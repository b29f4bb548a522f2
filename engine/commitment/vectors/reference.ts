import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Address, bytesToHex, encodeAbiParameters, hexToBytes } from 'viem'

/**
 * Slow, obviously-correct reference encodings for the tests: viem's ABI encoder and @noble/hashes'
 * keccak, nothing shared with the engine's hand-written encoders, WebAssembly keccak or tree.
 */

function doubleHash(encoded: `0x${string}`): Uint8Array {
  return keccak_256(keccak_256(hexToBytes(encoded)))
}

export function refAccountLeaf(
  address: Address,
  escapeEquityQuantums: bigint,
  accountDataHash: Uint8Array,
): Uint8Array {
  return doubleHash(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }],
      [address, escapeEquityQuantums, bytesToHex(accountDataHash)],
    ),
  )
}

export interface RefWithdrawal {
  chainId: bigint
  settlement: Address
  batchIndex: bigint
  withdrawalIndex: number
  account: Address
  amountQuantums: bigint
}

export function refWithdrawalLeaf(w: RefWithdrawal): Uint8Array {
  return doubleHash(
    encodeAbiParameters(
      [
        { type: 'uint256' },
        { type: 'address' },
        { type: 'uint256' },
        { type: 'uint256' },
        { type: 'address' },
        { type: 'uint256' },
      ],
      [w.chainId, w.settlement, w.batchIndex, BigInt(w.withdrawalIndex), w.account, w.amountQuantums],
    ),
  )
}

export function refStateRoot(
  accountsRoot: Uint8Array,
  marketsHash: Uint8Array,
  globalsHash: Uint8Array,
): Uint8Array {
  return keccak_256(
    hexToBytes(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
        [bytesToHex(accountsRoot), bytesToHex(marketsHash), bytesToHex(globalsHash)],
      ),
    ),
  )
}

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const both = new Uint8Array(64)
  both.set(left)
  both.set(right, 32)
  return keccak_256(both)
}

export function refZeroHashes(depth: number): Uint8Array[] {
  const zeros: Uint8Array[] = [new Uint8Array(32)]
  for (let i = 0; i < depth; i++) zeros.push(hashPair(zeros[i]!, zeros[i]!))
  return zeros
}

/** Node (height, position) of a sparse tree given as index → leaf, by recursion that skips empty subtrees. */
function refNode(
  leaves: ReadonlyMap<number, Uint8Array>,
  sortedIndices: readonly number[],
  zeros: readonly Uint8Array[],
  height: number,
  position: number,
): Uint8Array {
  const first = position * 2 ** height
  const end = first + 2 ** height
  if (!sortedIndices.some((i) => i >= first && i < end)) return zeros[height]!
  if (height === 0) return leaves.get(position)!
  return hashPair(
    refNode(leaves, sortedIndices, zeros, height - 1, 2 * position),
    refNode(leaves, sortedIndices, zeros, height - 1, 2 * position + 1),
  )
}

export function refRoot(depth: number, leaves: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const sorted = [...leaves.keys()].sort((a, b) => a - b)
  return refNode(leaves, sorted, refZeroHashes(depth), depth, 0)
}

export function refProof(
  depth: number,
  leaves: ReadonlyMap<number, Uint8Array>,
  index: number,
): Uint8Array[] {
  const sorted = [...leaves.keys()].sort((a, b) => a - b)
  const zeros = refZeroHashes(depth)
  const proof: Uint8Array[] = []
  for (let h = 0; h < depth; h++) {
    // floor: the node at height h above leaf `index`.
    const position = Math.floor(index / 2 ** h)
    proof.push(refNode(leaves, sorted, zeros, h, position % 2 === 0 ? position + 1 : position - 1))
  }
  return proof
}
