import { type Address, BaseError, type Hex } from 'viem'
import { privateKeyToAddress, sign } from 'viem/accounts'
import { attestationDigest } from '../settlement-contracts/ts/attestation.ts'
import type { ChainReplayer } from './chainReplayer.ts'
import { ProverCode, type ProverRefusal, refusal } from './proverCode.ts'

/** One attester's answer: a signature for AttestationVerifier, or why it will not sign. */
export type AttestOutcome = { ok: true; signer: Address; signature: Hex } | ProverRefusal

/** An attester as the coordinator sees it: in this process, or behind `POST /attest`. */
export interface AttesterEndpoint {
  /** For logs and error details: the attester's address or URL. */
  readonly name: string
  attest(batchIndex: bigint, options?: { signal?: AbortSignal }): Promise<AttestOutcome>
}

export interface AttesterOptions {
  replayer: ChainReplayer
  /** The attester key; it signs attestations and nothing else, and is never logged. */
  privateKey: Hex
  /** The verifier program key; read from the settlement's VKEY when absent. */
  vkey?: Hex
}

/** A signed attestation, with what it covers. */
export interface Attestation {
  ok: true
  signer: Address
  /** 65 bytes r ‖ s ‖ v, v 27 or 28, low s, over `keccak256(vkey ‖ publicValues)` with no prefix. */
  signature: Hex
  batchIndex: bigint
  batchHash: Hex
  publicValues: Hex
}

/**
 * One replay attester of AttestationVerifier's k-of-n set. It signs batch k's public values only when
 * its own replay of the live chain up to k matched every header; for a wrong batch it returns the
 * refusal, with the correct roots when replay reached them.
 */
export class Attester implements AttesterEndpoint {
  readonly address: Address
  readonly replayer: ChainReplayer
  readonly #privateKey: Hex
  #vkey: Promise<Hex> | null

  constructor(options: AttesterOptions) {
    this.replayer = options.replayer
    this.#privateKey = options.privateKey
    this.address = privateKeyToAddress(options.privateKey).toLowerCase() as Address
    this.#vkey = options.vkey === undefined ? null : Promise.resolve(options.vkey)
  }

  get name(): string {
    return this.address
  }

  async attest(batchIndex: bigint): Promise<Attestation | ProverRefusal> {
    const replayed = await this.replayer.replayTo(batchIndex)
    if (!replayed.ok) return replayed
    let vkey: Hex
    try {
      vkey = await this.#readVkey()
    } catch (error) {
      if (!(error instanceof BaseError)) throw error
      return refusal(ProverCode.L1_UNAVAILABLE, `cannot read VKEY from the settlement: ${error.shortMessage}`)
    }
    // INVARIANT: the only path to a signature: our own replay of this header, and every ancestor, matched.
    const signature = await sign({
      hash: attestationDigest(vkey, replayed.publicValues),
      privateKey: this.#privateKey,
      to: 'hex',
    })
    return {
      ok: true,
      signer: this.address,
      signature,
      batchIndex,
      batchHash: replayed.batchHash,
      publicValues: replayed.publicValues,
    }
  }

  #readVkey(): Promise<Hex> {
    if (this.#vkey === null) {
      const read = this.replayer.client.settlement.read.VKEY()
      this.#vkey = read
      // A failed read is retried on the next request.
      read.catch(() => {
        if (this.#vkey === read) this.#vkey = null
      })
    }
    return this.#vkey
  }
}
