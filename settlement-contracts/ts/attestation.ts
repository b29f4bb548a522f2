import { concat, encodePacked, type Hex, keccak256 } from 'viem'
import { privateKeyToAddress, sign } from 'viem/accounts'

/**
 * The proof AttestationVerifier accepts: 65-byte signatures `r ‖ s ‖ v` (v 27 or 28, low s) over
 * `keccak256(abi.encodePacked(vkey, publicValues))`, signed raw with no EIP-191 prefix, concatenated in
 * strictly ascending order of signer address.
 */

/** `keccak256(vkey ‖ publicValues)`: what each attester signs. */
export function attestationDigest(vkey: Hex, publicValues: Hex): Hex {
  return keccak256(encodePacked(['bytes32', 'bytes'], [vkey, publicValues]))
}

/** Signs with every key and orders the signatures by signer address; duplicates are refused. */
export async function signAttestation(
  privateKeys: readonly Hex[],
  vkey: Hex,
  publicValues: Hex,
): Promise<Hex> {
  const hash = attestationDigest(vkey, publicValues)
  const signed = await Promise.all(
    privateKeys.map(async (privateKey) => ({
      // Addresses compare as 160-bit numbers, as the contract compares them.
      signer: BigInt(privateKeyToAddress(privateKey)),
      signature: await sign({ hash, privateKey, to: 'hex' }),
    })),
  )
  signed.sort((a, b) => (a.signer < b.signer ? -1 : a.signer > b.signer ? 1 : 0))
  for (let i = 1; i < signed.length; i++) {
    if (signed[i]!.signer === signed[i - 1]!.signer) throw new Error('signAttestation: the same key twice')
  }
  return concat(signed.map((s) => s.signature))
}
