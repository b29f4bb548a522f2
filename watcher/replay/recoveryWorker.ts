import { parentPort } from 'node:worker_threads'
import { batchVerifier } from '../native/sigbatch.ts'
import type { SignerReply, SignerRequest } from './recoveryPool.ts'
import { SIGNER_RESULT_BYTES, verifySigners } from './verifySigners.ts'

/**
 * Worker-thread side of the watcher's recovery pool: takes a `SignerRequest`, answers a `SignerReply`;
 * the buffers move by transfer, never by copy. Each worker loads its own batch verifier.
 */
const port = parentPort
if (port === null) throw new Error('watcher/replay/recoveryWorker.ts runs only as a worker thread')
const status = batchVerifier()
const verifier = status.available ? status.verifier : null
port.on('message', (request: SignerRequest) => {
  const results = new Uint8Array(request.count * SIGNER_RESULT_BYTES)
  const tally = verifySigners(
    {
      jobs: new Uint8Array(request.jobs),
      count: request.count,
      keyOf: new Int32Array(request.keyOf),
      keys: new Uint8Array(request.keys),
    },
    results,
    request.batchVerify ? verifier : null,
  )
  const reply: SignerReply = { id: request.id, results: results.buffer, tally }
  port.postMessage(reply, [results.buffer])
})
port.postMessage({ ready: true })
