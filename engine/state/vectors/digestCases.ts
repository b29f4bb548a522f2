/**
 * Test vectors for the state digests: case descriptions as plain JSON data, builders that turn them into
 * engine objects, and a reference encoder written with viem's `encodePacked` and `keccak256` straight from
 * docs/protocol.md, never through the engine's ByteWriter or hash-wasm. Test code only.
 */
import { type Address, encodePacked, type Hex, keccak256 } from 'viem'
import { Order } from '../../book/order.ts'
import type { EngineConfig, MarketConfig } from '../../config.ts'
import type { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../../ops.ts'
import { Account } from '../account.ts'
import { EngineState, type PendingWithdrawal } from '../engineState.ts'

export interface MarketConfigJson {
  marketId: number
  symbol: string
  oracleId: number
  quantumsPerLotTick: string
  minOrderLots: number
  maxOrderLots: number
  marginTiers: { upToNotionalQuantums: string | null; imfPpm: number; mmfPpm: number }[]
  makerFeePpm: number
  takerFeePpm: number
  liquidationFeePpm: number
  funding: {
    periodMs: number
    sampleIntervalMs: number
    impactNotionalQuantums: string
    maxRatePpm: number
    interestRatePpm: number
  }
  priceBandPpm: number
  oracleMaxAgeMs: number
}

export interface EngineConfigJson {
  chainId: string
  settlementAddress: Address
  markets: MarketConfigJson[]
  oracle: { signers: Address[]; threshold: number; maxPublishDelayMs: number }
  nonceWindow: { size: number; pastMs: number; futureMs: number }
  maxOpenOrdersPerAccount: number
  accountTreeDepth: number
}

export interface AccountMarketJson {
  marketId: number
  sizeLots: number
  costBasisQuantums: string
  fundingIndexSnapshot: string
  openBidLots: number
  openAskLots: number
  openOrderCount: number
}

export interface OrderJson {
  orderId: number
  marketId: number
  side: number
  kind: number
  tif: number
  reduceOnly: boolean
  postOnly: boolean
  stp: number
  clientOrderId: string
  priceTicks: number
  remainingLots: number
  triggerPriceTicks: number
  expiresAtMs: number
  triggered: boolean
}

export interface AccountJson {
  accountId: number
  address: Address
  collateralQuantums: string
  /** In any order; empty entries included on purpose (they are not committed). */
  markets: AccountMarketJson[]
  /** In map order, which the encoding must not depend on beyond order id. */
  orders: OrderJson[]
  nonces: [Address, number[]][]
  agents: [Address, number][]
}

export interface MarketLiveJson {
  markPriceTicks: number
  oraclePublishTimeMs: number
  reduceOnly: boolean
  fundingIndexNanoQuantumsPerLot: string
  fundingPeriodStartMs: number
  premiumSumPpm: number
  premiumSampleCount: number
  lastSampleMs: number
  openInterestLots: number
}

export interface GlobalsJson {
  seq: number
  timestampMs: number
  nextOrderId: number
  feesQuantums: string
  totalDepositedQuantums: string
  totalWithdrawnQuantums: string
  fundingDustNanoQuantums: string
  inboxConsumed: number
  accountCount: number
  pendingWithdrawals: { accountId: number; account: Address; amountQuantums: string; forced: boolean }[]
}

export type DigestCase =
  | { kind: 'engineConfig'; name: string; expected: Hex }
  | { kind: 'marketConfig'; name: string; marketId: number; expected: Hex }
  | { kind: 'accountData'; name: string; account: AccountJson; expected: Hex }
  | { kind: 'markets'; name: string; markets: MarketLiveJson[]; expected: Hex }
  | { kind: 'globals'; name: string; globals: GlobalsJson; expected: Hex }

export interface DigestVectors {
  config: EngineConfigJson
  cases: DigestCase[]
}

// ---- JSON → engine objects ----

export function marketConfigFromJson(j: MarketConfigJson): MarketConfig {
  return {
    ...j,
    quantumsPerLotTick: BigInt(j.quantumsPerLotTick),
    marginTiers: j.marginTiers.map((t) => ({
      upToNotionalQuantums: t.upToNotionalQuantums === null ? null : BigInt(t.upToNotionalQuantums),
      imfPpm: t.imfPpm,
      mmfPpm: t.mmfPpm,
    })),
    funding: { ...j.funding, impactNotionalQuantums: BigInt(j.funding.impactNotionalQuantums) },
  }
}

export function engineConfigFromJson(j: EngineConfigJson): EngineConfig {
  return { ...j, chainId: BigInt(j.chainId), markets: j.markets.map(marketConfigFromJson) }
}

export function accountFromJson(j: AccountJson): Account {
  const account = new Account(j.accountId, j.address)
  account.collateralQuantums = BigInt(j.collateralQuantums)
  for (const m of j.markets) {
    const am = account.market(m.marketId)
    am.sizeLots = m.sizeLots
    am.costBasisQuantums = BigInt(m.costBasisQuantums)
    am.fundingIndexSnapshot = BigInt(m.fundingIndexSnapshot)
    am.openBidLots = m.openBidLots
    am.openAskLots = m.openAskLots
    am.openOrderCount = m.openOrderCount
  }
  if (j.orders.length > 0) {
    account.orders = new Map()
    for (const o of j.orders) {
      const order = new Order(
        o.orderId,
        j.accountId,
        o.marketId,
        o.side as Side,
        o.kind as OrderKind,
        o.tif as TimeInForce,
        o.priceTicks,
        o.remainingLots,
        o.reduceOnly,
        o.postOnly,
        o.stp as SelfTradePrevention,
        BigInt(o.clientOrderId),
        o.triggerPriceTicks,
        o.expiresAtMs,
      )
      order.triggered = o.triggered
      account.orders.set(o.orderId, order)
    }
  }
  if (j.nonces.length > 0) account.nonces = new Map(j.nonces.map(([a, n]) => [a, [...n]]))
  if (j.agents.length > 0) account.agents = new Map(j.agents)
  return account
}

export function applyMarketsLive(state: EngineState, markets: MarketLiveJson[]): void {
  markets.forEach((j, i) => {
    const m = state.markets[i]!
    m.markPriceTicks = j.markPriceTicks
    m.oraclePublishTimeMs = j.oraclePublishTimeMs
    m.reduceOnly = j.reduceOnly
    m.fundingIndexNanoQuantumsPerLot = BigInt(j.fundingIndexNanoQuantumsPerLot)
    m.fundingPeriodStartMs = j.fundingPeriodStartMs
    m.premiumSumPpm = j.premiumSumPpm
    m.premiumSampleCount = j.premiumSampleCount
    m.lastSampleMs = j.lastSampleMs
    m.openInterestLots = j.openInterestLots
  })
}

export function stateWithGlobals(config: EngineConfig, g: GlobalsJson): EngineState {
  const state = new EngineState(config)
  state.seq = g.seq
  state.timestampMs = g.timestampMs
  state.nextOrderId = g.nextOrderId
  state.feesQuantums = BigInt(g.feesQuantums)
  state.totalDepositedQuantums = BigInt(g.totalDepositedQuantums)
  state.totalWithdrawnQuantums = BigInt(g.totalWithdrawnQuantums)
  state.fundingDustNanoQuantums = BigInt(g.fundingDustNanoQuantums)
  state.inboxConsumed = g.inboxConsumed
  for (let i = state.accounts.length; i < g.accountCount; i++) {
    state.accounts.push(new Account(i, `0x${i.toString(16).padStart(40, '0')}` as Address))
  }
  state.pendingWithdrawals = g.pendingWithdrawals.map(
    (p): PendingWithdrawal => ({ ...p, amountQuantums: BigInt(p.amountQuantums) }),
  )
  return state
}

// ---- Reference encoder (viem encodePacked), straight from the documented layouts ----

type Field = readonly [string, unknown]

function packed(fields: Field[]): Hex {
  return encodePacked(
    fields.map((f) => f[0]),
    fields.map((f) => f[1]),
  )
}

const i64 = (v: number): Field => ['int64', BigInt(v)]
const i256 = (v: string | bigint): Field => ['int256', BigInt(v)]
const u32 = (v: number): Field => ['uint32', v]
const u8 = (v: number): Field => ['uint8', v]
const bool = (v: boolean): Field => ['bool', v]
const addr = (v: Address): Field => ['address', v.toLowerCase()]
const b32 = (v: Hex): Field => ['bytes32', v]

function byAddress(a: Address, b: Address): number {
  return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0
}

export function referenceAccountData(j: AccountJson): Hex {
  const f: Field[] = [i64(j.accountId), i256(j.collateralQuantums)]
  const markets = j.markets
    .filter((m) => !(m.sizeLots === 0 && m.openOrderCount === 0 && BigInt(m.costBasisQuantums) === 0n))
    .sort((a, b) => a.marketId - b.marketId)
  f.push(u32(markets.length))
  for (const m of markets) {
    f.push(i64(m.marketId), i64(m.sizeLots), i256(m.costBasisQuantums), i256(m.fundingIndexSnapshot))
    f.push(i64(m.openBidLots), i64(m.openAskLots), i64(m.openOrderCount))
  }
  const orders = [...j.orders].sort((a, b) => a.orderId - b.orderId)
  f.push(u32(orders.length))
  for (const o of orders) {
    f.push(i64(o.orderId), i64(o.marketId), u8(o.side), u8(o.kind), u8(o.tif))
    f.push(u8((o.reduceOnly ? 1 : 0) + (o.postOnly ? 2 : 0)), u8(o.stp), i256(o.clientOrderId))
    f.push(
      i64(o.priceTicks),
      i64(o.remainingLots),
      i64(o.triggerPriceTicks),
      i64(o.expiresAtMs),
      bool(o.triggered),
    )
  }
  const nonces = [...j.nonces].sort((a, b) => byAddress(a[0], b[0]))
  f.push(u32(nonces.length))
  for (const [signer, values] of nonces) {
    f.push(addr(signer), u32(values.length))
    for (const n of [...values].sort((a, b) => a - b)) f.push(i64(n))
  }
  const agents = [...j.agents].sort((a, b) => byAddress(a[0], b[0]))
  f.push(u32(agents.length))
  for (const [agent, expiry] of agents) f.push(addr(agent), i64(expiry))
  return packed(f)
}

export function referenceMarketConfigHash(c: MarketConfigJson): Hex {
  const f: Field[] = [i64(c.marketId), u32(new TextEncoder().encode(c.symbol).length), ['string', c.symbol]]
  f.push(i64(c.oracleId), i256(c.quantumsPerLotTick), i64(c.minOrderLots), i64(c.maxOrderLots))
  f.push(u32(c.marginTiers.length))
  for (const t of c.marginTiers) {
    f.push(
      bool(t.upToNotionalQuantums !== null),
      i256(t.upToNotionalQuantums ?? '0'),
      i64(t.imfPpm),
      i64(t.mmfPpm),
    )
  }
  f.push(i64(c.makerFeePpm), i64(c.takerFeePpm), i64(c.liquidationFeePpm))
  f.push(i64(c.funding.periodMs), i64(c.funding.sampleIntervalMs), i256(c.funding.impactNotionalQuantums))
  f.push(
    i64(c.funding.maxRatePpm),
    i64(c.funding.interestRatePpm),
    i64(c.priceBandPpm),
    i64(c.oracleMaxAgeMs),
  )
  return keccak256(packed(f))
}

export function referenceEngineConfigHash(c: EngineConfigJson): Hex {
  const f: Field[] = [i256(c.chainId), addr(c.settlementAddress), u32(c.oracle.signers.length)]
  for (const s of c.oracle.signers) f.push(addr(s))
  f.push(i64(c.oracle.threshold), i64(c.oracle.maxPublishDelayMs))
  f.push(i64(c.nonceWindow.size), i64(c.nonceWindow.pastMs), i64(c.nonceWindow.futureMs))
  f.push(i64(c.maxOpenOrdersPerAccount), i64(c.accountTreeDepth), u32(c.markets.length))
  return keccak256(packed(f))
}

export function referenceMarketsHash(c: EngineConfigJson, live: MarketLiveJson[]): Hex {
  const f: Field[] = [u32(c.markets.length)]
  c.markets.forEach((mc, i) => {
    const m = live[i]!
    f.push(b32(referenceMarketConfigHash(mc)))
    f.push(i64(m.markPriceTicks), i64(m.oraclePublishTimeMs), bool(m.reduceOnly))
    f.push(i256(m.fundingIndexNanoQuantumsPerLot), i64(m.fundingPeriodStartMs), i64(m.premiumSumPpm))
    f.push(i64(m.premiumSampleCount), i64(m.lastSampleMs), i64(m.openInterestLots))
  })
  return keccak256(packed(f))
}

export function referenceGlobalsHash(c: EngineConfigJson, g: GlobalsJson): Hex {
  const w: Field[] = []
  for (const p of g.pendingWithdrawals) {
    w.push(i64(p.accountId), addr(p.account), i256(p.amountQuantums), bool(p.forced))
  }
  const withdrawalsHash = keccak256(w.length === 0 ? '0x' : packed(w))
  const f: Field[] = [i64(g.seq), i64(g.timestampMs), i64(g.nextOrderId)]
  f.push(
    i256(g.feesQuantums),
    i256(g.totalDepositedQuantums),
    i256(g.totalWithdrawnQuantums),
    i256(g.fundingDustNanoQuantums),
  )
  f.push(i64(g.inboxConsumed), u32(g.accountCount), b32(referenceEngineConfigHash(c)))
  f.push(u32(g.pendingWithdrawals.length), b32(withdrawalsHash))
  return keccak256(packed(f))
}

/** What a case should hash to, by the reference encoder. Throws on an unknown kind. */
export function referenceExpected(config: EngineConfigJson, c: DigestCase): Hex {
  switch (c.kind) {
    case 'engineConfig':
      return referenceEngineConfigHash(config)
    case 'marketConfig':
      return referenceMarketConfigHash(config.markets[c.marketId]!)
    case 'accountData':
      return keccak256(referenceAccountData(c.account))
    case 'markets':
      return referenceMarketsHash(config, c.markets)
    case 'globals':
      return referenceGlobalsHash(config, c.globals)
    default: {
      const unknown: never = c
      throw new Error(`unknown digest vector kind ${(unknown as { kind: string }).kind}`)
    }
  }
}
