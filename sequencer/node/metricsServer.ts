import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

/** Serves `GET /metrics` on 127.0.0.1 only: metrics are for the operator's scraper, not the internet. */
export function startMetricsServer(registry: Registry, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    )
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}
