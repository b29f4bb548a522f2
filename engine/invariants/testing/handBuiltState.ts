import type { Address } from 'viem'
import { Order } from '../../book/order.ts'
import type { EngineConfig } from '../../config.ts'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../../ops.ts'
import { isTriggerKind } from '../../snapshot/snapshotFormat.ts'
import { Account } from '../../state/account.ts'
import { EngineState } from '../../state/engineState.ts'

/**
 * Builds engine states by hand for digest, snapshot and invariant tests, keeping every derived index
 * consistent the way the transitions do, but without matching, margin checks or events. Test code only.
 */

export function addAccount(state: EngineState, address: Address, depositQuantums = 0n): Account {
  const accountId = state.accounts.length
  const account = new Account(accountId, address)
  state.accounts.push(account)
  state.accountIdByAddress.set(address, accountId)
  account.collateralQuantums += depositQuantums
  state.totalDepositedQuantums += depositQuantums
  state.dirtyAccounts.add(accountId)
  return account
}

function addLots(
  state: EngineState,
  account: Account,
  marketId: number,
  lots: number,
  notionalQuantums: bigint,
): void {
  const market = state.markets[marketId]!
  const am = account.market(marketId)
  if (am.sizeLots !== 0 && Math.sign(am.sizeLots) !== Math.sign(lots)) {
    throw new Error('handBuiltState: only opens or adds to positions')
  }
  if (am.sizeLots === 0) am.fundingIndexSnapshot = market.fundingIndexNanoQuantumsPerLot
  const before = am.sizeLots
  am.sizeLots += lots
  am.costBasisQuantums += notionalQuantums
  market.openInterestLots += Math.max(am.sizeLots, 0) - Math.max(before, 0)
  if (am.sizeLots !== 0) market.holders.add(account.accountId)
  state.dirtyAccounts.add(account.accountId)
}

/**
 * `long` buys and `short` sells `lots` at `priceTicks`, without fees: both open or add to their
 * position, so unrealized PnL stays zero-sum and collateral does not move.
 */
export function openPair(
  state: EngineState,
  long: Account,
  short: Account,
  marketId: number,
  lots: number,
  priceTicks: number,
): void {
  const notional = BigInt(lots) * BigInt(priceTicks) * state.markets[marketId]!.config.quantumsPerLotTick
  addLots(state, long, marketId, lots, notional)
  addLots(state, short, marketId, -lots, -notional)
}

export interface HandOrder {
  marketId?: number
  side: Side
  priceTicks: number
  lots: number
  kind?: OrderKind
  tif?: TimeInForce
  reduceOnly?: boolean
  postOnly?: boolean
  stp?: SelfTradePrevention
  clientOrderId?: bigint
  triggerPriceTicks?: number
  expiresAtMs?: number
  triggered?: boolean
}

/** Registers an open order and rests it in its book, or in the untriggered set for an untriggered stop. */
export function addOrder(state: EngineState, account: Account, spec: HandOrder): Order {
  const marketId = spec.marketId ?? 0
  const market = state.markets[marketId]!
  const order = new Order(
    state.nextOrderId++,
    account.accountId,
    marketId,
    spec.side,
    spec.kind ?? OrderKind.Limit,
    spec.tif ?? TimeInForce.GTC,
    spec.priceTicks,
    spec.lots,
    spec.reduceOnly ?? false,
    spec.postOnly ?? false,
    spec.stp ?? SelfTradePrevention.ExpireMaker,
    spec.clientOrderId ?? 0n,
    spec.triggerPriceTicks ?? 0,
    spec.expiresAtMs ?? 0,
  )
  order.triggered = spec.triggered ?? false
  account.orders ??= new Map()
  account.orders.set(order.orderId, order)
  if (order.clientOrderId !== 0n) {
    account.clientOrderIds ??= new Map()
    account.clientOrderIds.set(order.clientOrderId, order)
  }
  state.ordersById.set(order.orderId, order)
  const am = account.market(marketId)
  am.openOrderCount++
  if (isTriggerKind(order.kind) && !order.triggered) {
    market.untriggered.set(order.orderId, order)
  } else {
    market.book.insert(order)
    if (order.side === Side.Buy) am.openBidLots += order.remainingLots
    else am.openAskLots += order.remainingLots
  }
  if (order.tif === TimeInForce.GTT) {
    state.expiryQueue.push({ expiresAtMs: order.expiresAtMs, orderId: order.orderId })
    state.expiryQueue.sort((a, b) => a.expiresAtMs - b.expiresAtMs || a.orderId - b.orderId)
  }
  state.dirtyAccounts.add(account.accountId)
  return order
}

export function setMark(state: EngineState, marketId: number, priceTicks: number, publishTimeMs = 0): void {
  const market = state.markets[marketId]!
  market.markPriceTicks = priceTicks
  market.oraclePublishTimeMs = publishTimeMs
  market.reduceOnly = false
}

/**
 * A small state with two markets marked, three funded accounts plus the insurance fund, positions on
 * both sides, resting orders, an untriggered stop, a GTT order, nonces and an agent.
 */
export function sampleState(config: EngineConfig): EngineState {
  const state = new EngineState(config)
  setMark(state, 0, 600_000, 1_000)
  setMark(state, 1, 300_000, 1_000)
  state.insuranceFund.collateralQuantums = 5_000_000n
  state.totalDepositedQuantums += 5_000_000n
  const a = addAccount(state, '0x00000000000000000000000000000000000000a1', 10_000_000_000n)
  const b = addAccount(state, '0x00000000000000000000000000000000000000B2' as Address, 20_000_000_000n)
  const c = addAccount(state, '0x00000000000000000000000000000000000000c3', 7_000_000_000n)
  openPair(state, a, b, 0, 100, 600_000)
  openPair(state, c, a, 1, 40, 300_000)
  addOrder(state, a, { side: Side.Buy, priceTicks: 599_000, lots: 5, clientOrderId: 77n })
  addOrder(state, b, {
    side: Side.Sell,
    priceTicks: 601_000,
    lots: 3,
    tif: TimeInForce.GTT,
    expiresAtMs: 90_000,
  })
  addOrder(state, c, { side: Side.Buy, priceTicks: 599_000, lots: 2 })
  addOrder(state, c, {
    marketId: 1,
    side: Side.Sell,
    priceTicks: 290_000,
    lots: 4,
    kind: OrderKind.StopLimit,
    triggerPriceTicks: 295_000,
  })
  a.nonces = new Map([[a.address, [1_000, 1_001, 1_005]]])
  a.agents = new Map([['0x00000000000000000000000000000000000000d4', 500_000]])
  state.seq = 12
  state.timestampMs = 2_000
  state.inboxConsumed = 4
  return state
}
