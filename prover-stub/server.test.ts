import { keccak256, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BatchProver, HttpProverClient, type ProveOutcome } from './prover.ts'
import { type ProverServer, startProverServer } from './server.ts'

/**
 * The coordinator's HTTP contract, which the sequencer's batcher codes against with its own client:
 * bodies, statuses and the round trip through HttpProverClient. The prover behind it answers from a
 * fixed table; the real one is exercised end to end in test/prover.anvil.test.ts.
 */

const ROOT = keccak256('0x01')
const PROOF = toHex(new Uint8Array(130).fill(9))
const VALUES = toHex(new Uint8Array(320).fill(3))
const SIGNERS = [
  '0x0000000000000000000000000000000000000001',
  '0x00000000000000000000000000000000000000ff',
] as const

const answers = new Map<bigint, ProveOutcome | Error>([
  [12n, { ok: true, proof: PROOF, publicValues: VALUES, signers: [...SIGNERS] }],
  [
    13n,
    {
      ok: false,
      code: 'WRONG_TRANSITION',
      detail: 'root differs',
      fault: 'STATE_ROOT_MISMATCH',
      correctStateRoot: ROOT,
      correctWithdrawalsRoot: ROOT,
    },
  ],
  [14n, { ok: false, code: 'WRONG_PARENT', detail: 'batch 13 is wrong' }],
  [15n, { ok: false, code: 'NOT_ENOUGH_ATTESTERS', detail: '1 of 2' }],
  [16n, new Error('secret internals')],
  [2n ** 70n, { ok: true, proof: PROOF, publicValues: VALUES }],
])

class FixedProver implements BatchProver {
  asked: bigint[] = []
  async prove(batchIndex: bigint): Promise<ProveOutcome> {
    this.asked.push(batchIndex)
    const answer = answers.get(batchIndex)
    if (answer instanceof Error) throw answer
    return answer ?? { ok: false, code: 'UNKNOWN_BATCH', detail: `no batch ${batchIndex}` }
  }
}

let server: ProverServer
const fixed = new FixedProver()

beforeAll(async () => {
  server = await startProverServer({
    service: { role: 'coordinator', prover: fixed, attesterCount: 3, threshold: 2 },
  })
})
afterAll(() => server.close())

async function post(body: string) {
  const response = await fetch(`${server.url}/prove`, { method: 'POST', body })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('coordinator HTTP API', () => {
  it('binds the loopback interface on a free port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.port).toBeGreaterThan(0)
  })

  it('answers 200 {proof, publicValues, signers} and 409 / 404 / 503 refusals with their fields', async () => {
    expect(await post('{"batchIndex":"12"}')).toEqual({
      status: 200,
      body: { proof: PROOF, publicValues: VALUES, signers: SIGNERS },
    })
    expect(await post('{"batchIndex":"13"}')).toEqual({
      status: 409,
      body: {
        code: 'WRONG_TRANSITION',
        detail: 'root differs',
        fault: 'STATE_ROOT_MISMATCH',
        correctStateRoot: ROOT,
        correctWithdrawalsRoot: ROOT,
      },
    })
    expect(await post('{"batchIndex":"14"}')).toEqual({
      status: 409,
      body: { code: 'WRONG_PARENT', detail: 'batch 13 is wrong' },
    })
    expect((await post('{"batchIndex":"15"}')).status).toBe(503)
    expect(await post('{"batchIndex":"99"}')).toEqual({
      status: 404,
      body: { code: 'UNKNOWN_BATCH', detail: 'no batch 99' },
    })
  })

  it('keeps batch indices beyond 2^53 exact, as decimal strings', async () => {
    expect((await post(`{"batchIndex":"${2n ** 70n}"}`)).status).toBe(200)
    expect(fixed.asked.at(-1)).toBe(2n ** 70n)
  })

  it('answers 400 BAD_REQUEST for a body that is not {"batchIndex":"<decimal>"}', async () => {
    for (const body of [
      '',
      'nope',
      '{}',
      '{"batchIndex":"-1"}',
      '{"batchIndex":"0x0c"}',
      '{"batchIndex":1.5}',
    ]) {
      const answer = await post(body)
      expect(answer.status).toBe(400)
      expect(answer.body.code).toBe('BAD_REQUEST')
      expect(answer.body.detail).toMatch(/batchIndex|JSON/)
    }
    expect((await post(JSON.stringify({ batchIndex: '1', pad: 'x'.repeat(5000) }))).status).toBe(400)
  })

  it('hides internal errors behind a generic 500', async () => {
    expect(await post('{"batchIndex":"16"}')).toEqual({
      status: 500,
      body: { code: 'INTERNAL', detail: 'internal error; see the server log' },
    })
  })

  it('serves /health, 404 elsewhere and 405 for a wrong method', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({
      ok: true,
      role: 'coordinator',
      attesters: 3,
      threshold: 2,
    })
    expect((await fetch(`${server.url}/attest`, { method: 'POST', body: '{}' })).status).toBe(404)
    expect((await fetch(`${server.url}/prove`)).status).toBe(405)
  })

  it('round-trips every outcome through HttpProverClient', async () => {
    const client = new HttpProverClient(server.url)
    expect(await client.prove(12n)).toEqual(answers.get(12n))
    expect(await client.prove(13n)).toEqual(answers.get(13n))
    expect(await client.prove(14n)).toEqual(answers.get(14n))
    expect(await client.prove(99n)).toEqual({ ok: false, code: 'UNKNOWN_BATCH', detail: 'no batch 99' })
    expect(await client.prove(16n)).toMatchObject({ ok: false, code: 'INTERNAL' })
  })

  it('reports PROVER_UNAVAILABLE when nothing listens', async () => {
    const gone = await startProverServer({ service: { role: 'coordinator', prover: fixed } })
    await gone.close()
    expect(await new HttpProverClient(gone.url).prove(12n)).toMatchObject({
      ok: false,
      code: 'PROVER_UNAVAILABLE',
    })
  })
})
