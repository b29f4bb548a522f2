import { parentPort } from 'node:worker_threads'
import { batchVerifier } from '../native/sigbatch.ts'
import type { SignerReply, SignerRequest } from './recoveryPool.ts'
import { type CheckedSigners, SignerChecker } from './verifySigners.ts'

/**
 * Worker-thread side of the watcher's recovery pool: takes a `SignerRequest` (packed jobs, or a whole
 * posted batch to decode), answers a `SignerReply`; the buffers move by transfer, never by copy. Each
 * worker has its own batch verifier and its own memory of signer keys.
 */
const port = parentPort
if (port === null) throw new Error('watcher/replay/recoveryWorker.ts runs only as a worker thread')
const status = batchVerifier()
const batched = new SignerChecker(status.available ? status.verifier : null)
const recovering = new SignerChecker(null)
port.on('message', (request: SignerRequest) => {
  const checker = request.batchVerify ? batched : recovering
  const answer: CheckedSigners | null =
    request.kind === 'jobs'
      ? checker.check(new Uint8Array(request.jobs), request.hints)
      : checker.checkUnpacked(new Uint8Array(request.unpacked), request.position)
  const reply: SignerReply =
    answer === null
      ? { id: request.id, results: null, tally: { batched: 0, recovered: 0, failedBatches: 0 } }
      : { id: request.id, results: answer.results.buffer as ArrayBuffer, tally: answer.tally }
  port.postMessage(reply, reply.results === null ? [] : [reply.results])
})
port.postMessage({ ready: true })
