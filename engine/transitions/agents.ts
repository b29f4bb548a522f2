import { isAddress } from 'viem'
import type { ApproveAgentOp, RevokeAgentOp } from '../ops.ts'
import { RejectCode, reject } from '../rejections.ts'
import { authorize, isRejection } from './authorize.ts'
import type { Tx } from './context.ts'
import type { OpResult } from './result.ts'

/** An account holds at most this many agents, so its leaf stays cheap to rehash. */
export const MAX_AGENTS_PER_ACCOUNT = 16

export function applyApproveAgent(tx: Tx, op: ApproveAgentOp): OpResult {
  if (
    !isAddress(op.agent, { strict: false }) ||
    op.agent !== op.agent.toLowerCase() ||
    op.agent === op.account
  ) {
    return reject(RejectCode.BAD_AGENT, 'the agent must be a lowercase address other than the account')
  }
  if (!Number.isSafeInteger(op.expiresAtMs) || op.expiresAtMs <= tx.ctx.timestampMs) {
    return reject(RejectCode.AGENT_EXPIRED, 'the expiry must lie in the future')
  }
  const account = authorize(tx, op, false)
  if (isRejection(account)) return account
  if (account.agents === null) account.agents = new Map()
  if (!account.agents.has(op.agent) && account.agents.size >= MAX_AGENTS_PER_ACCOUNT)
    return reject(RejectCode.BAD_AGENT, `at most ${MAX_AGENTS_PER_ACCOUNT} agents`)
  account.agents.set(op.agent, op.expiresAtMs)
  tx.state.dirtyAccounts.add(account.accountId)
  tx.events.push({
    type: 'agent',
    accountId: account.accountId,
    agent: op.agent,
    expiresAtMs: op.expiresAtMs,
  })
  return { ok: true }
}

export function applyRevokeAgent(tx: Tx, op: RevokeAgentOp): OpResult {
  const account = authorize(tx, op, false)
  if (isRejection(account)) return account
  if (account.agents?.delete(op.agent) !== true) return reject(RejectCode.BAD_AGENT, 'no such agent')
  tx.state.dirtyAccounts.add(account.accountId)
  tx.events.push({ type: 'agent', accountId: account.accountId, agent: op.agent, expiresAtMs: 0 })
  return { ok: true }
}
