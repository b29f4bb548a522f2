import { type Address, concat, type Hex, keccak256, stringToHex, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAddress, sign } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { attestationDigest } from '../settlement-contracts/ts/attestation.ts'
import { assembleProof, checkAttestation, quorumRefusal } from './collectAttestations.ts'
import { ProverCode, type ProverRefusal, refusal } from './proverCode.ts'

const VKEY = keccak256(stringToHex('sce-engine-v1'))
const DIGEST = attestationDigest(VKEY, toHex(new Uint8Array(320).fill(7)))
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const keys = Array.from({ length: 4 }, () => generatePrivateKey())
const address = (key: Hex) => privateKeyToAddress(key).toLowerCase() as Address

async function signed(key: Hex, digest: Hex = DIGEST) {
  return { signer: address(key), signature: await sign({ hash: digest, privateKey: key, to: 'hex' }) }
}

describe('checkAttestation', () => {
  it('accepts a raw low-s signature by the claimed signer', async () => {
    const { signer, signature } = await signed(keys[0]!)
    expect(checkAttestation(DIGEST, signer, signature)).toEqual({ signer, signature })
  })

  it('refuses a signature over other public values, by another key, high s, bad v or bad length', async () => {
    const { signer, signature } = await signed(keys[0]!)
    const other = await signed(keys[0]!, keccak256(DIGEST))
    expect(checkAttestation(DIGEST, signer, other.signature)).toMatch(/other public values/)
    expect(checkAttestation(DIGEST, address(keys[1]!), signature)).toMatch(/not to the claimed signer/)
    // The malleable twin (n - s, flipped v) recovers to the same key; the verifier refuses it, so must we.
    const bytes = Buffer.from(signature.slice(2), 'hex')
    const s = BigInt(`0x${bytes.subarray(32, 64).toString('hex')}`)
    const twin = concat([
      toHex(bytes.subarray(0, 32)),
      toHex(N - s, { size: 32 }),
      toHex(bytes[64] === 27 ? 28 : 27, { size: 1 }),
    ])
    expect(checkAttestation(DIGEST, signer, twin)).toMatch(/upper half/)
    expect(checkAttestation(DIGEST, signer, concat([signature.slice(0, 130) as Hex, '0x01']))).toMatch(
      /v is 1/,
    )
    expect(checkAttestation(DIGEST, signer, signature.slice(0, 128) as Hex)).toMatch(/not 65/)
  })
})

describe('assembleProof', () => {
  it('takes exactly threshold signatures, one per signer, in ascending signer order', async () => {
    const all = await Promise.all(keys.map((k) => signed(k)))
    const { proof, signers } = assembleProof([all[3]!, all[1]!, all[3]!, all[0]!, all[2]!], 3)
    const ascending = all.map((a) => a.signer).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
    expect(signers).toEqual(ascending.slice(0, 3))
    const bySigner = new Map(all.map((a) => [a.signer, a.signature]))
    expect(proof).toBe(concat(signers.map((s) => bySigner.get(s)!)))
  })

  it('refuses to build a proof below the threshold, duplicates not counting twice', async () => {
    const one = await signed(keys[0]!)
    expect(() => assembleProof([one, one], 2)).toThrow(/1 distinct signers, 2 needed/)
  })
})

describe('quorumRefusal', () => {
  const wrong = (root: Hex): ProverRefusal =>
    refusal(ProverCode.WRONG_TRANSITION, 'batch 3: STATE_ROOT_MISMATCH', {
      correctStateRoot: root,
      correctWithdrawalsRoot: keccak256('0x02'),
    })
  const down = refusal(ProverCode.ATTESTER_UNAVAILABLE, 'connect ECONNREFUSED')

  it('returns the verdict at least threshold attesters agree on, roots included', () => {
    const root = keccak256('0x01')
    const agreed = quorumRefusal([wrong(root), down, wrong(root)], 2, 3)
    expect(agreed).toMatchObject({ code: 'WRONG_TRANSITION', correctStateRoot: root })
    expect(agreed?.detail).toMatch(/^2 of 3 attesters refuse/)
  })

  it('returns null when the verdicts disagree or too few attesters gave one', () => {
    expect(quorumRefusal([wrong(keccak256('0x01')), wrong(keccak256('0x03')), down], 2, 3)).toBeNull()
    expect(quorumRefusal([wrong(keccak256('0x01')), down, down], 2, 3)).toBeNull()
    expect(quorumRefusal([down, down, down], 1, 3)).toBeNull()
  })
})
