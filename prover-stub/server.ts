import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Logger, pino } from 'pino'
import type { Attester } from './attester.ts'
import type { BatchProver } from './prover.ts'
import { httpStatusOf, ProverCode } from './proverCode.ts'
import { batchIndexBodySchema, refusalBody } from './wireSchemas.ts'

/** What one process serves: an attester (`POST /attest`) or a coordinator (`POST /prove`). */
export type ProverService =
  | { role: 'attester'; attester: Attester }
  | { role: 'coordinator'; prover: BatchProver; attesterCount?: number; threshold?: number }

export interface StartProverServerOptions {
  service: ProverService
  /** 127.0.0.1 unless given: a prover has no business on a public interface by default. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  logger?: Logger
}

export interface ProverServer {
  url: string
  port: number
  /** Stops accepting, lets requests in flight finish, then closes every connection. */
  close(): Promise<void>
}

const MAX_BODY_BYTES = 4096

class BadRequest extends Error {}

/**
 * The HTTP API of prover-stub/README.md ("HTTP API"). JSON in and out, bigints as decimal strings.
 * Every request is logged once, with its verdict.
 */
export async function startProverServer(options: StartProverServerOptions): Promise<ProverServer> {
  const { service } = options
  const log = options.logger ?? pino({ level: 'silent' })
  const route = service.role === 'attester' ? '/attest' : '/prove'

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now()
    const path = (req.url ?? '/').split('?')[0]
    let status = 500
    let fields: Record<string, unknown> = {}
    const send = (code: number, body: unknown): void => {
      status = code
      const json = JSON.stringify(body)
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
      res.end(json)
    }
    try {
      if (path === '/health' && req.method === 'GET') {
        send(200, health(service))
      } else if (path === route && req.method === 'POST') {
        const parsed = batchIndexBodySchema.safeParse(await readJson(req))
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          throw new BadRequest(
            `send {"batchIndex":"<decimal>"}: ${issue?.path.join('.') || 'body'} ${issue?.message ?? ''}`.trim(),
          )
        }
        const batchIndex = parsed.data
        fields = { batchIndex: batchIndex.toString() }
        if (service.role === 'attester') {
          const outcome = await service.attester.attest(batchIndex)
          if (outcome.ok) {
            fields.verdict = 'signed'
            send(200, { signer: outcome.signer, signature: outcome.signature })
          } else {
            fields = { ...fields, verdict: outcome.code, detail: outcome.detail }
            send(httpStatusOf(outcome.code), refusalBody(outcome))
          }
        } else {
          const outcome = await service.prover.prove(batchIndex)
          if (outcome.ok) {
            fields = { ...fields, verdict: 'proved', signers: outcome.signers }
            send(200, {
              proof: outcome.proof,
              publicValues: outcome.publicValues,
              signers: outcome.signers ?? [],
            })
          } else {
            fields = { ...fields, verdict: outcome.code, detail: outcome.detail }
            send(httpStatusOf(outcome.code), refusalBody(outcome))
          }
        }
      } else if (path === route || path === '/health') {
        res.setHeader('allow', path === route ? 'POST' : 'GET')
        send(405, { code: 'METHOD_NOT_ALLOWED', detail: `use ${path === route ? 'POST' : 'GET'} ${path}` })
      } else {
        send(404, {
          code: 'NOT_FOUND',
          detail: `no route ${path}: this ${service.role} serves ${route} and /health`,
        })
      }
    } catch (error) {
      if (error instanceof BadRequest) {
        fields.verdict = ProverCode.BAD_REQUEST
        send(400, { code: ProverCode.BAD_REQUEST, detail: error.message })
      } else {
        log.error({ err: error, path }, 'request failed')
        fields.verdict = ProverCode.INTERNAL
        if (!res.headersSent)
          send(500, { code: ProverCode.INTERNAL, detail: 'internal error; see the server log' })
        else res.destroy()
      }
    } finally {
      if (path !== '/health') {
        log.info(
          { method: req.method, path, status, ms: Math.round(performance.now() - started), ...fields },
          `${service.role} request`,
        )
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res))
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

function health(service: ProverService): Record<string, unknown> {
  if (service.role === 'attester') return { ok: true, role: 'attester', signer: service.attester.address }
  return {
    ok: true,
    role: 'coordinator',
    ...(service.attesterCount === undefined ? {} : { attesters: service.attesterCount }),
    ...(service.threshold === undefined ? {} : { threshold: service.threshold }),
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the body exceeds ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new BadRequest('the body is not JSON: send {"batchIndex":"<decimal>"}')
  }
}
