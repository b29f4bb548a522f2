import type { Order } from '../book/order.ts'
import type { Account } from '../state/account.ts'
import type { EngineState } from '../state/engineState.ts'
import { ByteWriter } from './byteWriter.ts'
import {
  FLAG_POST_ONLY,
  FLAG_REDUCE_ONLY,
  FLAG_TRIGGERED,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  snapshotConfigHash,
} from './snapshotFormat.ts'

function writeOrder(w: ByteWriter, o: Order): void {
  w.varUint(o.orderId)
  w.varUint(o.marketId)
  w.u8(o.side)
  w.u8(o.kind)
  w.u8(o.tif)
  w.u8(
    (o.reduceOnly ? FLAG_REDUCE_ONLY : 0) |
      (o.postOnly ? FLAG_POST_ONLY : 0) |
      (o.triggered ? FLAG_TRIGGERED : 0),
  )
  w.u8(o.stp)
  w.varBig(o.clientOrderId)
  w.varUint(o.priceTicks)
  w.varUint(o.remainingLots)
  w.varUint(o.triggerPriceTicks)
  w.varUint(o.expiresAtMs)
}

function writeAccount(w: ByteWriter, a: Account): void {
  const addressAt = w.length
  w.addressExact(a.address)
  w.varBig(a.collateralQuantums)

  const markets = a.markets
  let marketCount = 0
  for (const am of markets) if (am !== undefined && !am.isEmpty()) marketCount++
  w.varUint(marketCount)
  for (let marketId = 0; marketId < markets.length; marketId++) {
    const am = markets[marketId]
    // An empty entry carries nothing: with no position and no orders, its funding snapshot is reset before use.
    if (am === undefined || am.isEmpty()) continue
    w.varUint(marketId)
    w.varInt(am.sizeLots)
    w.varBig(am.costBasisQuantums)
    w.varBig(am.fundingIndexSnapshot)
    w.varUint(am.openBidLots)
    w.varUint(am.openAskLots)
    w.varUint(am.openOrderCount)
  }

  const orders = a.orders
  w.varUint(orders === null ? 0 : orders.size)
  if (orders !== null) for (const o of orders.values()) writeOrder(w, o)

  // Nonce windows and agents keep their in-memory order, so a restored state behaves identically.
  const nonces = a.nonces
  w.varUint(nonces === null ? 0 : nonces.size)
  if (nonces !== null) {
    for (const [signer, window] of nonces) {
      // Usually the account signs for itself: copy its bytes instead of parsing the hex again.
      if (signer === a.address) w.repeat(addressAt, 25)
      else w.addressExact(signer)
      w.varUint(window.length)
      for (const n of window) w.varInt(n)
    }
  }

  const agents = a.agents
  w.varUint(agents === null ? 0 : agents.size)
  if (agents !== null) {
    for (const [agent, expiresAtMs] of agents) {
      w.addressExact(agent)
      // Any safe integer after the approval time, so possibly above the varInt range.
      w.varUint(expiresAtMs)
    }
  }
}

/**
 * The committed state as bytes: versioned, deterministic, and exact (restoring gives the same state root).
 * Derived indexes (books, ordersById, holders, expiry queue, …) are not stored; `restoreSnapshot` rebuilds
 * them. Layout: docs/protocol.md, "Snapshot format".
 */
export function serializeSnapshot(state: EngineState): Uint8Array {
  // About 60 bytes for a typical account and 30 for an order; the writer grows if needed.
  const w = new ByteWriter(4096 + 64 * state.accounts.length + 32 * state.ordersById.size)
  w.raw(SNAPSHOT_MAGIC)
  w.u32(SNAPSHOT_VERSION)
  w.raw(snapshotConfigHash(state.config))

  w.varUint(state.seq)
  w.varUint(state.timestampMs)
  w.varUint(state.nextOrderId)
  w.varBig(state.feesQuantums)
  w.varBig(state.totalDepositedQuantums)
  w.varBig(state.totalWithdrawnQuantums)
  w.varBig(state.fundingDustNanoQuantums)
  w.varUint(state.inboxConsumed)

  w.varUint(state.pendingWithdrawals.length)
  for (const p of state.pendingWithdrawals) {
    w.varUint(p.accountId)
    w.addressExact(p.account)
    w.varBig(p.amountQuantums)
    w.bool(p.forced)
  }

  w.varUint(state.markets.length)
  for (const m of state.markets) {
    w.varUint(m.markPriceTicks)
    w.varUint(m.oraclePublishTimeMs)
    w.bool(m.reduceOnly)
    w.varBig(m.fundingIndexNanoQuantumsPerLot)
    w.varUint(m.fundingPeriodStartMs)
    w.varInt(m.premiumSumPpm)
    w.varUint(m.premiumSampleCount)
    w.varUint(m.lastSampleMs)
    w.varUint(m.openInterestLots)
  }

  w.varUint(state.accounts.length)
  for (const a of state.accounts) writeAccount(w, a)

  // Do not hand back a buffer much larger than the data.
  return w.bytes.length > w.length + (w.length >>> 2) ? w.finish() : w.written()
}
