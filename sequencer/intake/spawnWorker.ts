import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/**
 * Starts a worker thread on a module of this repository. A `.ts` entry is loaded through tsx's
 * `tsImport` inside the worker: Node 20 does not hand `--import tsx` hooks to a worker's entry.
 */
export function spawnWorker(entry: URL, workerData?: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData })
  const code = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`
  return new Worker(code, { eval: true, workerData })
}

let cachedApiUrl: string | null = null

/** The ESM build of `tsx/esm/api`, found through tsx's package exports. */
function tsxApiUrl(): string {
  if (cachedApiUrl === null) {
    const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json')
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>
    }
    cachedApiUrl = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api']!.import.default)).href
  }
  return cachedApiUrl
}
