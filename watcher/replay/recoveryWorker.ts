import { parentPort } from 'node:worker_threads'
import { RESULT_BYTES, recoverJobs } from '../../engine/signing/recoverAddress.ts'

/**
 * Worker-thread side of the watcher's recovery pool. Takes `{ id, count, jobs }`, answers
 * `{ id, results }`; both buffers move by transfer, never by copy.
 */
interface RecoveryRequest {
  id: number
  count: number
  jobs: ArrayBuffer
}

const port = parentPort
if (port === null) throw new Error('watcher/replay/recoveryWorker.ts runs only as a worker thread')
port.on('message', (request: RecoveryRequest) => {
  const results = new Uint8Array(request.count * RESULT_BYTES)
  recoverJobs(new Uint8Array(request.jobs), results, request.count)
  port.postMessage({ id: request.id, results: results.buffer }, [results.buffer])
})
port.postMessage({ ready: true })
