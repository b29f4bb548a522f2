import { keccak256Pair } from './keccak256.ts'

/** The deepest tree the protocol allows: 2^32 leaves. */
export const MAX_TREE_DEPTH = 32

const zeros: Uint8Array[] = [new Uint8Array(32)]
for (let level = 0; level < MAX_TREE_DEPTH; level++) {
  const below = zeros[level]!
  zeros.push(keccak256Pair(below, below))
}

/**
 * The root of an all-empty subtree of height `level`: zeroHash(0) is 32 zero bytes (the empty leaf),
 * zeroHash(i + 1) = keccak256(zeroHash(i) ‖ zeroHash(i)). Returns a fresh copy.
 */
export function zeroHash(level: number): Uint8Array {
  const z = zeros[level]
  if (z === undefined || !Number.isInteger(level))
    throw new Error(`commitment: no zero hash for level ${level}`)
  return z.slice()
}
