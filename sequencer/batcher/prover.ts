import type { Hex } from 'viem'
import type { BatchHeader } from '../../settlement-contracts/ts/client.ts'

/**
 * What the batcher asks when a batch of ours is challenged: proof bytes that the settlement's
 * `IBatchVerifier` accepts for the header's public values. Today the prover-stub answers with a k-of-n
 * replay attestation; a zero-knowledge prover can sit behind the same interface.
 */
export interface Prover {
  prove(header: BatchHeader): Promise<ProverAnswer>
}

export type ProverAnswer =
  | { ok: true; proof: Hex }
  /** The prover replayed the batch and will not prove it (`WRONG_TRANSITION`, `WRONG_PARENT`, ...), or could not. */
  | { ok: false; code: string; detail: string; refused: boolean }

/**
 * The prover-stub coordinator's HTTP API (prover-stub/README.md): `POST /prove {"batchIndex":"12"}` →
 * 200 `{proof}`; 409 a refusal with the correct roots; 404, 503, 400 otherwise.
 */
export class HttpProver implements Prover {
  readonly #url: string
  readonly #timeoutMs: number

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.#url = url.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 300_000
  }

  async prove(header: BatchHeader): Promise<ProverAnswer> {
    let response: Response
    try {
      response = await fetch(`${this.#url}/prove`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ batchIndex: header.batchIndex.toString() }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      return {
        ok: false,
        code: 'PROVER_UNREACHABLE',
        detail: `${this.#url}: ${String(error)}`,
        refused: false,
      }
    }
    let body: Record<string, unknown>
    try {
      body = (await response.json()) as Record<string, unknown>
    } catch {
      return {
        ok: false,
        code: 'PROVER_BAD_RESPONSE',
        detail: `HTTP ${response.status} without a JSON body`,
        refused: false,
      }
    }
    if (response.ok && typeof body.proof === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(body.proof)) {
      return { ok: true, proof: body.proof as Hex }
    }
    const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`
    const detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body)
    return { ok: false, code, detail, refused: response.status === 409 }
  }
}
