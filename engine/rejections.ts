/**
 * Business rejections: values with stable codes, never exceptions.
 * A code, once released, keeps its meaning forever; add new ones at the end.
 * Each code has a sentence that tells the user what to do.
 */
export const RejectCode = {
  // Authorisation and replay protection
  BAD_SIGNER: 'BAD_SIGNER',
  AGENT_EXPIRED: 'AGENT_EXPIRED',
  AGENT_NOT_ALLOWED: 'AGENT_NOT_ALLOWED',
  NONCE_TOO_OLD: 'NONCE_TOO_OLD',
  NONCE_REUSED: 'NONCE_REUSED',
  NONCE_OUT_OF_WINDOW: 'NONCE_OUT_OF_WINDOW',
  // Accounts and collateral
  UNKNOWN_ACCOUNT: 'UNKNOWN_ACCOUNT',
  BAD_AMOUNT: 'BAD_AMOUNT',
  INSUFFICIENT_COLLATERAL: 'INSUFFICIENT_COLLATERAL',
  INSUFFICIENT_MARGIN: 'INSUFFICIENT_MARGIN',
  ACCOUNT_LIMIT: 'ACCOUNT_LIMIT',
  // Orders
  UNKNOWN_MARKET: 'UNKNOWN_MARKET',
  BAD_PRICE: 'BAD_PRICE',
  BAD_SIZE: 'BAD_SIZE',
  BAD_ORDER_TYPE: 'BAD_ORDER_TYPE',
  DUPLICATE_CLIENT_ORDER_ID: 'DUPLICATE_CLIENT_ORDER_ID',
  TOO_MANY_OPEN_ORDERS: 'TOO_MANY_OPEN_ORDERS',
  POST_ONLY_WOULD_CROSS: 'POST_ONLY_WOULD_CROSS',
  FOK_NOT_FILLED: 'FOK_NOT_FILLED',
  REDUCE_ONLY_WOULD_INCREASE: 'REDUCE_ONLY_WOULD_INCREASE',
  MARKET_REDUCE_ONLY: 'MARKET_REDUCE_ONLY',
  ORDER_EXPIRED: 'ORDER_EXPIRED',
  NO_LIQUIDITY: 'NO_LIQUIDITY',
  SELF_TRADE: 'SELF_TRADE',
  UNKNOWN_ORDER: 'UNKNOWN_ORDER',
  // Oracle
  ORACLE_UNKNOWN_SIGNER: 'ORACLE_UNKNOWN_SIGNER',
  ORACLE_QUORUM: 'ORACLE_QUORUM',
  ORACLE_STALE: 'ORACLE_STALE',
  ORACLE_OUT_OF_BAND: 'ORACLE_OUT_OF_BAND',
  ORACLE_NOT_NEWER: 'ORACLE_NOT_NEWER',
  ORACLE_UNKNOWN: 'ORACLE_UNKNOWN',
  // Time
  TIME_NOT_MONOTONIC: 'TIME_NOT_MONOTONIC',
  WITHDRAWAL_LIMIT: 'WITHDRAWAL_LIMIT',
  BAD_AGENT: 'BAD_AGENT',
} as const
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode]

export const rejectHint: Record<RejectCode, string> = {
  BAD_SIGNER:
    'The signature is not from the account or an agent it approved; sign with the account key or approve the agent first.',
  AGENT_EXPIRED: 'This agent approval has expired; approve the agent again with a later expiry.',
  AGENT_NOT_ALLOWED: 'Agents may only trade; sign withdrawals and agent changes with the account key.',
  NONCE_TOO_OLD:
    'The nonce is below the smallest of your recent nonces; use a fresh nonce such as the current time in milliseconds.',
  NONCE_REUSED: 'This nonce was already used; sign again with a new nonce.',
  NONCE_OUT_OF_WINDOW:
    'The nonce must be a millisecond timestamp close to now; check your clock and sign again.',
  UNKNOWN_ACCOUNT: 'The account has never deposited; deposit collateral on L1 first.',
  BAD_AMOUNT: 'The amount must be a positive whole number of USDC quantums (10^6 = 1 USDC).',
  INSUFFICIENT_COLLATERAL: 'Not enough free collateral; withdraw less or deposit more.',
  INSUFFICIENT_MARGIN:
    'This would take the account below initial margin; reduce the size, close positions or deposit more.',
  ACCOUNT_LIMIT: 'The system holds the maximum number of accounts; contact the operator.',
  UNKNOWN_MARKET: 'No market has this id; list markets through the API.',
  BAD_PRICE: 'The price must be a positive whole number of ticks within the market limits.',
  BAD_SIZE: "The size must be a positive whole number of lots within the market's minimum and maximum.",
  BAD_ORDER_TYPE:
    'This combination of order type, time in force and trigger is not valid; see the order type table in the docs.',
  DUPLICATE_CLIENT_ORDER_ID:
    'An open order already uses this client order id; the earlier submission is live, do not resend.',
  TOO_MANY_OPEN_ORDERS: 'The account has the maximum number of open orders; cancel some first.',
  POST_ONLY_WOULD_CROSS: 'A post-only order may not take liquidity; move the price away from the other side.',
  FOK_NOT_FILLED: 'A fill-or-kill order could not fill completely at its limit; nothing was traded.',
  REDUCE_ONLY_WOULD_INCREASE:
    'A reduce-only order must shrink an open position; there is none on the other side of this order.',
  MARKET_REDUCE_ONLY: 'The oracle price is stale, so the market accepts only orders that reduce positions.',
  ORDER_EXPIRED: 'The good-til time is already past; choose a later expiry.',
  NO_LIQUIDITY:
    'No resting liquidity inside the worst-price protection; widen the protection or use a limit order.',
  SELF_TRADE: 'The order would trade with your own resting order and was expired by self-trade prevention.',
  UNKNOWN_ORDER: 'No open order of this account has this id; it may have filled or been cancelled already.',
  ORACLE_UNKNOWN_SIGNER: 'A price observation is signed by a key outside the oracle set.',
  ORACLE_QUORUM: 'Too few valid oracle signatures for this update.',
  ORACLE_STALE: 'The oracle publish time is too old for the sequenced time.',
  ORACLE_OUT_OF_BAND: "The price moved more than the market's band allows in one update.",
  ORACLE_NOT_NEWER: 'The publish time is not newer than the last accepted price.',
  ORACLE_UNKNOWN: 'No market uses this oracle id.',
  TIME_NOT_MONOTONIC: 'Sequenced time must never go back.',
  WITHDRAWAL_LIMIT:
    'This batch holds the maximum number of withdrawals; submit again, it will go into the next batch.',
  BAD_AGENT: 'The agent is not valid here; check the agent address and that it is approved for this account.',
}

export interface Rejection {
  ok: false
  code: RejectCode
  message: string
}

export function reject(code: RejectCode, detail?: string): Rejection {
  return {
    ok: false,
    code,
    message: detail === undefined ? rejectHint[code] : `${rejectHint[code]} (${detail})`,
  }
}

/**
 * Thrown only when an invariant is broken. The sequencer halts instead of posting a root built on it.
 */
export class EngineInvariantError extends Error {
  override readonly name = 'EngineInvariantError'
  constructor(
    readonly invariant: string,
    details: string,
  ) {
    super(`Engine invariant broken: ${invariant}: ${details}`)
  }
}
