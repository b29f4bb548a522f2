import { DasContextJs } from '@crate-crypto/node-eth-kzg'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js'
import { type Hex, type Kzg, keccak256 } from 'viem'

/**
 * Batch data in EIP-4844 blobs (docs/protocol.md, "Batch data in blobs"): the layout of the payload in
 * the blobs, the KZG commitments that bind a blob to its versioned hash, and the `dataHash` that
 * `proposeBatchBlobs` stores. Proposer, watchers and attesters all go through here, so the three agree.
 */

export const BYTES_PER_BLOB = 131_072
export const FIELD_ELEMENTS_PER_BLOB = 4_096
/** Each 32-byte field element carries 31 payload bytes after a zero byte, which keeps it below the BLS modulus. */
export const PAYLOAD_BYTES_PER_FIELD_ELEMENT = 31
export const PAYLOAD_BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * PAYLOAD_BYTES_PER_FIELD_ELEMENT
/** `Settlement.MAX_BLOBS_PER_BATCH`. */
export const MAX_BLOBS_PER_BATCH = 6
/** Payload prefix: the data length as a big-endian uint32. */
const LENGTH_BYTES = 4
/** The most batch data one proposal can carry in blobs. */
export const MAX_BLOB_DATA_BYTES = MAX_BLOBS_PER_BATCH * PAYLOAD_BYTES_PER_BLOB - LENGTH_BYTES
/** EIP-4844: the version byte of a KZG versioned hash. */
const VERSIONED_HASH_VERSION_KZG = 0x01

export const BlobCode = {
  /** The data does not fit in `MAX_BLOBS_PER_BATCH` blobs: seal smaller batches. */
  DATA_TOO_LARGE: 'BLOB_DATA_TOO_LARGE',
  /** The blobs are not a canonical encoding of a payload: wrong size or count, a field element not led by a
   * zero byte, a length past the end, or non-zero padding. */
  MALFORMED: 'BLOB_MALFORMED',
  /** A blob does not match the versioned hash the transaction committed to. */
  MISMATCH: 'BLOB_MISMATCH',
} as const
export type BlobCode = (typeof BlobCode)[keyof typeof BlobCode]

export class BlobError extends Error {
  override name = 'BlobError'
  constructor(
    readonly code: BlobCode,
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

/** How many blobs `dataBytes` bytes of batch data take. */
export function blobCountFor(dataBytes: number): number {
  return Math.max(1, Math.ceil((dataBytes + LENGTH_BYTES) / PAYLOAD_BYTES_PER_BLOB))
}

/** Lays `data` out in as few blobs as hold it: length prefix, payload, zero padding, 31 bytes per element. */
export function toBlobs(data: Uint8Array): Uint8Array[] {
  if (data.length > MAX_BLOB_DATA_BYTES) {
    throw new BlobError(
      BlobCode.DATA_TOO_LARGE,
      `${data.length} bytes of batch data; ${MAX_BLOBS_PER_BATCH} blobs hold at most ${MAX_BLOB_DATA_BYTES}`,
    )
  }
  const count = blobCountFor(data.length)
  const payload = new Uint8Array(count * PAYLOAD_BYTES_PER_BLOB)
  new DataView(payload.buffer).setUint32(0, data.length)
  payload.set(data, LENGTH_BYTES)
  const blobs: Uint8Array[] = []
  for (let b = 0; b < count; b++) {
    const blob = new Uint8Array(BYTES_PER_BLOB)
    const base = b * PAYLOAD_BYTES_PER_BLOB
    for (let i = 0; i < FIELD_ELEMENTS_PER_BLOB; i++) {
      const from = base + i * PAYLOAD_BYTES_PER_FIELD_ELEMENT
      blob.set(payload.subarray(from, from + PAYLOAD_BYTES_PER_FIELD_ELEMENT), i * 32 + 1)
    }
    blobs.push(blob)
  }
  return blobs
}

/**
 * The batch data laid out in `blobs`, strictly: exactly the blobs `toBlobs` would make for it, so one
 * payload has one encoding. Throws `BlobError` (BLOB_MALFORMED) otherwise.
 */
export function fromBlobs(blobs: readonly Uint8Array[]): Uint8Array {
  if (blobs.length === 0 || blobs.length > MAX_BLOBS_PER_BATCH) {
    throw new BlobError(BlobCode.MALFORMED, `${blobs.length} blobs; a batch has 1 to ${MAX_BLOBS_PER_BATCH}`)
  }
  const payload = new Uint8Array(blobs.length * PAYLOAD_BYTES_PER_BLOB)
  blobs.forEach((blob, b) => {
    if (blob.length !== BYTES_PER_BLOB) {
      throw new BlobError(BlobCode.MALFORMED, `blob ${b} has ${blob.length} bytes, not ${BYTES_PER_BLOB}`)
    }
    for (let i = 0; i < FIELD_ELEMENTS_PER_BLOB; i++) {
      if (blob[i * 32] !== 0) {
        throw new BlobError(
          BlobCode.MALFORMED,
          `blob ${b} field element ${i} does not start with a zero byte`,
        )
      }
      payload.set(
        blob.subarray(i * 32 + 1, i * 32 + 32),
        b * PAYLOAD_BYTES_PER_BLOB + i * PAYLOAD_BYTES_PER_FIELD_ELEMENT,
      )
    }
  })
  const length = new DataView(payload.buffer).getUint32(0)
  if (length > payload.length - LENGTH_BYTES) {
    throw new BlobError(BlobCode.MALFORMED, `length ${length} runs past the ${blobs.length} blobs`)
  }
  if (blobCountFor(length) !== blobs.length) {
    throw new BlobError(
      BlobCode.MALFORMED,
      `${length} bytes take ${blobCountFor(length)} blobs, not ${blobs.length}`,
    )
  }
  for (let i = LENGTH_BYTES + length; i < payload.length; i++) {
    if (payload[i] !== 0) throw new BlobError(BlobCode.MALFORMED, `non-zero padding at payload byte ${i}`)
  }
  return payload.slice(LENGTH_BYTES, LENGTH_BYTES + length)
}

let context: DasContextJs | undefined
function kzgContext(): DasContextJs {
  // Without the precomputed tables, which only speed up cell proofs (PeerDAS), not blob commitments.
  context ??= DasContextJs.create({ usePrecomp: false })
  return context
}

/**
 * Loads the trusted setup now (about 1.5 s, blocking) rather than at the first blob: a node calls it at
 * start, before it has anything to keep responsive.
 */
export function loadKzg(): void {
  kzgContext()
}

/**
 * KZG over the Ethereum trusted setup (native, from @crate-crypto/node-eth-kzg), in viem's synchronous
 * shape. It blocks the thread (about 40 ms a blob): tests and tools only; the batcher uses `blobSidecarsOf`.
 */
export function blobKzg(): Kzg {
  const ctx = kzgContext()
  return {
    blobToKzgCommitment: (blob) => ctx.blobToKzgCommitment(blob),
    computeBlobKzgProof: (blob, commitment) => ctx.computeBlobKzgProof(blob, commitment),
  }
}

export interface BlobSidecars {
  blobs: Uint8Array[]
  commitments: Uint8Array[]
  proofs: Uint8Array[]
  versionedHashes: Hex[]
}

/** Commitments, proofs and versioned hashes of `blobs`, computed off the main thread. */
export async function blobSidecarsOf(blobs: Uint8Array[]): Promise<BlobSidecars> {
  const ctx = kzgContext()
  const commitments = await Promise.all(blobs.map((blob) => ctx.asyncBlobToKzgCommitment(blob)))
  const proofs = await Promise.all(
    blobs.map((blob, i) => ctx.asyncComputeBlobKzgProof(blob, commitments[i]!)),
  )
  return { blobs, commitments, proofs, versionedHashes: commitments.map(versionedHashOf) }
}

/** EIP-4844: `0x01 ‖ sha256(commitment)[1:]`. */
export function versionedHashOf(commitment: Uint8Array): Hex {
  const hash = sha256(commitment)
  hash[0] = VERSIONED_HASH_VERSION_KZG
  return `0x${bytesToHex(hash)}`
}

/** The versioned hash of each blob, from its KZG commitment (computed off the main thread). */
export async function versionedHashesOf(blobs: readonly Uint8Array[]): Promise<Hex[]> {
  const ctx = kzgContext()
  const commitments = await Promise.all(blobs.map((blob) => ctx.asyncBlobToKzgCommitment(blob)))
  return commitments.map(versionedHashOf)
}

/** What `proposeBatchBlobs` stores as the header's `dataHash`: keccak256 over the versioned hashes in order. */
export function blobsDataHash(versionedHashes: readonly Hex[]): Hex {
  return keccak256(concatBytes(...versionedHashes.map((h) => hexBytes(h))))
}

/** The `dataHash` a blob proposal of `data` gets on chain: computed from the data alone. */
export async function blobDataHashOf(data: Uint8Array): Promise<Hex> {
  return blobsDataHash(await versionedHashesOf(toBlobs(data)))
}

/**
 * The batch data in `blobs`, after checking that each blob is the one its versioned hash commits to: a
 * blob source (an RPC node, a beacon node) is not trusted. Throws `BlobError`: MISMATCH when the blobs
 * are not the committed ones (the source's fault), MALFORMED when they are but hold no canonical payload
 * (the proposer's).
 */
export async function dataFromVerifiedBlobs(
  blobs: readonly Uint8Array[],
  versionedHashes: readonly Hex[],
): Promise<Uint8Array> {
  if (blobs.length !== versionedHashes.length) {
    throw new BlobError(
      BlobCode.MISMATCH,
      `${blobs.length} blobs for ${versionedHashes.length} versioned hashes in the transaction`,
    )
  }
  let computed: Hex[]
  try {
    computed = await versionedHashesOf(blobs)
  } catch (error) {
    // A wrong size, or a field element at or above the modulus: the chain accepted only valid blobs.
    throw new BlobError(BlobCode.MISMATCH, `not a valid blob: ${(error as Error).message}`)
  }
  computed.forEach((hash, i) => {
    if (hash !== versionedHashes[i]!.toLowerCase()) {
      throw new BlobError(
        BlobCode.MISMATCH,
        `blob ${i} commits to ${hash}, but the transaction carries ${versionedHashes[i]}`,
      )
    }
  })
  return fromBlobs(blobs)
}

function hexBytes(hex: Hex): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), 'hex'))
}
