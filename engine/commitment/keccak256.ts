import {
  ACCOUNT_RECORD_HEADER_BYTES,
  INPUT,
  INPUT_BYTES,
  instantiateKeccakWasm,
  OUTPUT,
  OUTPUT_BYTES,
  RATE_BYTES,
} from './keccakWasm.ts'

// Our own keccak-f in WebAssembly: a 1M-account root needs about 5M permutations in under 2 s. Pure-JS
// @noble/hashes does about 0.25M hashes/s, and hash-wasm's per-call wrapper costs nearly as much as its
// permutation; this module hashes whole Merkle levels per call.
const wasm = instantiateKeccakWasm()
const mem = wasm.memory
const CHUNK_BYTES = Math.floor(INPUT_BYTES / RATE_BYTES) * RATE_BYTES // floor: whole blocks only
const PAIRS_PER_CALL = Math.min(INPUT_BYTES / 64, OUTPUT_BYTES / 32)

/** Most bytes of account leaf records one `keccak256AccountLeaves` call takes. */
export const MAX_ACCOUNT_RECORDS_BYTES = INPUT_BYTES
/** Most account leaf records one `keccak256AccountLeaves` call takes. */
export const MAX_ACCOUNT_RECORDS = OUTPUT_BYTES / 32

/** The engine's one keccak256. Every hash in the protocol goes through here, so the implementation can change in one place. */
export function keccak256(data: Uint8Array): Uint8Array {
  const length = data.length
  if (length < CHUNK_BYTES) {
    // floor, plus one: the padding starts a block of its own when the message fills one exactly.
    const blocks = Math.floor(length / RATE_BYTES) + 1
    const end = INPUT + blocks * RATE_BYTES
    mem.set(data, INPUT)
    mem.fill(0, INPUT + length, end)
    mem[INPUT + length] = 0x01
    mem[end - 1]! |= 0x80
    wasm.hashBlocks(INPUT, blocks, OUTPUT)
    return mem.slice(OUTPUT, OUTPUT + 32)
  }
  mem.fill(0, 0, 200)
  let offset = 0
  while (length - offset >= CHUNK_BYTES) {
    mem.set(data.subarray(offset, offset + CHUNK_BYTES), INPUT)
    wasm.absorb(INPUT, CHUNK_BYTES / RATE_BYTES)
    offset += CHUNK_BYTES
  }
  const rest = length - offset
  // floor, plus one, as above.
  const blocks = Math.floor(rest / RATE_BYTES) + 1
  mem.set(data.subarray(offset), INPUT)
  mem.fill(0, INPUT + rest, INPUT + blocks * RATE_BYTES)
  mem[INPUT + rest] = 0x01
  mem[INPUT + blocks * RATE_BYTES - 1]! |= 0x80
  wasm.absorb(INPUT, blocks)
  return mem.slice(0, 32)
}

/** keccak256(keccak256(data)): the double hash of protocol leaves, without a round trip of the inner digest. */
export function keccak256Twice(data: Uint8Array): Uint8Array {
  if (data.length === 96) {
    mem.set(data, INPUT)
    wasm.hash96(INPUT, 1, OUTPUT)
  } else {
    mem.set(keccak256(data), OUTPUT)
  }
  wasm.hash32(OUTPUT, 1, OUTPUT + 32)
  return mem.slice(OUTPUT + 32, OUTPUT + 64)
}

/** keccak256(left ‖ right) without building the concatenation. */
export function keccak256Pair(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) {
    const both = new Uint8Array(left.length + right.length)
    both.set(left)
    both.set(right, left.length)
    return keccak256(both)
  }
  mem.set(left, INPUT)
  mem.set(right, INPUT + 32)
  wasm.hash64(INPUT, 1, OUTPUT)
  return mem.slice(OUTPUT, OUTPUT + 32)
}

/**
 * Hashes `count` consecutive 64-byte messages of `src`, starting at byte `srcOffset`, and writes the
 * 32-byte digests consecutively into `dst` from byte `dstOffset`. One Merkle level in one call.
 */
export function keccak256PairsInto(
  src: Uint8Array,
  srcOffset: number,
  count: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  if (
    srcOffset < 0 ||
    srcOffset + 64 * count > src.length ||
    dstOffset < 0 ||
    dstOffset + 32 * count > dst.length
  ) {
    throw new RangeError('keccak256PairsInto: range outside the buffers')
  }
  for (let done = 0; done < count; ) {
    const n = Math.min(count - done, PAIRS_PER_CALL)
    const s = srcOffset + 64 * done
    mem.set(src.subarray(s, s + 64 * n), INPUT)
    // Two messages per SIMD pass; an odd last one alone. floor: whole pairs.
    const pairs = Math.floor(n / 2)
    wasm.hash64x2(INPUT, pairs, OUTPUT)
    if (n % 2 === 1) wasm.hash64(INPUT + 128 * pairs, 1, OUTPUT + 64 * pairs)
    dst.set(mem.subarray(OUTPUT, OUTPUT + 32 * n), dstOffset + 32 * done)
    done += n
  }
}

/**
 * Account leaves of `count` records laid out back to back in `records[0, byteLength)`, each
 * `[u32 LE blocks][u32 LE data length][address word][equity word][data padded to blocks × 136 bytes]`.
 * Leaf k goes to `leaves[32k, 32k + 32)`. Record k's leaf is keccak256(keccak256(address word ‖ equity
 * word ‖ keccak256(data))): the account leaf, in one call for the whole batch.
 */
export function keccak256AccountLeaves(
  records: Uint8Array,
  byteLength: number,
  count: number,
  leaves: Uint8Array,
): void {
  if (byteLength > MAX_ACCOUNT_RECORDS_BYTES || count > MAX_ACCOUNT_RECORDS || 32 * count > leaves.length) {
    throw new RangeError('keccak256AccountLeaves: batch larger than one call takes')
  }
  // The module trusts each record's block count, so check that the records tile the bytes exactly.
  let at = 0
  let last = 0
  for (let k = 0; k < count; k++) {
    const blocks =
      records[at]! | (records[at + 1]! << 8) | (records[at + 2]! << 16) | (records[at + 3]! << 24)
    if (blocks < 1) throw new RangeError(`keccak256AccountLeaves: record ${k} has no data block`)
    last = at
    at += ACCOUNT_RECORD_HEADER_BYTES + blocks * RATE_BYTES
    if (at > byteLength) throw new RangeError(`keccak256AccountLeaves: record ${k} runs past byteLength`)
  }
  if (at !== byteLength) throw new RangeError('keccak256AccountLeaves: records do not fill byteLength')
  mem.set(records.subarray(0, byteLength), INPUT)
  // Two records per SIMD pass; an odd last one alone. floor: whole pairs.
  const pairs = Math.floor(count / 2)
  wasm.accountLeavesX2(INPUT, pairs, OUTPUT)
  if (count % 2 === 1) wasm.accountLeaves(INPUT + last, 1, OUTPUT + 64 * pairs)
  leaves.set(mem.subarray(OUTPUT, OUTPUT + 32 * count))
}
