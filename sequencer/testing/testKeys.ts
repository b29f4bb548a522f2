import secp256k1 from 'secp256k1'
import { type Address, bytesToHex, type Hex } from 'viem'
import { keccak256 } from '../../engine/commitment/keccak256.ts'
import { DEFAULT_NONCE_WINDOW, type EngineConfig } from '../../engine/config.ts'
import type { PriceObservation, UserOp } from '../../engine/ops.ts'
import { observationDigest, userOpDigest } from '../../engine/signing/digest.ts'
import { BTC_PERP, ETH_PERP } from '../../engine/testing/testConfig.ts'
import { type SignedIntent, toSignedIntent } from '../intake/signedIntent.ts'

/**
 * Deterministic secp256k1 keys for tests and benchmarks, signing with native libsecp256k1 over the
 * engine's digests (RFC 6979 and low s, like viem). Tests check these signatures against viem.
 */
export class TestKey {
  readonly privateKey: Uint8Array
  readonly address: Address

  constructor(privateKey: Uint8Array) {
    if (!secp256k1.privateKeyVerify(privateKey)) throw new RangeError('not a valid secp256k1 private key')
    this.privateKey = privateKey
    const pub = secp256k1.publicKeyCreate(privateKey, false)
    this.address = bytesToHex(keccak256(pub.subarray(1)).subarray(12)) as Address
  }

  /** The key for `seed`: keccak256 of its 8-byte big-endian form (re-hashed in the negligible case it is invalid). */
  static fromSeed(seed: number): TestKey {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(seed))
    let key = keccak256(bytes)
    while (!secp256k1.privateKeyVerify(key)) key = keccak256(key)
    return new TestKey(key)
  }

  get privateKeyHex(): Hex {
    return bytesToHex(this.privateKey)
  }

  /** r ‖ s ‖ v with v = 27 + recovery id. */
  signDigest(digest: Uint8Array): Uint8Array {
    const { signature, recid } = secp256k1.ecdsaSign(digest, this.privateKey)
    const out = new Uint8Array(65)
    out.set(signature, 0)
    out[64] = 27 + recid
    return out
  }

  /** Signs `op` (its `signer` field is ignored) as an intent for `domain` (the domain separator). */
  signIntent(op: UserOp, domain: Uint8Array): SignedIntent {
    return toSignedIntent(op, bytesToHex(this.signDigest(userOpDigest(op, domain))))
  }

  signObservation(
    oracleId: number,
    obs: Pick<PriceObservation, 'priceTicks' | 'publishTimeMs'>,
    domain: Uint8Array,
  ): { priceTicks: number; publishTimeMs: number; signature: Hex } {
    const sig = this.signDigest(observationDigest(oracleId, obs, domain))
    return { priceTicks: obs.priceTicks, publishTimeMs: obs.publishTimeMs, signature: bytesToHex(sig) }
  }
}

export const TEST_ORACLE_KEYS: readonly TestKey[] = [1, 2, 3].map((i) => TestKey.fromSeed(0x0a_c1e0 + i))

/** The engine's two test markets, with an oracle set whose keys tests hold. */
export function sequencerTestConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    chainId: 31337n,
    settlementAddress: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    markets: [BTC_PERP, ETH_PERP],
    oracle: { signers: TEST_ORACLE_KEYS.map((k) => k.address), threshold: 2, maxPublishDelayMs: 10_000 },
    nonceWindow: DEFAULT_NONCE_WINDOW,
    maxOpenOrdersPerAccount: 200,
    accountTreeDepth: 20,
    ...overrides,
  }
}
