import { parentPort, receiveMessageOnPort } from 'node:worker_threads'
import { batchVerifier } from '../native/sigbatch.ts'
import type { SignerReply, SignerRequest } from './recoveryPool.ts'
import { type CheckedSigners, SignerChecker } from './verifySigners.ts'

/**
 * Worker-thread side of the watcher's recovery pool: takes a `SignerRequest` (packed jobs, or a whole
 * batch's codec bytes to decode), answers a `SignerReply`; the buffers move by transfer, never by copy.
 * Each worker has its own batch verifier and its own memory of signer keys.
 *
 * Batches that queue up while the worker is busy are checked together (at most MAX_TOGETHER): one larger
 * batch check costs less per signature. A worker that keeps up answers each batch alone, at once.
 */
const MAX_TOGETHER = 4

const port = parentPort
if (port === null) throw new Error('watcher/replay/recoveryWorker.ts runs only as a worker thread')
const status = batchVerifier()
const batched = new SignerChecker(status.available ? status.verifier : null)
const recovering = new SignerChecker(null)

port.on('message', (first: SignerRequest) => {
  const requests = [first]
  if (first.kind === 'batch') {
    while (requests.length < MAX_TOGETHER) {
      const queued = receiveMessageOnPort(port) as { message: SignerRequest } | undefined
      if (queued === undefined) break
      requests.push(queued.message)
      if (queued.message.kind !== 'batch' || queued.message.batchVerify !== first.batchVerify) break
    }
  }
  const together = requests.filter((r) => r.kind === 'batch' && r.batchVerify === first.batchVerify)
  if (together.length > 1) {
    const checker = first.batchVerify ? batched : recovering
    const answers = checker.checkUnpackedMany(
      together.map((r) => {
        const b = r as Extract<SignerRequest, { kind: 'batch' }>
        return { unpacked: new Uint8Array(b.unpacked), position: b.position }
      }),
    )
    for (const [i, r] of together.entries()) reply(r.id, answers[i]!)
    for (const r of requests) if (!together.includes(r)) answerOne(r)
  } else {
    for (const r of requests) answerOne(r)
  }
})
port.postMessage({ ready: true })

function answerOne(request: SignerRequest): void {
  const checker = request.batchVerify ? batched : recovering
  reply(
    request.id,
    request.kind === 'jobs'
      ? checker.check(new Uint8Array(request.jobs), request.hints)
      : checker.checkUnpacked(new Uint8Array(request.unpacked), request.position),
  )
}

function reply(id: number, answer: CheckedSigners | null): void {
  const message: SignerReply =
    answer === null
      ? { id, results: null, tally: { batched: 0, recovered: 0, failedBatches: 0 } }
      : { id, results: answer.results.buffer as ArrayBuffer, tally: answer.tally }
  port!.postMessage(message, message.results === null ? [] : [message.results])
}
