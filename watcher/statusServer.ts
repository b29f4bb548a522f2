import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { WatcherStatus } from './watcher.ts'

export interface StatusServer {
  /** The port bound (the OS picks one for port 0). */
  port: number
  close(): Promise<void>
}

/**
 * `GET /status` (the watcher's status as JSON) and `GET /metrics` (Prometheus text) on 127.0.0.1 only:
 * they are for the operator's own monitoring, not for the internet.
 */
export function startStatusServer(
  watcher: { status(): WatcherStatus },
  registry: Registry,
  port: number,
): Promise<StatusServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }
    if (path === '/status') {
      let body: string
      try {
        body = JSON.stringify(watcher.status())
      } catch {
        res.writeHead(500).end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      return
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      )
      return
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"error":"try GET /status or GET /metrics"}')
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
