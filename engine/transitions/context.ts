import type { EngineEvent } from '../events.ts'
import type { OpContext } from '../ops.ts'
import type { EngineState } from '../state/engineState.ts'

/** The working context of one `apply`: the state, what the sequencer assigned, and the events so far. */
export interface Tx {
  readonly state: EngineState
  readonly ctx: OpContext
  readonly events: EngineEvent[]
  /** Accounts whose risk changed during this operation; checked for liquidation before it ends. */
  readonly touched: Set<number>
}
