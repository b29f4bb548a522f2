import type { Logger } from 'pino'
import { type Address, BaseError, getContract, type Hex } from 'viem'
import { z } from 'zod'
import { attestationDigest } from '../settlement-contracts/ts/attestation.ts'
import type { SettlementClient } from '../settlement-contracts/ts/client.ts'
import { attestationVerifierAbi } from '../settlement-contracts/ts/generated/abis.ts'
import type { AttesterEndpoint } from './attester.ts'
import {
  assembleProof,
  checkAttestation,
  quorumRefusal,
  type SignedAttestation,
} from './collectAttestations.ts'
import { postJson } from './postJson.ts'
import { isVerdict, ProverCode, type ProverRefusal, refusal } from './proverCode.ts'
import { readLiveBatch } from './readLiveBatch.ts'
import { anyRefusalBodySchema } from './wireSchemas.ts'

/** A proof for `Settlement.prove(header, proof)`, and the public values it is for. */
export interface ProvedBatch {
  ok: true
  /** The verifier's proof bytes; their format is the verifier's own. */
  proof: Hex
  /** What the contract's `publicValuesOf(header)` returns for the batch. */
  publicValues: Hex
  /** Attestation provers only: who signed, in proof order. */
  signers?: Address[]
}

/** No proof: the batch is wrong (WRONG_TRANSITION, WRONG_PARENT), unknown, or the prover cannot answer now. */
export interface ProveRefusal {
  ok: false
  code: string
  detail: string
  fault?: string
  correctStateRoot?: Hex
  correctWithdrawalsRoot?: Hex
}

export type ProveOutcome = ProvedBatch | ProveRefusal

/**
 * What the batcher needs from a proof system: the proof that makes `IBatchVerifier.verify(VKEY,
 * publicValuesOf(header), proof)` pass for the live batch `batchIndex`, or why there is none. A
 * zero-knowledge prover implements the same interface behind the same HTTP API; the contracts and the
 * sequencer do not change.
 */
export interface BatchProver {
  prove(batchIndex: bigint): Promise<ProveOutcome>
}

export interface AttestationProverOptions {
  /** Reads L1 only. */
  client: SettlementClient
  /** In-process Attesters or HttpAttesterClients; asked all at once. */
  attesters: readonly AttesterEndpoint[]
  /** Signatures per proof; the verifier's THRESHOLD when absent. */
  threshold?: number
  /** The signers that count; the verifier's `isAttester` decides when absent. */
  attesterAddresses?: readonly Address[]
  /** Where event scans start: the settlement's deployment block. */
  fromBlock?: bigint
  logger?: Logger
}

/**
 * AttestationVerifier's prover: asks every attester for batch k, keeps the signatures that recover to an
 * attester over the public values the contract builds for k, and as soon as `threshold` of them are in,
 * answers with the proof (signatures in ascending signer order). It never signs anything itself; a wrong
 * batch gets the refusal a quorum of attesters agrees on, with the correct roots.
 */
export class AttestationProver implements BatchProver {
  readonly client: SettlementClient
  readonly attesters: readonly AttesterEndpoint[]
  readonly #threshold: number | undefined
  readonly #allowed: Set<Address> | null
  readonly #fromBlock: bigint
  readonly #logger: Logger | undefined
  readonly #isAttesterCache = new Map<Address, boolean>()
  #verifier: Promise<{ vkey: Hex; threshold: number; address: Address }> | null = null

  constructor(options: AttestationProverOptions) {
    this.client = options.client
    this.attesters = options.attesters
    this.#threshold = options.threshold
    this.#allowed =
      options.attesterAddresses === undefined
        ? null
        : new Set(options.attesterAddresses.map((a) => a.toLowerCase() as Address))
    this.#fromBlock = options.fromBlock ?? 0n
    this.#logger = options.logger
  }

  /** The signatures needed per proof. */
  async threshold(): Promise<number> {
    return (await this.#readVerifier()).threshold
  }

  async prove(batchIndex: bigint): Promise<ProveOutcome> {
    let publicValues: Hex
    let digest: Hex
    let threshold: number
    try {
      const live = await readLiveBatch(this.client, batchIndex, { fromBlock: this.#fromBlock })
      if (live === null) {
        return refusal(
          ProverCode.UNKNOWN_BATCH,
          `there is no live batch ${batchIndex}: never proposed, or reverted`,
        )
      }
      const [values, verifier] = await Promise.all([
        this.client.publicValuesOf(live.header),
        this.#readVerifier(),
      ])
      publicValues = values
      digest = attestationDigest(verifier.vkey, values)
      threshold = verifier.threshold
    } catch (error) {
      if (!(error instanceof BaseError)) throw error
      return refusal(ProverCode.L1_UNAVAILABLE, `the L1 RPC failed (${error.shortMessage}): ask again later`)
    }

    const signed = new Map<Address, SignedAttestation>()
    const refusals: ProverRefusal[] = []
    const problems: string[] = []
    const controller = new AbortController()
    await new Promise<void>((resolve) => {
      let pending = this.attesters.length
      if (pending === 0) resolve()
      for (const endpoint of this.attesters) {
        endpoint
          .attest(batchIndex, { signal: controller.signal })
          .then(async (answer) => {
            if (!answer.ok) {
              refusals.push(answer)
              if (!isVerdict(answer.code)) problems.push(`${endpoint.name}: ${answer.code}: ${answer.detail}`)
              return
            }
            const checked = checkAttestation(digest, answer.signer, answer.signature)
            if (typeof checked === 'string') problems.push(`${endpoint.name}: ${checked}`)
            else if (!(await this.#isAttester(checked.signer)))
              problems.push(`${endpoint.name}: ${checked.signer} is not in the verifier's attester set`)
            else signed.set(checked.signer, checked)
          })
          .catch((error: unknown) => {
            problems.push(`${endpoint.name}: ${(error as Error).message}`)
          })
          .finally(() => {
            pending--
            if (pending === 0 || signed.size >= threshold) resolve()
          })
      }
    })
    // Stragglers are not needed any more.
    controller.abort()

    const verdicts = refusals.filter((r) => isVerdict(r.code))
    if (signed.size >= threshold) {
      if (verdicts.length > 0) {
        this.#logger?.warn(
          { batchIndex: batchIndex.toString(), refusals: verdicts.map((r) => r.detail) },
          'attesters disagree: a quorum signed while others refused',
        )
      }
      const { proof, signers } = assembleProof([...signed.values()], threshold)
      return { ok: true, proof, publicValues, signers }
    }
    const agreed = quorumRefusal(refusals, threshold, this.attesters.length)
    if (agreed !== null) return agreed
    const said = [
      ...problems,
      ...verdicts.map((r) => `${r.code}: ${r.detail}`),
      ...(signed.size > 0 ? [`${signed.size} signed`] : []),
    ]
    return refusal(
      ProverCode.NOT_ENOUGH_ATTESTERS,
      `${signed.size} valid signatures of ${threshold} needed from ${this.attesters.length} attesters; ` +
        `start the attesters that are down or check them, then ask again (${said.join('; ')})`,
    )
  }

  #readVerifier(): Promise<{ vkey: Hex; threshold: number; address: Address }> {
    if (this.#verifier === null) {
      const read = (async () => {
        const [vkey, address] = await Promise.all([
          this.client.settlement.read.VKEY(),
          this.client.settlement.read.VERIFIER(),
        ])
        const threshold =
          this.#threshold ??
          Number(
            await getContract({
              address,
              abi: attestationVerifierAbi,
              client: this.client.client,
            }).read.THRESHOLD(),
          )
        return { vkey, threshold, address }
      })()
      this.#verifier = read
      read.catch(() => {
        if (this.#verifier === read) this.#verifier = null
      })
    }
    return this.#verifier
  }

  async #isAttester(signer: Address): Promise<boolean> {
    if (this.#allowed !== null) return this.#allowed.has(signer)
    const cached = this.#isAttesterCache.get(signer)
    if (cached !== undefined) return cached
    const { address } = await this.#readVerifier()
    const verifier = getContract({ address, abi: attestationVerifierAbi, client: this.client.client })
    const is = await verifier.read.isAttester([signer])
    this.#isAttesterCache.set(signer, is)
    return is
  }
}

const provedBodySchema = z.object({
  proof: z.string().regex(/^0x([0-9a-fA-F]{2})+$/),
  publicValues: z.string().regex(/^0x([0-9a-fA-F]{2})*$/),
  signers: z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/)).optional(),
})

export interface HttpProverClientOptions {
  /** A proof may need a replay from genesis on every attester; the default is generous. */
  timeoutMs?: number
}

/**
 * A coordinator behind `POST /prove`. Transport failures come back as PROVER_UNAVAILABLE; an answer
 * outside the API too.
 */
export class HttpProverClient implements BatchProver {
  readonly url: string
  readonly #timeoutMs: number

  constructor(url: string, options: HttpProverClientOptions = {}) {
    this.url = url.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 300_000
  }

  async prove(batchIndex: bigint): Promise<ProveOutcome> {
    let response: Awaited<ReturnType<typeof postJson>>
    try {
      response = await postJson(
        `${this.url}/prove`,
        { batchIndex: batchIndex.toString() },
        { timeoutMs: this.#timeoutMs },
      )
    } catch (error) {
      return refusal(
        ProverCode.PROVER_UNAVAILABLE,
        `the prover at ${this.url} cannot be reached (${(error as Error).message}): start it or check the URL`,
      )
    }
    if (response.status === 200) {
      const proved = provedBodySchema.safeParse(response.body)
      if (proved.success) {
        const { proof, publicValues, signers } = proved.data
        return {
          ok: true,
          proof: proof.toLowerCase() as Hex,
          publicValues: publicValues.toLowerCase() as Hex,
          ...(signers === undefined ? {} : { signers: signers.map((s) => s.toLowerCase() as Address) }),
        }
      }
    } else {
      const refused = anyRefusalBodySchema.safeParse(response.body)
      if (refused.success) return refused.data
    }
    return refusal(
      ProverCode.PROVER_UNAVAILABLE,
      `the prover at ${this.url} answered ${response.status} with a body outside the API`,
    )
  }
}
