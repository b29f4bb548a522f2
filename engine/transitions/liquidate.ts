import { CancelReason } from '../events.ts'
import { OrderKind, SelfTradePrevention, Side, TimeInForce } from '../ops.ts'
import { applyFill } from '../positions/applyFill.ts'
import {
  type AccountRisk,
  accountRisk,
  isLiquidatable,
  isLiquidatableNow,
  tieredMarginQuantums,
} from '../risk/margin.ts'
import type { Account } from '../state/account.ts'
import { type EngineState, INSURANCE_FUND_ACCOUNT_ID } from '../state/engineState.ts'
import type { MarketState } from '../state/marketState.ts'
import { divCeil, divFloor, MAX_PRICE_TICKS, PPM_BIG } from '../units.ts'
import { cancelAllOrders } from './cancelOrder.ts'
import type { Tx } from './context.ts'
import { executeOrder } from './executeOrder.ts'

/** Rounds of re-checking after liquidations touched further accounts; a cascade deeper than this is finished by the next operation. */
const MAX_ROUNDS = 64
/** Attempts to reduce one position through the book before the backstop takes over. */
const BOOK_ATTEMPTS = 3

/**
 * Brings the liquidation index up to date for every account changed since the last price or funding move.
 * Runs before a move, so each account is indexed at the marks and funding it was checked at, exactly as if
 * it had been indexed right after its check.
 */
export function flushLiquidationIndex(state: EngineState): void {
  const pending = state.indexPending
  if (pending.size === 0) return
  const index = state.liquidationIndex
  for (const id of pending) {
    const account = state.accounts[id]!
    if (!account.hasPositions()) index.remove(id)
    else if (index.update(state, account, accountRisk(state, account))) state.edgeAccounts.add(id)
    else state.edgeAccounts.delete(id)
  }
  pending.clear()
}

/** After a price or funding-index move: queue every account the index says may have crossed, and the edge accounts. */
export function collectCrossed(tx: Tx, market: MarketState): void {
  const state = tx.state
  flushLiquidationIndex(state)
  for (const id of state.liquidationIndex.takeCrossed(state, market.config.marketId)) tx.touched.add(id)
  for (const id of state.edgeAccounts) tx.touched.add(id)
}

// Scratch lists of one round: runLiquidations is never re-entered.
const round: number[] = []
const due: number[] = []

/**
 * Liquidates, round by round, in ascending account id, exactly the accounts that are liquidatable at the
 * start of the round; accounts that a liquidation of the round touches (makers, deleveraging
 * counterparties) are checked in the next round. Fixing each round's set first is what makes the result
 * independent of the index, which is not part of the state: the index may return any superset of the
 * accounts at risk (a restored engine rebuilds it with other thresholds), and a fine account found by one
 * index and not by the other changes nothing. Non-liquidatable accounts are only re-indexed.
 */
export function runLiquidations(tx: Tx): void {
  const state = tx.state
  for (let r = 0; r < MAX_ROUNDS && tx.touched.size > 0; r++) {
    tx.touched.drainSorted(round)
    due.length = 0
    for (let i = 0; i < round.length; i++) {
      const id = round[i]!
      if (id === INSURANCE_FUND_ACCOUNT_ID) continue
      const account = state.accounts[id]!
      if (account.hasPositions() && isLiquidatableNow(state, account)) due.push(id)
      else reindex(tx, account, false)
    }
    for (let i = 0; i < due.length; i++) checkAccount(tx, due[i]!)
  }
}

function checkAccount(tx: Tx, accountId: number): void {
  if (accountId === INSURANCE_FUND_ACCOUNT_ID) return
  const state = tx.state
  const account = state.accounts[accountId]!
  const liquidatable = account.hasPositions() && isLiquidatableNow(state, account)
  if (liquidatable) liquidateAccount(tx, account, accountRisk(state, account))
  reindex(tx, account, liquidatable)
}

/**
 * Re-indexes an account after its check. One without a position leaves the index now; one still
 * liquidatable after its liquidation (an edge account) is updated now; any other is queued, and its
 * entries are refreshed before the next price or funding move (`update` would index it and return false).
 * `recheck` is false when the caller has just found the account not liquidatable and changed nothing.
 */
function reindex(tx: Tx, account: Account, recheck: boolean): void {
  const state = tx.state
  const id = account.accountId
  if (!account.hasPositions()) {
    state.liquidationIndex.remove(id)
    state.indexPending.delete(id)
    state.edgeAccounts.delete(id)
    return
  }
  if (recheck && isLiquidatableNow(state, account)) {
    state.indexPending.delete(id)
    if (state.liquidationIndex.update(state, account, accountRisk(state, account))) state.edgeAccounts.add(id)
    else state.edgeAccounts.delete(id)
    return
  }
  state.indexPending.add(id)
  state.edgeAccounts.delete(id)
}

/**
 * The price at which closing the whole position in `market` leaves the account at zero equity, other
 * marks held. The liquidation fee is not in it: the fee is capped at what equity remains, so it can
 * never take the account below zero. A sell limit rounds up and a buy limit rounds down, so a
 * liquidation fill is never worse for the account than bankruptcy. 0 when no positive price qualifies.
 */
export function bankruptcyPriceTicks(equityQuantums: bigint, sizeLots: number, market: MarketState): number {
  const q = market.config.quantumsPerLotTick
  const mark = BigInt(market.markPriceTicks)
  const absSize = BigInt(sizeLots < 0 ? -sizeLots : sizeLots)
  let price: bigint
  if (sizeLots > 0) {
    price = divCeil(mark * absSize * q - equityQuantums, absSize * q)
    if (price < 1n) price = 1n
  } else {
    price = divFloor(mark * absSize * q + equityQuantums, absSize * q)
    if (price < 1n) return 0
  }
  return price > BigInt(MAX_PRICE_TICKS) ? MAX_PRICE_TICKS : Number(price)
}

/**
 * Lots to close in one market so that, at the mark, maintenance margin falls to equity: each lot closed
 * frees its maintenance margin but costs its liquidation fee, so the deficit is divided by the
 * difference; a tenth more covers slippage; rounded up.
 */
function lotsToRestore(risk: AccountRisk, sizeLots: number, market: MarketState): number {
  const absSize = sizeLots < 0 ? -sizeLots : sizeLots
  const notional = BigInt(absSize) * BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick
  const freed =
    tieredMarginQuantums(market.config.marginTiers, notional, true) -
    divCeil(notional * BigInt(market.config.liquidationFeePpm), PPM_BIG)
  if (freed <= 0n) return absSize
  const deficit = risk.maintenanceMarginQuantums - risk.equityQuantums
  const lots = divCeil(BigInt(absSize) * deficit * 11n, freed * 10n)
  return lots >= BigInt(absSize) ? absSize : lots < 1n ? 1 : Number(lots)
}

/** Markets where the account holds a position, in ascending market id. */
function positionMarkets(tx: Tx, account: Account): MarketState[] {
  const out: MarketState[] = []
  for (let i = 0; i < account.markets.length; i++) {
    const am = account.markets[i]
    if (am !== undefined && am.sizeLots !== 0) out.push(tx.state.markets[i]!)
  }
  return out
}

/**
 * The liquidation sequence (docs/protocol.md, "Liquidation"):
 * 1. cancel all of the account's orders;
 * 2. per market, in id order: reduce through the book with IOC orders limited to the bankruptcy price,
 *    until the account is back above maintenance margin;
 * 3. whatever remains goes to the insurance fund at the bankruptcy price, if the fund stays above its
 *    own maintenance margin afterwards;
 * 4. otherwise the remaining positions are auto-deleveraged against the opposite positions, ranked.
 */
export function liquidateAccount(tx: Tx, account: Account, risk: AccountRisk): void {
  cancelAllOrders(tx, account, null, CancelReason.Liquidation)
  for (const market of positionMarkets(tx, account)) {
    const am = account.market(market.config.marketId)
    for (let attempt = 0; attempt < BOOK_ATTEMPTS; attempt++) {
      if (!isLiquidatable(risk) || am.sizeLots === 0) break
      const limit = bankruptcyPriceTicks(risk.equityQuantums, am.sizeLots, market)
      if (limit === 0) break
      const before = am.sizeLots
      executeOrder(tx, {
        account,
        market,
        side: before > 0 ? Side.Sell : Side.Buy,
        kind: OrderKind.Market,
        tif: TimeInForce.IOC,
        limitPriceTicks: limit,
        sizeLots: lotsToRestore(risk, before, market),
        reduceOnly: true,
        postOnly: false,
        stp: SelfTradePrevention.ExpireMaker,
        clientOrderId: 0n,
        expiresAtMs: 0,
        triggerPriceTicks: 0,
        liquidation: true,
        fromTrigger: false,
        replacing: null,
      })
      const closed = Math.abs(before) - Math.abs(am.sizeLots)
      risk = accountRisk(tx.state, account)
      if (closed === 0) break
      tx.events.push({
        type: 'liquidation',
        accountId: account.accountId,
        marketId: market.config.marketId,
        sizeLots: closed,
        priceTicks: limit,
        via: 'book',
      })
    }
    if (!isLiquidatable(risk)) return
  }
  if (!isLiquidatable(risk)) return
  if (!insuranceTakeover(tx, account, risk)) deleverage(tx, account, risk)
}

/**
 * Step 5, after a price or funding move: the fund itself. When it holds positions and its equity is below
 * its maintenance margin, it deleverages them as in step 4, so it never carries a loss it cannot pay: at
 * the mark its equity is unchanged, and a deficit left by a gap move is shared by the counterparties.
 * Returns whether it did (the counterparties are then in `tx.touched`, to be checked).
 */
export function deleverageFundIfDue(tx: Tx): boolean {
  const state = tx.state
  const fund = state.insuranceFund
  if (!fund.hasPositions() || !isLiquidatableNow(state, fund)) return false
  // Its `deleverage` events (liquidatedAccountId 0) say what it closed, against whom.
  deleverage(tx, fund, accountRisk(state, fund))
  return true
}

/** Moves a whole position from one account to another at the mark price, fee-free. */
function transferAtMark(tx: Tx, from: Account, to: Account, market: MarketState, lots: number): void {
  const notional = BigInt(lots) * BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick
  applyFill(tx.state, from, market, -lots, -notional, 0n, tx.events)
  applyFill(tx.state, to, market, lots, notional, 0n, tx.events)
}

/**
 * Step 3. Taking the positions at the mark and then settling the account's remaining equity E into the
 * fund is the same as taking them at the joint bankruptcy price; it is exact and needs no division.
 */
function insuranceTakeover(tx: Tx, account: Account, risk: AccountRisk): boolean {
  const state = tx.state
  const fund = state.insuranceFund
  const fundRisk = accountRisk(state, fund)
  let fundMm = 0n
  for (let i = 0; i < state.markets.length; i++) {
    const market = state.markets[i]!
    const size = (fund.markets[i]?.sizeLots ?? 0) + (account.markets[i]?.sizeLots ?? 0)
    const notional =
      BigInt(size < 0 ? -size : size) * BigInt(market.markPriceTicks) * market.config.quantumsPerLotTick
    fundMm += tieredMarginQuantums(market.config.marginTiers, notional, true)
  }
  const fundEquityAfter = fundRisk.equityQuantums + risk.equityQuantums
  if (fundEquityAfter < fundMm || fundEquityAfter < 0n) return false
  for (const market of positionMarkets(tx, account)) {
    const size = account.market(market.config.marketId).sizeLots
    transferAtMark(tx, account, fund, market, size)
    tx.events.push({
      type: 'liquidation',
      accountId: account.accountId,
      marketId: market.config.marketId,
      sizeLots: size < 0 ? -size : size,
      priceTicks: market.markPriceTicks,
      via: 'insurance',
    })
  }
  settleRemainder(tx, account, fund)
  return true
}

/** After its positions are gone, the account's collateral (its equity, of either sign) goes to the fund. */
function settleRemainder(tx: Tx, account: Account, fund: Account): void {
  const remainder = account.collateralQuantums
  account.collateralQuantums = 0n
  fund.collateralQuantums += remainder
  tx.state.dirtyAccounts.add(account.accountId)
  tx.state.dirtyAccounts.add(fund.accountId)
  tx.events.push({ type: 'collateral', accountId: account.accountId, collateralQuantums: 0n })
  tx.events.push({
    type: 'collateral',
    accountId: fund.accountId,
    collateralQuantums: fund.collateralQuantums,
  })
}

interface Candidate {
  account: Account
  absLots: number
  /** Unrealized PnL and |cost basis| of the position, equity and position notional of the account. */
  pnl: bigint
  basis: bigint
  equity: bigint
  notional: bigint
}

/**
 * The ranking: profitable positions first; among them, higher (PnL / |cost basis|) × (notional / equity)
 * first, that is return on the position times the account's leverage in it; then the rest by PnL,
 * highest first; ties by ascending account id.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  const aProfit = a.pnl > 0n && a.equity > 0n && a.basis > 0n
  const bProfit = b.pnl > 0n && b.equity > 0n && b.basis > 0n
  if (aProfit !== bProfit) return aProfit ? -1 : 1
  if (aProfit) {
    const left = a.pnl * a.notional * b.basis * b.equity
    const right = b.pnl * b.notional * a.basis * a.equity
    if (left !== right) return left > right ? -1 : 1
  } else if (a.pnl !== b.pnl) {
    return a.pnl > b.pnl ? -1 : 1
  }
  return a.account.accountId - b.account.accountId
}

/**
 * Step 4. Each remaining position closes against opposite positions in ranking order, at the mark; the
 * account's remaining equity then settles: a surplus goes to the fund, a deficit is shared by the
 * counterparties in proportion to the notional each took (rounded down, the last quantums of the
 * remainder going one each to the highest ranked), which is the same as trading at the bankruptcy price.
 */
function deleverage(tx: Tx, account: Account, _risk: AccountRisk): void {
  const state = tx.state
  const takers: { account: Account; notional: bigint }[] = []
  for (const market of positionMarkets(tx, account)) {
    const marketId = market.config.marketId
    const size = account.market(marketId).sizeLots
    const mark = BigInt(market.markPriceTicks)
    const q = market.config.quantumsPerLotTick
    const candidates: Candidate[] = []
    for (const holderId of market.holders) {
      const holder = state.accounts[holderId]!
      const hs = holder.markets[marketId]!.sizeLots
      if (holderId === account.accountId || Math.sign(hs) === Math.sign(size)) continue
      const absLots = hs < 0 ? -hs : hs
      const am = holder.markets[marketId]!
      const notional = BigInt(absLots) * mark * q
      candidates.push({
        account: holder,
        absLots,
        pnl: BigInt(hs) * mark * q - am.costBasisQuantums,
        basis: am.costBasisQuantums < 0n ? -am.costBasisQuantums : am.costBasisQuantums,
        equity: accountRisk(state, holder).equityQuantums,
        notional,
      })
    }
    candidates.sort(compareCandidates)
    let remaining = size < 0 ? -size : size
    for (const c of candidates) {
      if (remaining === 0) break
      const lots = c.absLots < remaining ? c.absLots : remaining
      remaining -= lots
      // The counterparty reduces its position; the liquidated account reduces its own.
      transferAtMark(tx, account, c.account, market, size > 0 ? lots : -lots)
      takers.push({ account: c.account, notional: BigInt(lots) * mark * q })
      tx.touched.add(c.account.accountId)
      tx.events.push({
        type: 'deleverage',
        marketId,
        liquidatedAccountId: account.accountId,
        counterpartyAccountId: c.account.accountId,
        sizeLots: lots,
        priceTicks: market.markPriceTicks,
      })
    }
  }
  const remainder = account.collateralQuantums
  if (remainder >= 0n || takers.length === 0) {
    // The fund deleveraging itself keeps its surplus.
    if (account !== state.insuranceFund) settleRemainder(tx, account, state.insuranceFund)
    return
  }
  const deficit = -remainder
  let total = 0n
  for (const t of takers) total += t.notional
  let assigned = 0n
  const shares = takers.map((t) => {
    // Rounded down; the remainder is handed out below.
    const share = (deficit * t.notional) / total
    assigned += share
    return share
  })
  for (let i = 0; assigned < deficit; i = (i + 1) % shares.length) {
    shares[i] = shares[i]! + 1n
    assigned++
  }
  for (let i = 0; i < takers.length; i++) {
    const t = takers[i]!.account
    t.collateralQuantums -= shares[i]!
    state.dirtyAccounts.add(t.accountId)
    tx.events.push({ type: 'collateral', accountId: t.accountId, collateralQuantums: t.collateralQuantums })
  }
  account.collateralQuantums = 0n
  state.dirtyAccounts.add(account.accountId)
  tx.events.push({ type: 'collateral', accountId: account.accountId, collateralQuantums: 0n })
}
