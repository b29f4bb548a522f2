import type { Address, Hex } from 'viem'
import { z } from 'zod'
import type { AttesterEndpoint, AttestOutcome } from './attester.ts'
import { postJson } from './postJson.ts'
import { ProverCode, refusal } from './proverCode.ts'
import { refusalBodySchema } from './wireSchemas.ts'

const signedSchema = z.object({
  signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
})

export interface HttpAttesterClientOptions {
  /** Replaying a long chain from genesis takes a while; the default is generous. */
  timeoutMs?: number
}

/**
 * An attester process behind `POST /attest`. Transport failures and answers outside the API become an
 * ATTESTER_UNAVAILABLE refusal, never an exception: one attester down must not fail a proof.
 */
export class HttpAttesterClient implements AttesterEndpoint {
  readonly url: string
  readonly #timeoutMs: number

  constructor(url: string, options: HttpAttesterClientOptions = {}) {
    this.url = url.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 120_000
  }

  get name(): string {
    return this.url
  }

  async attest(batchIndex: bigint, options: { signal?: AbortSignal } = {}): Promise<AttestOutcome> {
    let response: Awaited<ReturnType<typeof postJson>>
    try {
      response = await postJson(
        `${this.url}/attest`,
        { batchIndex: batchIndex.toString() },
        { timeoutMs: this.#timeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) },
      )
    } catch (error) {
      return refusal(ProverCode.ATTESTER_UNAVAILABLE, `attester ${this.url}: ${(error as Error).message}`)
    }
    if (response.status === 200) {
      const signed = signedSchema.safeParse(response.body)
      if (signed.success) {
        return {
          ok: true,
          signer: signed.data.signer.toLowerCase() as Address,
          signature: signed.data.signature.toLowerCase() as Hex,
        }
      }
    } else {
      const refused = refusalBodySchema.safeParse(response.body)
      if (refused.success) return refused.data
    }
    return refusal(
      ProverCode.ATTESTER_UNAVAILABLE,
      `attester ${this.url} answered ${response.status} with a body outside the API`,
    )
  }
}
