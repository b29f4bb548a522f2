import type { Address } from 'viem'
import { Order } from '../book/order.ts'
import type { EngineConfig } from '../config.ts'
import type { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../ops.ts'
import { TimeInForce as Tif } from '../ops.ts'
import { accountRisk } from '../risk/margin.ts'
import { Account } from '../state/account.ts'
import { EngineState, INSURANCE_FUND_ACCOUNT_ID } from '../state/engineState.ts'
import { ByteReader, SnapshotFormatError } from './byteReader.ts'
import {
  FLAG_POST_ONLY,
  FLAG_REDUCE_ONLY,
  FLAG_TRIGGERED,
  isTriggerKind,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  snapshotConfigHash,
} from './snapshotFormat.ts'

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function enumByte(r: ByteReader, max: number, what: string): number {
  const v = r.u8()
  if (v > max) throw new SnapshotFormatError(`bad ${what} ${v} at offset ${r.offset - 1}`)
  return v
}

function readOrder(r: ByteReader, accountId: number, marketCount: number): Order {
  const orderId = r.varUint()
  const marketId = r.varUint()
  if (marketId >= marketCount) throw new SnapshotFormatError(`order ${orderId} in unknown market ${marketId}`)
  const side = enumByte(r, 1, 'side') as Side
  const kind = enumByte(r, 5, 'order kind') as OrderKind
  const tif = enumByte(r, 3, 'time in force') as TimeInForce
  const flags = enumByte(r, FLAG_REDUCE_ONLY | FLAG_POST_ONLY | FLAG_TRIGGERED, 'order flags')
  const stp = enumByte(r, 2, 'self-trade prevention') as SelfTradePrevention
  const clientOrderId = r.varBig()
  const priceTicks = r.varUint()
  const remainingLots = r.varUint()
  const triggerPriceTicks = r.varUint()
  const expiresAtMs = r.varUint()
  const order = new Order(
    orderId,
    accountId,
    marketId,
    side,
    kind,
    tif,
    priceTicks,
    remainingLots,
    (flags & FLAG_REDUCE_ONLY) !== 0,
    (flags & FLAG_POST_ONLY) !== 0,
    stp,
    clientOrderId,
    triggerPriceTicks,
    expiresAtMs,
  )
  order.triggered = (flags & FLAG_TRIGGERED) !== 0
  return order
}

function readAccount(r: ByteReader, state: EngineState, accountId: number, allOrders: Order[]): void {
  const addressAt = r.offset
  const address = r.addressExact()
  let account: Account
  if (accountId === INSURANCE_FUND_ACCOUNT_ID) {
    account = state.insuranceFund
    if (address !== account.address) throw new SnapshotFormatError(`insurance fund has address ${address}`)
  } else {
    if (state.accountIdByAddress.has(address)) throw new SnapshotFormatError(`duplicate account ${address}`)
    account = new Account(accountId, address)
    state.accounts.push(account)
    state.accountIdByAddress.set(address, accountId)
  }
  account.collateralQuantums = r.varBig()

  const marketCount = state.markets.length
  const accountMarkets = r.varUint()
  let lastMarketId = -1
  for (let i = 0; i < accountMarkets; i++) {
    const marketId = r.varUint()
    if (marketId >= marketCount || marketId <= lastMarketId) {
      throw new SnapshotFormatError(`account ${accountId}: bad market id ${marketId}`)
    }
    lastMarketId = marketId
    const am = account.market(marketId)
    am.sizeLots = r.varInt()
    am.costBasisQuantums = r.varBig()
    am.fundingIndexSnapshot = r.varBig()
    am.openBidLots = r.varUint()
    am.openAskLots = r.varUint()
    am.openOrderCount = r.varUint()
    if (am.sizeLots !== 0) state.markets[marketId]!.holders.add(accountId)
  }

  const orderCount = r.varUint()
  if (orderCount > 0) {
    const orders = new Map<number, Order>()
    account.orders = orders
    for (let i = 0; i < orderCount; i++) {
      const order = readOrder(r, accountId, marketCount)
      if (state.ordersById.has(order.orderId))
        throw new SnapshotFormatError(`duplicate order ${order.orderId}`)
      orders.set(order.orderId, order)
      state.ordersById.set(order.orderId, order)
      if (order.clientOrderId !== 0n) {
        account.clientOrderIds ??= new Map()
        account.clientOrderIds.set(order.clientOrderId, order)
      }
      allOrders.push(order)
    }
  }

  const signerCount = r.varUint()
  if (signerCount > 0) {
    const nonces = new Map<Address, number[]>()
    account.nonces = nonces
    for (let i = 0; i < signerCount; i++) {
      // The account's own key shares the account's address string.
      const signer = r.repeats(addressAt, 25) ? account.address : r.addressExact()
      const n = r.varUint()
      if (n > r.remaining) throw new SnapshotFormatError(`nonce count ${n} exceeds the data`)
      const window: number[] = []
      for (let k = 0; k < n; k++) window.push(r.varInt())
      nonces.set(signer, window)
    }
  }

  const agentCount = r.varUint()
  if (agentCount > 0) {
    const agents = new Map<Address, number>()
    account.agents = agents
    for (let i = 0; i < agentCount; i++) {
      const agent = r.addressExact()
      agents.set(agent, r.varUint())
    }
  }
}

/**
 * Rebuilds an `EngineState` from `serializeSnapshot` bytes under the same `config` (checked by hash).
 * Every derived index is rebuilt: books (resting orders inserted in ascending order id, which is their time
 * priority), untriggered orders, ordersById, clientOrderIds, holders, the expiry queue, accountIdByAddress,
 * the liquidation index and edge accounts. Every account is marked dirty. Malformed input throws `SnapshotFormatError`.
 */
export function restoreSnapshot(config: EngineConfig, bytes: Uint8Array): EngineState {
  const r = new ByteReader(bytes)
  if (!sameBytes(r.raw(SNAPSHOT_MAGIC.length), SNAPSHOT_MAGIC))
    throw new SnapshotFormatError('not an SCE snapshot')
  const version = r.u32()
  if (version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`unsupported snapshot version ${version}`)
  if (!sameBytes(r.raw(32), snapshotConfigHash(config))) {
    throw new SnapshotFormatError('the snapshot was taken under a different engine config')
  }

  const state = new EngineState(config)
  state.seq = r.varUint()
  state.timestampMs = r.varUint()
  state.nextOrderId = r.varUint()
  state.feesQuantums = r.varBig()
  state.totalDepositedQuantums = r.varBig()
  state.totalWithdrawnQuantums = r.varBig()
  state.fundingDustNanoQuantums = r.varBig()
  state.inboxConsumed = r.varUint()

  const withdrawalCount = r.varUint()
  for (let i = 0; i < withdrawalCount; i++) {
    const accountId = r.varUint()
    const account = r.addressExact()
    const amountQuantums = r.varBig()
    const forced = r.bool()
    state.pendingWithdrawals.push({ accountId, account, amountQuantums, forced })
  }

  const marketCount = r.varUint()
  if (marketCount !== state.markets.length) {
    throw new SnapshotFormatError(`snapshot has ${marketCount} markets, config ${state.markets.length}`)
  }
  for (const m of state.markets) {
    m.markPriceTicks = r.varUint()
    m.oraclePublishTimeMs = r.varUint()
    m.reduceOnly = r.bool()
    m.fundingIndexNanoQuantumsPerLot = r.varBig()
    m.fundingPeriodStartMs = r.varUint()
    m.premiumSumPpm = r.varInt()
    m.premiumSampleCount = r.varUint()
    m.lastSampleMs = r.varUint()
    m.openInterestLots = r.varUint()
  }

  const accountCount = r.varUint()
  if (accountCount < 1) throw new SnapshotFormatError('no insurance fund account')
  const allOrders: Order[] = []
  for (let accountId = 0; accountId < accountCount; accountId++) readAccount(r, state, accountId, allOrders)
  if (r.remaining !== 0) throw new SnapshotFormatError(`${r.remaining} trailing bytes`)

  // Ascending order id is time priority: inserting in that order rebuilds every level's queue.
  allOrders.sort((a, b) => a.orderId - b.orderId)
  const expiring: Order[] = []
  for (const order of allOrders) {
    const market = state.markets[order.marketId]!
    if (isTriggerKind(order.kind) && !order.triggered) market.untriggered.set(order.orderId, order)
    else market.book.insert(order)
    if (order.tif === Tif.GTT) expiring.push(order)
  }
  // Stable sort: equal expiries stay in order-id order.
  expiring.sort((a, b) => a.expiresAtMs - b.expiresAtMs)
  state.expiryQueue = expiring.map((o) => ({ expiresAtMs: o.expiresAtMs, orderId: o.orderId }))

  // Same rule as the engine's re-indexing after a check: the fund is never indexed or liquidated.
  for (const account of state.accounts) {
    const id = account.accountId
    state.dirtyAccounts.add(id)
    if (id === INSURANCE_FUND_ACCOUNT_ID || !account.hasPositions()) continue
    if (state.liquidationIndex.update(state, account, accountRisk(state, account))) state.edgeAccounts.add(id)
  }
  return state
}
