import type { DepositOp, ForcedWithdrawalOp } from '../../engine/ops.ts'
import type { SignedIntent } from '../api.ts'
import type { SignedOracleUpdate } from '../intake/parseOracleUpdate.ts'
import type { Sequencer } from '../sequencer.ts'
import { type IpcMessage, type IpcRequest, isIpcRequest } from './ipcProtocol.ts'

export interface IpcChannel {
  send?: ((message: IpcMessage) => boolean) | undefined
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'disconnect', listener: () => void): unknown
}

export interface ServeOverIpcOptions {
  /**
   * Let the parent inject L1 inbox items. Only for tests and the devnet until the L1 inbox reader
   * exists: whoever holds the channel could otherwise credit any account.
   */
  allowL1: boolean
}

/**
 * Serves the SequencerApi (plus the oracle path, and the L1 path when allowed) to the parent process
 * over the Node IPC channel. The parent is trusted: it started this process.
 */
export function serveOverIpc(sequencer: Sequencer, channel: IpcChannel, options: ServeOverIpcOptions): void {
  const send = (m: IpcMessage): void => {
    channel.send?.(m)
  }
  let unsubscribe: (() => void) | null = null
  channel.on('message', (message) => {
    if (!isIpcRequest(message)) return
    answer(sequencer, message, options, {
      subscribe: () => {
        unsubscribe ??= sequencer.subscribe((op) => send({ event: 'sequenced', op }))
      },
      unsubscribe: () => {
        unsubscribe?.()
        unsubscribe = null
      },
    }).then(
      (result) => send({ id: message.id, result }),
      (error: unknown) =>
        send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    )
  })
  channel.on('disconnect', () => {
    unsubscribe?.()
    unsubscribe = null
  })
  sequencer.onHalt((halt) => send({ event: 'halt', halt }))
}

async function answer(
  s: Sequencer,
  req: IpcRequest,
  options: ServeOverIpcOptions,
  subscription: { subscribe: () => void; unsubscribe: () => void },
): Promise<unknown> {
  const [a, b] = req.args
  switch (req.method) {
    case 'submit':
      return s.submit(a as SignedIntent)
    case 'submitOracleUpdate':
      return s.submitOracleUpdate(a as SignedOracleUpdate)
    case 'submitL1':
      if (!options.allowL1)
        throw new Error('L1 inbox items are not accepted over IPC on this node (SCE_DEV_INBOX)')
      return s.submitL1(a as DepositOp | ForcedWithdrawalOp)
    case 'status':
      return s.status()
    case 'account':
      return s.account(a as string)
    case 'orderBook':
      return s.orderBook(a as number, b as number)
    case 'subscribe':
      subscription.subscribe()
      return true
    case 'unsubscribe':
      subscription.unsubscribe()
      return true
    default:
      throw new Error(`unknown method ${String(req.method)}`)
  }
}
