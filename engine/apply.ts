import type { Op, OpContext } from './ops.ts'
import { EngineInvariantError } from './rejections.ts'
import type { EngineState } from './state/engineState.ts'
import { applyApproveAgent, applyRevokeAgent } from './transitions/agents.ts'
import { applyCancelAll, applyCancelOrder } from './transitions/cancelOrder.ts'
import { Tx } from './transitions/context.ts'
import { applyDeposit } from './transitions/deposit.ts'
import { deleverageFundIfDue, runLiquidations } from './transitions/liquidate.ts'
import { applyModifyOrder } from './transitions/modifyOrder.ts'
import { applyOracleUpdate } from './transitions/oracleUpdate.ts'
import { applyPlaceOrder } from './transitions/placeOrder.ts'
import type { ApplyResult, OpResult } from './transitions/result.ts'
import { applyTimeAdvance } from './transitions/timeAdvance.ts'
import { evaluateTriggers } from './transitions/triggers.ts'
import { applyForcedWithdrawal, applyWithdraw } from './transitions/withdraw.ts'

export type { ApplyResult, OpResult }

function dispatch(tx: Tx, op: Op): OpResult {
  switch (op.type) {
    case 'deposit':
      return applyDeposit(tx, op)
    case 'forcedWithdrawal':
      return applyForcedWithdrawal(tx, op)
    case 'withdraw':
      return applyWithdraw(tx, op)
    case 'placeOrder':
      return applyPlaceOrder(tx, op)
    case 'cancelOrder':
      return applyCancelOrder(tx, op)
    case 'cancelAll':
      return applyCancelAll(tx, op)
    case 'modifyOrder':
      return applyModifyOrder(tx, op)
    case 'approveAgent':
      return applyApproveAgent(tx, op)
    case 'revokeAgent':
      return applyRevokeAgent(tx, op)
    case 'oracleUpdate':
      return applyOracleUpdate(tx, op)
    case 'timeAdvance':
      return applyTimeAdvance(tx)
    default: {
      const unknown: never = op
      throw new EngineInvariantError('operation type', `unknown ${(unknown as { type: string }).type}`)
    }
  }
}

/**
 * The state transition function. Applies one sequenced operation and returns its events and result.
 *
 * A business rejection is a result, not an exception; the operation still takes its sequence number.
 * An exception means a broken invariant (or a sequencer that broke the contract: a gap in `seq`, time
 * going back, inbox items out of order): the caller must halt rather than commit anything built on it.
 *
 * After the operation itself, every account it touched is checked for liquidation (and, for price and
 * time operations, every account the liquidation index flags); then, for price and time operations,
 * stop and take-profit triggers are evaluated, followed by another liquidation pass.
 */
export function apply(state: EngineState, op: Op, ctx: OpContext): ApplyResult {
  if (ctx.seq !== state.seq + 1) {
    throw new EngineInvariantError('sequence', `expected seq ${state.seq + 1}, got ${ctx.seq}`)
  }
  if (!Number.isSafeInteger(ctx.timestampMs) || ctx.timestampMs < state.timestampMs) {
    throw new EngineInvariantError('time', `timestamp ${ctx.timestampMs} is before ${state.timestampMs}`)
  }
  state.seq = ctx.seq
  state.timestampMs = ctx.timestampMs
  let tx = state.scratchTx
  if (tx === null) {
    tx = new Tx(state, ctx)
    state.scratchTx = tx
  } else {
    tx.begin(ctx)
  }
  const result = dispatch(tx, op)
  runLiquidations(tx)
  if (op.type === 'oracleUpdate' || op.type === 'timeAdvance') {
    const markets = op.type === 'timeAdvance' ? state.markets : [state.marketByOracleId.get(op.oracleId)!]
    for (const market of markets) if (market !== undefined) evaluateTriggers(tx, market)
    runLiquidations(tx)
    // The counterparties of the fund's deleveraging may now be liquidatable themselves.
    if (deleverageFundIfDue(tx)) runLiquidations(tx)
  }
  return { events: tx.events, result }
}
