import fc from 'fast-check'
import { keccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  BlobCode,
  BlobError,
  blobCountFor,
  blobDataHashOf,
  blobKzg,
  blobSidecarsOf,
  blobsDataHash,
  dataFromVerifiedBlobs,
  fromBlobs,
  MAX_BLOB_DATA_BYTES,
  MAX_BLOBS_PER_BATCH,
  PAYLOAD_BYTES_PER_BLOB,
  toBlobs,
  versionedHashesOf,
} from './blobs.ts'

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (error) {
    if (error instanceof BlobError) return error.code
    throw error
  }
  return undefined
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 255)

describe('batch data in blobs', () => {
  it('round-trips any payload, in as few blobs as hold it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3_000 }), (data) => {
        const blobs = toBlobs(data)
        expect(blobs).toHaveLength(1)
        expect(fromBlobs(blobs)).toEqual(data)
      }),
      { numRuns: 50 },
    )
    for (const n of [0, PAYLOAD_BYTES_PER_BLOB - 4, PAYLOAD_BYTES_PER_BLOB - 3, 2 * PAYLOAD_BYTES_PER_BLOB]) {
      const data = bytes(n)
      const blobs = toBlobs(data)
      expect(blobs).toHaveLength(blobCountFor(n))
      expect(fromBlobs(blobs)).toEqual(data)
    }
    expect(blobCountFor(PAYLOAD_BYTES_PER_BLOB - 4)).toBe(1)
    expect(blobCountFor(PAYLOAD_BYTES_PER_BLOB - 3)).toBe(2)
  })

  it('keeps the first byte of every field element zero, so each is below the BLS modulus', () => {
    const [blob] = toBlobs(new Uint8Array(PAYLOAD_BYTES_PER_BLOB - 4).fill(0xff))
    for (let i = 0; i < 4096; i++) expect(blob![i * 32]).toBe(0)
    expect(blob![1]).toBe(0) // length prefix, big-endian: 0x0001effc
    expect(blob![2]).toBe(0x01)
  })

  it('refuses data that does not fit in the blobs of one proposal', () => {
    expect(MAX_BLOB_DATA_BYTES).toBe(MAX_BLOBS_PER_BATCH * PAYLOAD_BYTES_PER_BLOB - 4)
    expect(codeOf(() => toBlobs(new Uint8Array(MAX_BLOB_DATA_BYTES + 1)))).toBe(BlobCode.DATA_TOO_LARGE)
    expect(toBlobs(new Uint8Array(MAX_BLOB_DATA_BYTES))).toHaveLength(MAX_BLOBS_PER_BATCH)
  })

  it('decodes strictly: one payload has one encoding', () => {
    const data = bytes(1_000)
    const good = () => toBlobs(data).map((b) => b.slice())
    const cases: [string, (blobs: Uint8Array[]) => Uint8Array[]][] = [
      ['no blobs', () => []],
      ['a short blob', (b) => [b[0]!.subarray(0, 1_000)]],
      [
        'a field element not led by zero',
        (b) => {
          b[0]![32 * 7] = 1
          return b
        },
      ],
      [
        'non-zero padding',
        (b) => {
          b[0]![32 * 100 + 5] = 9
          return b
        },
      ],
      [
        'a length past the end',
        (b) => {
          b[0]![1] = 0xff
          return b
        },
      ],
      ['an extra empty blob', (b) => [...b, new Uint8Array(131_072)]],
    ]
    for (const [name, spoil] of cases) {
      expect(
        codeOf(() => fromBlobs(spoil(good()))),
        name,
      ).toBe(BlobCode.MALFORMED)
    }
    expect(fromBlobs(good())).toEqual(data)
  })

  it('binds data to versioned hashes through KZG commitments, and checks a source against them', async () => {
    const data = bytes(200_000, 7)
    const blobs = toBlobs(data)
    const hashes = await versionedHashesOf(blobs)
    expect(hashes).toHaveLength(2)
    for (const h of hashes) expect(h).toMatch(/^0x01[0-9a-f]{62}$/)
    expect(await blobDataHashOf(data)).toBe(keccak256(`0x${hashes.map((h) => h.slice(2)).join('')}`))
    expect(blobsDataHash(hashes)).toBe(await blobDataHashOf(data))
    expect(await dataFromVerifiedBlobs(blobs, hashes)).toEqual(data)
    // The synchronous viem-shaped KZG agrees with the asynchronous path.
    const sidecars = await blobSidecarsOf(blobs)
    expect(sidecars.versionedHashes).toEqual(hashes)
    expect(sidecars.commitments[0]).toEqual(blobKzg().blobToKzgCommitment(blobs[0]!))
    expect(sidecars.proofs[1]).toEqual(blobKzg().computeBlobKzgProof(blobs[1]!, sidecars.commitments[1]!))

    // Another blob than the committed one, however well formed, is the source's fault.
    const mismatch = (b: Uint8Array[]) =>
      dataFromVerifiedBlobs(b, hashes).then(
        () => undefined,
        (e: unknown) => (e instanceof BlobError ? e.code : String(e)),
      )
    expect(await mismatch(toBlobs(bytes(200_000, 8)))).toBe(BlobCode.MISMATCH)
    expect(await mismatch(blobs.slice(0, 1))).toBe(BlobCode.MISMATCH)
    // A field element at or above the modulus is no blob at all.
    const invalid = blobs.map((b) => b.slice())
    invalid[1]!.fill(0xff, 0, 32)
    expect(await mismatch(invalid)).toBe(BlobCode.MISMATCH)
  })
})
