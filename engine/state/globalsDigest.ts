import { keccak256 } from '../commitment/keccak256.ts'
import type { EngineConfig } from '../config.ts'
import { ByteWriter } from '../snapshot/byteWriter.ts'
import type { EngineState, PendingWithdrawal } from './engineState.ts'

const writer = new ByteWriter(512)
const configHashes = new WeakMap<EngineConfig, Uint8Array>()

/**
 * keccak256 of the packed engine-wide configuration (markets excluded: `marketsHash` commits each market's
 * config). Oracle signers are kept in configured order. Cached per config object.
 */
export function engineConfigHash(config: EngineConfig): Uint8Array {
  let hash = configHashes.get(config)
  if (hash === undefined) {
    const w = writer
    w.reset()
    w.i256(config.chainId)
    w.address(config.settlementAddress)
    w.u32(config.oracle.signers.length)
    for (const signer of config.oracle.signers) w.address(signer)
    w.i64(config.oracle.threshold)
    w.i64(config.oracle.maxPublishDelayMs)
    w.i64(config.nonceWindow.size)
    w.i64(config.nonceWindow.pastMs)
    w.i64(config.nonceWindow.futureMs)
    w.i64(config.maxOpenOrdersPerAccount)
    w.i64(config.accountTreeDepth)
    w.u32(config.markets.length)
    hash = keccak256(w.written())
    configHashes.set(config, hash)
  }
  return hash
}

/** keccak256 over the open batch's withdrawals, in order; keccak256 of no bytes when there are none. */
export function pendingWithdrawalsHash(withdrawals: readonly PendingWithdrawal[]): Uint8Array {
  const w = writer
  w.reset()
  for (const p of withdrawals) {
    w.i64(p.accountId)
    w.address(p.account)
    w.i256(p.amountQuantums)
    w.bool(p.forced)
  }
  return keccak256(w.written())
}

/** The packed encoding behind `globalsHash` (a copy). */
export function globalsEncoding(state: EngineState): Uint8Array {
  writeGlobals(state)
  return writer.finish()
}

function writeGlobals(state: EngineState): void {
  // Both sub-hashes reuse the writer, so they come first.
  const configHash = engineConfigHash(state.config)
  const withdrawalsHash = pendingWithdrawalsHash(state.pendingWithdrawals)
  const w = writer
  w.reset()
  w.i64(state.seq)
  w.i64(state.timestampMs)
  w.i64(state.nextOrderId)
  w.i256(state.feesQuantums)
  w.i256(state.totalDepositedQuantums)
  w.i256(state.totalWithdrawnQuantums)
  w.i256(state.fundingDustNanoQuantums)
  w.i64(state.inboxConsumed)
  w.u32(state.accounts.length)
  w.raw(configHash)
  w.u32(state.pendingWithdrawals.length)
  w.raw(withdrawalsHash)
}

/** keccak256 of the protocol's counters, the engine config hash and the open batch's withdrawals. */
export function globalsHash(state: EngineState): Uint8Array {
  writeGlobals(state)
  return keccak256(writer.written())
}
