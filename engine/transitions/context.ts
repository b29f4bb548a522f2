import type { EngineEvent } from '../events.ts'
import type { OpContext } from '../ops.ts'
import type { EngineState } from '../state/engineState.ts'
import { AccountIdSet } from './accountIdSet.ts'

/**
 * The working context of one `apply`: the state, what the sequencer assigned, and the events so far.
 * One is kept per state and reset by `begin`, since `apply` is never re-entered.
 */
export class Tx {
  readonly state: EngineState
  ctx: OpContext
  events: EngineEvent[]
  /**
   * Accounts whose positions or collateral changed during this operation, or that a price or funding move
   * may have put at risk; checked for liquidation before it ends. Orders alone never put an account here:
   * maintenance margin depends on positions and collateral only.
   */
  readonly touched = new AccountIdSet()

  constructor(state: EngineState, ctx: OpContext) {
    this.state = state
    this.ctx = ctx
    this.events = []
  }

  /** Starts the next operation: a fresh event list, nothing touched. */
  begin(ctx: OpContext): void {
    this.ctx = ctx
    this.events = []
    this.touched.clear()
  }
}
