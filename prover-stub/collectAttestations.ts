import { type Address, concat, type Hex, hexToBytes } from 'viem'
import { recoverAddress } from '../engine/signing/recoverAddress.ts'
import { isVerdict, type ProverRefusal } from './proverCode.ts'

/** secp256k1 n / 2: AttestationVerifier refuses a larger s (the malleable twin of a valid signature). */
const HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

export interface SignedAttestation {
  /** Lowercase. */
  signer: Address
  signature: Hex
}

/**
 * Checks one attester's signature over `digest` the way AttestationVerifier will: 65 bytes, v 27 or 28,
 * low s, and it must recover to the signer the attester claims. Whether that signer is in the set is
 * the caller's check. Returns the reason when it does not count.
 */
export function checkAttestation(
  digest: Hex,
  claimedSigner: Address,
  signature: Hex,
): SignedAttestation | string {
  const bytes = hexToBytes(signature)
  if (bytes.length !== 65) return `the signature is ${bytes.length} bytes, not 65`
  const v = bytes[64]!
  if (v !== 27 && v !== 28) return `v is ${v}, not 27 or 28`
  const s = BigInt(`0x${Buffer.from(bytes.subarray(32, 64)).toString('hex')}`)
  if (s > HALF_CURVE_ORDER) return 's is in the upper half of the curve order'
  const recovered = recoverAddress(hexToBytes(digest), bytes)
  if (recovered === null) return 'the signature recovers to no key'
  if (recovered !== claimedSigner.toLowerCase()) {
    return `the signature recovers to ${recovered}, not to the claimed signer ${claimedSigner}: it covers other public values`
  }
  return { signer: recovered, signature: signature.toLowerCase() as Hex }
}

/**
 * AttestationVerifier's proof from `threshold` valid signatures: one per signer, concatenated in strictly
 * ascending signer order (addresses compared as uint160), the lowest addresses first. Exactly `threshold`
 * of them: each extra one costs an ecrecover on chain and proves nothing more.
 */
export function assembleProof(
  attestations: readonly SignedAttestation[],
  threshold: number,
): { proof: Hex; signers: Address[] } {
  const bySigner = new Map<bigint, SignedAttestation>()
  for (const a of attestations) bySigner.set(BigInt(a.signer), a)
  if (bySigner.size < threshold) {
    throw new Error(`assembleProof: ${bySigner.size} distinct signers, ${threshold} needed`)
  }
  const chosen = [...bySigner.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, threshold)
    .map(([, a]) => a)
  return { proof: concat(chosen.map((a) => a.signature)), signers: chosen.map((a) => a.signer) }
}

/**
 * The refusal a quorum agrees on: the most common verdict (same code and same correct roots), when at
 * least `threshold` attesters gave it. A proposer told WRONG_TRANSITION should halt, so one attester's
 * word is not enough; below the quorum the answer is "not enough attesters".
 */
export function quorumRefusal(
  refusals: readonly ProverRefusal[],
  threshold: number,
  attesterCount: number,
): ProverRefusal | null {
  const groups = new Map<string, ProverRefusal[]>()
  for (const r of refusals) {
    if (!isVerdict(r.code)) continue
    const key = `${r.code}|${r.correctStateRoot ?? ''}|${r.correctWithdrawalsRoot ?? ''}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [r])
    else group.push(r)
  }
  let largest: ProverRefusal[] = []
  for (const group of groups.values()) if (group.length > largest.length) largest = group
  const first = largest[0]
  if (first === undefined || largest.length < threshold) return null
  return { ...first, detail: `${largest.length} of ${attesterCount} attesters refuse: ${first.detail}` }
}
