import { parentPort } from 'node:worker_threads'
import { RESULT_BYTES, recoverJobs } from '../../engine/signing/recoverAddress.ts'

/**
 * Worker-thread entry of the recovery pool. Request `{ id, count, jobs }`, reply `{ id, results }`;
 * both buffers are transferred, not copied.
 */
interface Request {
  id: number
  count: number
  jobs: ArrayBuffer
}

const port = parentPort
if (port === null) throw new Error('recoveryWorker.ts must run in a worker thread')
port.on('message', (req: Request) => {
  const results = new Uint8Array(req.count * RESULT_BYTES)
  recoverJobs(new Uint8Array(req.jobs), results, req.count)
  port.postMessage({ id: req.id, results: results.buffer }, [results.buffer])
})
port.postMessage({ ready: true })
