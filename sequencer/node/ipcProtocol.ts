import type { HaltInfo, SequencedOp, SequencerStatus } from '../api.ts'

/**
 * Messages between a parent process and a node it spawned with an IPC channel (`serialization:
 * 'advanced'`, so bigints and byte arrays cross as they are). Requests carry an id; the node answers
 * each once. Events are pushed unasked, sequenced ops in seq order.
 */
export type IpcMethod =
  | 'submit'
  | 'submitOracleUpdate'
  | 'submitL1'
  | 'status'
  | 'account'
  | 'orderBook'
  | 'subscribe'
  | 'unsubscribe'

export interface IpcRequest {
  id: number
  method: IpcMethod
  args: unknown[]
}

export type IpcMessage =
  | { id: number; result: unknown }
  | { id: number; error: string }
  | { event: 'ready'; status: SequencerStatus }
  | { event: 'sequenced'; op: SequencedOp }
  | { event: 'halt'; halt: HaltInfo }

export function isIpcRequest(m: unknown): m is IpcRequest {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as IpcRequest).id === 'number' &&
    typeof (m as IpcRequest).method === 'string' &&
    Array.isArray((m as IpcRequest).args)
  )
}
