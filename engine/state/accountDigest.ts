import type { Address } from 'viem'
import type { Order } from '../book/order.ts'
import { writeAddressBytes } from '../commitment/abiWords.ts'
import { keccak256 } from '../commitment/keccak256.ts'
import { pendingFundingQuantums } from '../risk/margin.ts'
import { ByteWriter } from '../snapshot/byteWriter.ts'
import type { Account } from './account.ts'
import { type EngineState, INSURANCE_FUND_ACCOUNT_ID } from './engineState.ts'

// Reused: after a price move every holder's leaf is rebuilt, so this runs for many accounts per root.
const writer = new ByteWriter(1024)

function byLowerCase(a: Address, b: Address): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

/** Map keys in ascending address order (lower-case hex order is byte order). */
function sortedAddresses(map: Map<Address, unknown>): Address[] {
  const keys = [...map.keys()]
  if (keys.length > 1) keys.sort(byLowerCase)
  return keys
}

function isAscending(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i - 1]! > values[i]!) return false
  return true
}

/** `w.address(a)`, through the commitment's address parser, which remembers the last address it read. */
function writeAddress(w: ByteWriter, address: Address): void {
  w.ensure(20)
  writeAddressBytes(w.bytes, w.length, address)
  w.length += 20
}

/** Bit 0: reduce-only; bit 1: post-only. */
export function orderFlags(order: Order): number {
  return (order.reduceOnly ? 1 : 0) | (order.postOnly ? 2 : 0)
}

function writeOrder(w: ByteWriter, o: Order): void {
  w.i64(o.orderId)
  w.i64(o.marketId)
  w.u8(o.side)
  w.u8(o.kind)
  w.u8(o.tif)
  w.u8(orderFlags(o))
  w.u8(o.stp)
  w.i256(o.clientOrderId)
  w.i64(o.priceTicks)
  w.i64(o.remainingLots)
  w.i64(o.triggerPriceTicks)
  w.i64(o.expiresAtMs)
  w.bool(o.triggered)
}

/**
 * Appends the packed account data (docs/protocol.md, "Account data") to `w`, after whatever it holds.
 * The batched leaf builder writes many accounts into one buffer this way.
 */
export function appendAccountData(w: ByteWriter, account: Account): void {
  w.i64(account.accountId)
  w.i256(account.collateralQuantums)

  const markets = account.markets
  let marketCount = 0
  for (const am of markets) if (am !== undefined && !am.isEmpty()) marketCount++
  w.u32(marketCount)
  for (let marketId = 0; marketId < markets.length; marketId++) {
    const am = markets[marketId]
    if (am === undefined || am.isEmpty()) continue
    w.i64(marketId)
    w.i64(am.sizeLots)
    w.i256(am.costBasisQuantums)
    w.i256(am.fundingIndexSnapshot)
    w.i64(am.openBidLots)
    w.i64(am.openAskLots)
    w.i64(am.openOrderCount)
  }

  const orders = account.orders
  if (orders === null) {
    w.u32(0)
  } else {
    w.u32(orders.size)
    let sorted = true
    let last = -1
    for (const o of orders.values()) {
      if (o.orderId <= last) sorted = false
      last = o.orderId
    }
    const list = sorted ? orders.values() : [...orders.values()].sort((a, b) => a.orderId - b.orderId)
    for (const o of list) writeOrder(w, o)
  }

  const nonces = account.nonces
  if (nonces === null) {
    w.u32(0)
  } else {
    w.u32(nonces.size)
    for (const signer of sortedAddresses(nonces)) {
      const window = nonces.get(signer)!
      const values = isAscending(window) ? window : [...window].sort((a, b) => a - b)
      writeAddress(w, signer)
      w.u32(values.length)
      for (const n of values) w.i64(n)
    }
  }

  const agents = account.agents
  if (agents === null) {
    w.u32(0)
  } else {
    w.u32(agents.size)
    for (const agent of sortedAddresses(agents)) {
      writeAddress(w, agent)
      w.i64(agents.get(agent)!)
    }
  }
}

/**
 * The packed encoding behind `accountDataHash` (a copy), for tests and for watchers that diff accounts.
 * Layout: docs/protocol.md, "Account data".
 */
export function accountDataEncoding(_state: EngineState, account: Account): Uint8Array {
  writer.reset()
  appendAccountData(writer, account)
  return writer.finish()
}

/**
 * keccak256 of the packed encoding of everything about the account except its address, which the
 * leaf carries in the clear. Big-endian fixed-width fields; see docs/protocol.md, "Account data".
 */
export function accountDataHash(_state: EngineState, account: Account): Uint8Array {
  writer.reset()
  appendAccountData(writer, account)
  return keccak256(writer.written())
}

/**
 * What the account may take out if the system freezes: max(0, equity at mark). Equity already rounds
 * pending funding against the account (up), so this rounds down. The insurance fund escapes nothing.
 */
export function escapeEquityQuantums(state: EngineState, account: Account): bigint {
  if (account.accountId === INSURANCE_FUND_ACCOUNT_ID) return 0n
  // Equity alone, by the same formula as accountRisk: a leaf needs no margin.
  let equity = account.collateralQuantums
  const markets = account.markets
  for (let marketId = 0; marketId < markets.length; marketId++) {
    const am = markets[marketId]
    if (am === undefined || (am.sizeLots === 0 && am.costBasisQuantums === 0n)) continue
    const market = state.markets[marketId]!
    equity +=
      BigInt(am.sizeLots) * BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick -
      am.costBasisQuantums -
      pendingFundingQuantums(am, market)
  }
  return equity > 0n ? equity : 0n
}
