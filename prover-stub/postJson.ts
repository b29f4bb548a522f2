import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface PostJsonOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** Larger answers are cut off with an error. */
  maxResponseBytes?: number
}

export interface JsonResponse {
  status: number
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown
}

/**
 * POSTs `body` as JSON and reads the JSON answer. One connection per call (no keep-alive agent): an
 * attester that restarts never leaves a dead pooled socket behind, and calls are rare.
 */
export function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<JsonResponse> {
  const payload = Buffer.from(JSON.stringify(body))
  const target = new URL(url)
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: options.timeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            req.destroy(new Error(`the answer from ${url} exceeds ${maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () => {
          let parsed: unknown
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            parsed = undefined
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}
