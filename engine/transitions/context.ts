import type { EngineEvent } from '../events.ts'
import type { OpContext } from '../ops.ts'
import type { EngineState } from '../state/engineState.ts'

/** The working context of one `apply`: the state, what the sequencer assigned, and the events so far. */
export interface Tx {
  readonly state: EngineState
  readonly ctx: OpContext
  readonly events: EngineEvent[]
  /**
   * Accounts whose positions or collateral changed during this operation, or that a price or funding move
   * may have put at risk; checked for liquidation before it ends. Orders alone never put an account here:
   * maintenance margin depends on positions and collateral only.
   */
  readonly touched: Set<number>
}
