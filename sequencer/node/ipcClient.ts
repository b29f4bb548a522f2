import type { ChildProcess } from 'node:child_process'
import type { DepositOp, ForcedWithdrawalOp } from '../../engine/ops.ts'
import type {
  AccountView,
  BookView,
  HaltInfo,
  SequencedOp,
  SequencerApi,
  SequencerStatus,
  SignedIntent,
  SubmitResult,
} from '../api.ts'
import type { SignedOracleUpdate } from '../intake/parseOracleUpdate.ts'
import type { IpcMessage, IpcMethod } from './ipcProtocol.ts'

/**
 * The SequencerApi of a node running in a child process (spawned with an IPC channel and
 * `serialization: 'advanced'`). Calls made after the child exits reject.
 */
export class IpcSequencerClient implements SequencerApi {
  readonly #child: ChildProcess
  readonly #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  readonly #listeners = new Set<(op: SequencedOp) => void>()
  #nextId = 1
  #exited = false
  halt: HaltInfo | null = null
  readonly ready: Promise<SequencerStatus>

  constructor(child: ChildProcess) {
    this.#child = child
    let markReady: (s: SequencerStatus) => void = () => {}
    let failReady: (e: Error) => void = () => {}
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve
      failReady = reject
    })
    child.on('message', (m: IpcMessage) => {
      if ('event' in m) {
        if (m.event === 'ready') markReady(m.status)
        else if (m.event === 'sequenced') for (const l of this.#listeners) l(m.op)
        else if (m.event === 'halt') this.halt = m.halt
        return
      }
      const call = this.#calls.get(m.id)
      if (call === undefined) return
      this.#calls.delete(m.id)
      if ('error' in m) call.reject(new Error(m.error))
      else call.resolve(m.result)
    })
    child.on('exit', (code, signal) => {
      this.#exited = true
      const error = new Error(`the sequencer process exited (${signal ?? code})`)
      failReady(error)
      for (const call of this.#calls.values()) call.reject(error)
      this.#calls.clear()
    })
  }

  #call<T>(method: IpcMethod, ...args: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('the sequencer process has exited'))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#child.send({ id, method, args }, (error) => {
        if (error === null || error === undefined) return
        this.#calls.delete(id)
        reject(error)
      })
    })
  }

  submit(intent: SignedIntent): Promise<SubmitResult> {
    return this.#call('submit', intent)
  }

  submitOracleUpdate(update: SignedOracleUpdate): Promise<SubmitResult> {
    return this.#call('submitOracleUpdate', update)
  }

  submitL1(op: DepositOp | ForcedWithdrawalOp): Promise<SubmitResult> {
    return this.#call('submitL1', op)
  }

  status(): Promise<SequencerStatus> {
    return this.#call('status')
  }

  account(address: string): Promise<AccountView | null> {
    return this.#call('account', address)
  }

  orderBook(marketId: number, levels: number): Promise<BookView | null> {
    return this.#call('orderBook', marketId, levels)
  }

  subscribe(listener: (op: SequencedOp) => void): () => void {
    if (this.#listeners.size === 0) void this.#call('subscribe').catch(() => {})
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0 && !this.#exited) void this.#call('unsubscribe').catch(() => {})
    }
  }
}
